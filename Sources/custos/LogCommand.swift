import ArgumentParser
import CustosDomain
import CustosServer
import Foundation
import MerkleLog

extension TransparencyLog: ExpressibleByArgument {}

/// `custos log …`: the verifiable logs (issue 6). `key`, `checkpoint`, `prove` and `verify` are a
/// contract other tools rely on; their output formats are C2SP's.
struct LogCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log", abstract: "The audit and legal-process Merkle logs.",
        subcommands: [Key.self, CheckpointCommand.self, Prove.self, Verify.self, Publish.self, CheckProof.self])

    struct Key: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the log's verifier key (<name>+<hex key hash>+<base64>).")
        @Option(help: "audit or legal-process.") var log: TransparencyLog

        func run() async throws {
            let keys = try await readInstallationKeys(reader: makeReader(), create: true)
            say(keys.transparency.signer(for: log).verifierKey)
        }
    }

    struct CheckpointCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "checkpoint",
            abstract: "Print the latest signed checkpoint (signing and witnessing one first if the log has grown).")
        @Option(help: "audit or legal-process.") var log: TransparencyLog

        func run() async throws {
            try await withServices { services in
                let latest = try await services.checkpoint(log)
                if latest.publishedAt == nil { complain("note: checkpoint \(latest.size) has not yet met the witness quorum") }
                print(latest.note, terminator: "")
            }
        }
    }

    struct Prove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a c2sp.org/tlog-proof for entry N against the latest checkpoint.")
        @Option(help: "audit or legal-process.") var log: TransparencyLog
        @Option(help: "The entry's index (0-based).") var index: UInt64

        func run() async throws {
            try await withServices { services in
                try await services.checkpoint(log)
                do {
                    print(try await services.proof(log, index: index).serialized, terminator: "")
                } catch let error as CustosServices.ProofError {
                    complain("\(error)")
                    throw ExitCode(1)
                }
            }
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Recompute both logs from the stored entries and check them against every stored checkpoint.",
            discussion: "Exits 0 when everything holds; otherwise 1, naming the first bad index of each log that fails.")

        func run() async throws {
            try await withServices { services in
                var failed = false
                for result in try await services.verifyLogs() {
                    if result.holds {
                        say("\(result.log.rawValue): OK, \(result.size) entries, \(result.checkpointsChecked) checkpoint(s) verified")
                    } else {
                        failed = true
                        complain("\(result.log.rawValue): FAILED, first bad index \(result.firstBadIndex.map(String.init) ?? "unknown")")
                        for problem in result.problems { complain("  \(problem)") }
                    }
                }
                if failed { throw ExitCode(1) }
            }
        }
    }

    struct Publish: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Publish the pending legal-process batch and a fresh canary now (the server does this on its schedule).")

        func run() async throws {
            try await withServices { services in
                let report = try await services.publishLegalProcessBatch()
                try await services.publishCanary()
                say("Published \(report.demands) demand(s), \(report.dispositions) disposition(s), \(report.openings) opening(s); legal-process log size \(report.size).")
            }
        }
    }

    struct CheckProof: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check-proof",
            abstract: "Check a .tlog-proof offline: the checkpoint's signature (and witness quorum), inclusion, and a notice bundle's openings.",
            discussion: "For a customer's proof the entry comes from its notice bundle; otherwise give the entry with --entry. Exits 0 when it holds, 1 when not.")
        @Argument(help: "The .tlog-proof file.") var file: String
        @Option(help: "The log's verifier key (as printed by `custos log key`).") var key: String
        @Option(help: "A tlog-policy file whose quorum the checkpoint's cosignatures must meet.") var policy: String?
        @Option(help: "The entry's exact bytes, for proofs without a notice bundle.") var entry: String?

        func run() async throws {
            do {
                guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { throw ValidationError("\(file) cannot be read") }
                let proof = try TlogProof(parsing: text)
                guard let log = try NoteKey.verifier(key) as? Ed25519NoteVerifier else { throw ValidationError("--key is not an Ed25519 log key") }
                let witnessPolicy = try policy.map { path -> WitnessPolicy in
                    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw ValidationError("\(path) cannot be read") }
                    return try WitnessPolicy(parsing: text)
                }
                var entryBytes: Data
                var opened: [RecordCommitment.Opening] = []
                if let entry {
                    guard let data = FileManager.default.contents(atPath: entry) else { throw ValidationError("\(entry) cannot be read") }
                    entryBytes = data
                } else if let extra = proof.extra {
                    (entryBytes, opened) = try LegalProcessLog.verifyBundle(extra)
                } else {
                    throw ValidationError("the proof has no notice bundle; give the entry with --entry")
                }
                let checkpoint = try proof.verify(leafHash: MerkleHash.leaf(entryBytes), log: log, policy: witnessPolicy)
                say("OK: entry \(proof.index) is in \(checkpoint.origin) at size \(checkpoint.size)")
                if let parsed = try? LegalProcessLog.parse(entryBytes) {
                    for line in parsed.lines where ["ref", "period", "class", "nondisclosure", "review-by"].contains(line.key) { say("  \(line.key): \(line.value)") }
                }
                for field in opened { say("  opened \(field.name): \(field.value)") }
            } catch let error as ValidationError {
                complain(error.message)
                throw ExitCode(1)
            } catch {
                complain("NOT VALID: \(error)")
                throw ExitCode(1)
            }
        }
    }
}

/// Opens the services for one command and closes them afterwards.
func withServices(_ body: (CustosServices) async throws -> Void) async throws {
    let services = try await buildServices(reader: makeReader())
    do {
        try await body(services)
    } catch {
        await services.shutdown()
        throw error
    }
    await services.shutdown()
}
