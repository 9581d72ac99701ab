import ArgumentParser
import CustosDomain
import CustosServer
import Foundation
import Synchronization

/// `custos production build CASE`: builds a case's production package with a progress bar.
struct ProductionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "production", abstract: "Production packages of cases.", subcommands: [Build.self])

    struct Build: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Build the production package of a case whose scope is approved (or that is collecting).",
            discussion: "Starts the collection on behalf of --as (a custodian) when needed, then streams the records through the scope check into a signed ZIP in the data folder.")

        @Argument(help: "The case id (UUID) or number (C-2026-00042).") var caseRef: String
        @Option(name: .customLong("as"), help: "The custodian's email, recorded as who built it.") var custodian: String

        func run() async throws {
            let services = try await buildServices(reader: makeReader())
            do {
                try await build(services)
                await services.shutdown()
            } catch {
                await services.shutdown()
                throw error
            }
        }

        func build(_ services: CustosServices) async throws {
            guard let person = try await services.identity.findPrincipal(email: custodian), person.has(.custodian) else {
                throw ValidationError("\(custodian) is not a custodian")
            }
            let subject: Case?
            if let id = UUID(uuidString: caseRef) {
                subject = try await services.cases.findCase(id: id)
            } else {
                subject = try await services.cases.findCase(number: caseRef)
            }
            guard var subject, subject.state != .closed else { throw ValidationError("no open case \(caseRef)") }
            if subject.state == .scopeApproved {
                subject = try await services.cases.apply(.startCollection, toCase: subject.id, at: services.now(), by: person.actor)
            }
            let bar = ProgressBar(interactive: isatty(STDERR_FILENO) == 1)
            let result = try await services.buildPackage(
                caseID: subject.id, by: person.actor, expected: { bar.total($0) }, progress: { bar.update($0) })
            bar.finish()
            let manifest = result.summary
            say("Built \(CustosServices.packageKey(caseID: subject.id)) in \(services.blobs.description)")
            say("  case \(manifest.caseNumber): \(result.fileCount) record file(s), \(result.packageBytes) bytes, \(manifest.cutTotal) cut (\(manifest.cut.filter { $0.value > 0 }.map { "\($0.key) \($0.value)" }.sorted().joined(separator: ", ")))")
            say("  Merkle root \(manifest.merkleRoot), signed by key \(manifest.signingKeyID)")
        }
    }
}

/// A one-line progress bar on standard error; on a pipe, one line every 10 %.
final class ProgressBar: Sendable {
    let interactive: Bool
    let state = Mutex<(total: Int?, shown: Int)>((nil, -1))

    init(interactive: Bool) { self.interactive = interactive }

    func total(_ value: Int?) { state.withLock { $0.total = value } }

    func update(_ read: Int) {
        let line: String? = state.withLock { state in
            guard let total = state.total, total > 0 else {
                guard read - state.shown >= 1000 || state.shown < 0 else { return nil }
                state.shown = read
                return "records read: \(read)"
            }
            let percent = min(100, read * 100 / total)
            let step = interactive ? percent : percent / 10 * 10
            guard step != state.shown else { return nil }
            state.shown = step
            let filled = percent * 30 / 100
            return "[\(String(repeating: "#", count: filled))\(String(repeating: ".", count: 30 - filled))] \(percent)% \(read)/\(total) records"
        }
        guard let line else { return }
        FileHandle.standardError.write(Data((interactive ? "\r" + line : line + "\n").utf8))
    }

    func finish() {
        if interactive { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
