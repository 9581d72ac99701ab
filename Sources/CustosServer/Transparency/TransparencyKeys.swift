import Crypto
import CustosDomain
import Foundation
import MerkleLog

/// The Ed25519 keys that sign the two logs' checkpoints, the canary and closed reports, each kept in the data
/// folder (owner-only) and created on first start. Their key names are the logs' origins, so
/// the verifier keys (`custos log key`) are what C2SP verifiers and witnesses expect.
public struct TransparencyKeys: Sendable {
    public let audit: Ed25519NoteSigner
    public let legalProcess: Ed25519NoteSigner
    public let canary: Ed25519NoteSigner
    /// Signs each closed transparency-report period (issue 7).
    public let report: Ed25519NoteSigner
    /// Signs this installation's requester blocklist feed (issue 8).
    public let blocklist: Ed25519NoteSigner
    /// 32 secret bytes from which each period's national-security commitment key is derived
    /// (tlog.md §6.7); given only to a cleared auditor, never published.
    public let nationalSecuritySecret: Data

    /// The commitment key for one period: HMAC-SHA256(secret, "custos ns-commitment\n" || period).
    public func nationalSecurityKey(for period: ReportPeriod) -> Data {
        Data(HMAC<SHA256>.authenticationCode(for: Data("custos ns-commitment\n\(period.description)".utf8), using: SymmetricKey(data: nationalSecuritySecret)))
    }

    public func signer(for log: TransparencyLog) -> Ed25519NoteSigner {
        switch log {
        case .audit: audit
        case .legalProcess: legalProcess
        }
    }

    public static func canaryName(publicURL: String) -> String { transparencyName("canary", publicURL: publicURL) }

    /// `<host>/transparency/<what>`: key names beside the logs' origins.
    static func transparencyName(_ what: String, publicURL: String) -> String {
        TransparencyLog.audit.origin(publicURL: publicURL).replacingOccurrences(of: "/log/audit", with: "/transparency/\(what)")
    }

    /// The file in the data folder that pins the public address the keys were named after.
    static let addressFile = "transparency-address"

    /// The address the logs and statements are named after: the one pinned in `folder` on first
    /// start, else `publicURL` (and pinned now). A log's origin must never change, or every
    /// witness and every saved checkpoint stops matching it; so a later `--port`, `CUSTOS_PORT` or
    /// `CUSTOS_PUBLIC_URL` changes where pages link to, never the logs' names.
    public static func pinnedAddress(folder: String?, publicURL: String) throws -> String {
        guard let folder else { return publicURL }
        let path = (folder as NSString).appendingPathComponent(addressFile)
        if let raw = FileManager.default.contents(atPath: path), let pinned = String(data: raw, encoding: .utf8)?.trimmingCharacters(in: .whitespacesAndNewlines), !pinned.isEmpty {
            return pinned
        }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        guard FileManager.default.createFile(atPath: path, contents: Data((publicURL + "\n").utf8), attributes: [.posixPermissions: 0o644]) else {
            throw PackageError("cannot write \(path)")
        }
        return publicURL
    }

    /// Loads the keys from `folder`, creating any that are missing; nil folder: keys for this process only.
    public static func load(folder: String?, publicURL configured: String) throws -> TransparencyKeys {
        let publicURL = try pinnedAddress(folder: folder, publicURL: configured)
        func key(_ file: String) throws -> Curve25519.Signing.PrivateKey {
            guard let folder else { return Curve25519.Signing.PrivateKey() }
            let path = (folder as NSString).appendingPathComponent(file)
            if let raw = FileManager.default.contents(atPath: path) {
                guard raw.count == 32 else { throw PackageError("\(path) is not a 32-byte Ed25519 private key") }
                return try Curve25519.Signing.PrivateKey(rawRepresentation: raw)
            }
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            let key = Curve25519.Signing.PrivateKey()
            guard FileManager.default.createFile(atPath: path, contents: key.rawRepresentation, attributes: [.posixPermissions: 0o600]) else {
                throw PackageError("cannot write \(path)")
            }
            return key
        }
        return TransparencyKeys(
            audit: Ed25519NoteSigner(name: TransparencyLog.audit.origin(publicURL: publicURL), privateKey: try key("log-audit.key")),
            legalProcess: Ed25519NoteSigner(
                name: TransparencyLog.legalProcess.origin(publicURL: publicURL), privateKey: try key("log-legal-process.key")),
            canary: Ed25519NoteSigner(name: canaryName(publicURL: publicURL), privateKey: try key("canary.key")),
            report: Ed25519NoteSigner(name: transparencyName("report", publicURL: publicURL), privateKey: try key("report.key")),
            blocklist: Ed25519NoteSigner(name: transparencyName("blocklist", publicURL: publicURL), privateKey: try key("blocklist.key")),
            // Any 32 random bytes serve; an Ed25519 private key file is exactly that, made and kept the same way.
            nationalSecuritySecret: try key("ns-commitment.key").rawRepresentation)
    }
}
