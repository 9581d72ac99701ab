import CustosDomain
import CustosStorage
import Foundation
import Hummingbird
import MerkleLog

/// The public face of the logs (c2sp.org/tlog-tiles): checkpoints, tiles and entry bundles of the
/// legal-process log for anyone; the audit log's checkpoint for anyone but its tiles for auditors
/// only (its entries are private); the verifier keys, the trust policy, and the signed canary.
struct TransparencyRoutes {
    let services: CustosServices

    func register(on router: inout SecuredRouter) {
        router.on(.get, "/log/legal-process/checkpoint", .open, .api) { [services] _, _ in try await Self.checkpoint(.legalProcess, services) }
        router.on(.get, "/log/audit/checkpoint", .open, .api) { [services] _, _ in try await Self.checkpoint(.audit, services) }
        router.on(.get, "/log/legal-process/key", .open, .api) { [services] _, _ in Self.text(services.verifierKey(of: .legalProcess) + "\n") }
        router.on(.get, "/log/audit/key", .open, .api) { [services] _, _ in Self.text(services.verifierKey(of: .audit) + "\n") }
        router.on(.get, "/log/policy", .open, .api) { [services] _, _ in Self.text(services.publishedPolicy()) }
        router.on(.get, "/log/legal-process/tile/**", .open, .api) { [services] _, context in
            try await Self.tile(.legalProcess, context.parameters.getCatchAll().joined(separator: "/"), services)
        }
        router.on(.get, "/log/audit/tile/**", .staff([.auditor, .admin]), .api) { [services] _, context in
            try await Self.tile(.audit, context.parameters.getCatchAll().joined(separator: "/"), services)
        }
        router.on(.get, "/transparency/canary", .open, .api) { [services] _, _ in
            let note = try await services.canaries.latest()
            return Self.text(note != nil ? note! : try await services.publishCanary())
        }
    }

    static func text(_ text: String, cache: String = "no-cache") -> Response {
        Response(
            status: .ok, headers: [.contentType: "text/plain; charset=utf-8", .cacheControl: cache],
            body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    static func checkpoint(_ log: TransparencyLog, _ services: CustosServices) async throws -> Response {
        guard let checkpoint = try await services.logs.latestCheckpoint(log, publishedOnly: true) else {
            throw Problem(.notFound, detail: "the \(log.rawValue) log has no published checkpoint yet")
        }
        return text(checkpoint.note, cache: "max-age=5")
    }

    /// A tile or entry bundle, only within the latest published checkpoint (clients must not see
    /// more than a verified checkpoint commits to); full tiles are immutable.
    static func tile(_ log: TransparencyLog, _ path: String, _ services: CustosServices) async throws -> Response {
        guard let request = Tiles.parse(path) else { throw Problem(.notFound, detail: "not a tile path: \(path)") }
        let size = try await services.logs.latestCheckpoint(log, publishedOnly: true)?.size ?? 0
        let level = request.level ?? 0
        guard let available = Tiles.availableWidth(level: level, index: request.index, size: size),
            request.partialWidth.map({ $0 <= available }) ?? (available == Int(Tiles.width))
        else { throw Problem(.notFound, detail: "no such tile in the published tree") }
        let width = request.partialWidth ?? available
        let body: Data
        if request.level == nil {
            guard log == .legalProcess else { throw Problem(.notFound, detail: "the audit log's entries are not published") }
            body = Tiles.bundle(try await services.logs.entries(log, from: request.index * Tiles.width, count: width))
        } else {
            body = try await services.logs.nodeRun(log, height: level * Tiles.levelHeight, from: request.index * Tiles.width, count: width)
                .reduce(Data(), +)
        }
        guard body.count > 0 else { throw Problem(.notFound, detail: "no such tile") }
        let immutable = request.partialWidth == nil ? "public, max-age=31536000, immutable" : "public, max-age=60"
        return Response(
            status: .ok, headers: [.contentType: "application/octet-stream", .cacheControl: immutable],
            body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}

extension CustosServices {
    /// The tlog-policy a verifier should apply to our checkpoints: both logs and the witnesses.
    public func publishedPolicy() -> String {
        var lines = ["# c2sp.org/tlog-policy for \(configuration.publicURL)"]
        lines.append("log \(verifierKey(of: .legalProcess)) \(configuration.publicURL)/log/legal-process/")
        lines.append("log \(verifierKey(of: .audit)) \(configuration.publicURL)/log/audit/")
        guard let policy = witnessPolicy else { return (lines + ["quorum none"]).joined(separator: "\n") + "\n" }
        for (name, witness) in policy.witnesses.sorted(by: { $0.key < $1.key }) {
            lines.append("witness \(name) \(witness.verifier.verifierKey)" + (witness.url.map { " \($0)" } ?? ""))
        }
        for group in policy.groupOrder.compactMap({ policy.groups[$0] }) {
            let threshold = switch group.threshold {
            case .all: "all"
            case .count(let k): String(k)
            }
            lines.append("group \(group.name) \(threshold) \(group.members.joined(separator: " "))")
        }
        lines.append("quorum \(policy.quorum ?? "none")")
        return lines.joined(separator: "\n") + "\n"
    }
}
