import ArgumentParser
import CustosServer
import Foundation
import Hummingbird
import MerkleLog

/// `custos witness …`: a minimal c2sp.org/tlog-witness, so two installations can witness each
/// other and the tests can run one.
struct WitnessCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "witness", abstract: "Run a tlog-witness for other logs.", subcommands: [Serve.self, Key.self])

    struct Options: ParsableArguments {
        @Option(help: "The witness's key name (e.g. witness.example.org/w1).") var name: String
        @Option(help: "The witness's Ed25519 seed file (created on first use).") var keyFile: String
    }

    struct Key: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the witness's cosignature/v1 verifier key, for a tlog-policy file.")
        @OptionGroup var options: Options

        func run() throws {
            say(CosignatureV1Signer(name: options.name, privateKey: try Witness.loadKey(path: options.keyFile)).verifierKey)
        }
    }

    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Serve POST /add-checkpoint and GET /<hex SHA-256(origin)>/checkpoint.")
        @OptionGroup var options: Options
        @Option(name: .customLong("log"), help: "A log's verifier key to witness (repeat for several).") var logs: [String]
        @Option(help: "Folder for the witness's state (one file per log).") var state: String
        @Option(help: "Address to listen on.") var host = "127.0.0.1"
        @Option(help: "Port to listen on.") var port = 8090

        func run() async throws {
            let signer = CosignatureV1Signer(name: options.name, privateKey: try Witness.loadKey(path: options.keyFile))
            let witness = try Witness(signer: signer, logVerifierKeys: logs, stateDirectory: state)
            say("Witness \(signer.verifierKey)")
            say("Submission and monitoring prefix: http://\(host):\(port)/")
            try await buildWitnessApplication(witness: witness, host: host, port: port).runService()
        }
    }
}
