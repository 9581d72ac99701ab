import ArgumentParser
import CustosServer
import Foundation

/// `custos package verify FILE.zip`: checks a production package as its recipient would.
struct PackageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "package", abstract: "Production packages.", subcommands: [Verify.self])

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Verify a production package: signature, every file's size and SHA-256, the Merkle root, nothing extra.",
            discussion: """
                Uses --key (the PEM published at /.well-known/custos/signing-key.pem), else this installation's own key in the data folder. \
                Exits 0 when the package is intact, 1 when it is not, 2 when it cannot be checked.
                """)

        @Argument(help: "The package ZIP.") var file: String
        @Option(help: "The signer's public key (PEM).") var key: String?

        func run() throws {
            let publicKey: PackageSigningKey.PublicKey
            do {
                if let key {
                    guard let pem = try? String(contentsOfFile: key, encoding: .utf8) else { throw PackageError("\(key) cannot be read") }
                    publicKey = try PackageSigningKey.publicKey(fromPEM: pem)
                } else {
                    let folder = ProcessInfo.processInfo.environment["CUSTOS_DATA_DIR"] ?? "./custos-data"
                    guard FileManager.default.fileExists(atPath: (folder as NSString).appendingPathComponent("package-signing.key")) else {
                        throw PackageError("no --key given and no signing key in \(folder); pass the PEM from /.well-known/custos/signing-key.pem")
                    }
                    publicKey = try PackageSigningKey.loadOrCreate(in: folder).publicKey
                }
            } catch {
                complain("\(error)")
                throw ExitCode(2)
            }
            let report = PackageVerifier.verify(URL(fileURLWithPath: file), publicKey: publicKey)
            guard report.isValid, let manifest = report.manifest else {
                complain("\(file): NOT VALID")
                for problem in report.problems { complain("  \(problem)") }
                throw ExitCode(1)
            }
            say("\(file): valid package for case \(manifest.caseNumber): \(manifest.files.count) record file(s), \(manifest.cutTotal) record(s) cut, Merkle root \(manifest.merkleRoot), signed by key \(manifest.signingKeyID)")
        }
    }
}
