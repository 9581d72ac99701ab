import ArgumentParser
import CustosDomain
import CustosServer
import CustosStorage
import Foundation

/// `custos package verify FILE`: checks a production package as its recipient would; a package
/// sealed at rest is opened with the installation's storage keys. `--case` checks a case's stored
/// package wherever the installation keeps it (data folder, database or S3). `custos package
/// unseal` writes the plain ZIP of a stored package, on the record.
struct PackageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "package", abstract: "Production packages.", subcommands: [Verify.self, Unseal.self])

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Verify a production package: signature, every file's size and SHA-256, the Merkle root, nothing extra.",
            discussion: """
                Uses --key (the PEM published at /.well-known/custos/signing-key.pem), else this installation's own key from its database. \
                With --case instead of a file, checks the case's package where the installation stores it (the data folder, the \
                database or S3: CUSTOS_BLOB_URL). Exits 0 when the package is intact, 1 when it is not, 2 when it cannot be checked.
                """)

        @Argument(help: "The package: a ZIP, or a stored `<case id>.zip.sealed` (opened with the installation's storage keys).") var file: String?
        @Option(help: "The signer's public key (PEM).") var key: String?
        @Option(name: .customLong("case"), help: "Check this case's stored package instead (its id or number).") var caseRef: String?
        @Flag(help: "With --case: the preservation snapshot rather than the production.") var preservation = false

        func validate() throws {
            guard (file == nil) != (caseRef == nil) else { throw ValidationError("give a package file or --case, not both") }
        }

        func run() async throws {
            if let caseRef {
                try await verifyStored(caseRef)
                return
            }
            let file = file!
            let url = URL(fileURLWithPath: file)
            let publicKey: PackageSigningKey.PublicKey
            var sealer = StorageSealer.none
            do {
                // The installation's own keys are needed without --key, and to open a sealed package.
                let installation = key == nil || SealedFileReader.isSealed(url) ? try await readInstallationKeys(reader: makeReader()) : nil
                if let key {
                    guard let pem = try? String(contentsOfFile: key, encoding: .utf8) else { throw PackageError("\(key) cannot be read") }
                    publicKey = try PackageSigningKey.publicKey(fromPEM: pem)
                } else {
                    publicKey = installation!.signing.publicKey
                }
                if SealedFileReader.isSealed(url) { sealer = installation!.sealer }
            } catch {
                complain("\(error); pass the PEM from /.well-known/custos/signing-key.pem, or run with the server's settings (CUSTOS_DATA_DIR, CUSTOS_DATABASE_URL, CUSTOS_MASTER_KEY)")
                throw ExitCode(2)
            }
            try Self.report(await PackageVerifier.verify(url, publicKey: publicKey, sealer: sealer), named: file)
        }

        func verifyStored(_ caseRef: String) async throws {
            let purpose: PackagePurpose = preservation ? .preservation : .production
            try await withServices { services in
                let subject: Case?
                if let id = UUID(uuidString: caseRef) { subject = try await services.cases.findCase(id: id) } else { subject = try await services.cases.findCase(number: caseRef) }
                guard let subject else {
                    complain("no case \(caseRef)")
                    throw ExitCode(2)
                }
                var report = await services.verifyStoredPackage(caseID: subject.id, purpose: purpose)
                if let key {
                    // Checked against the published key as well, as a recipient would.
                    guard let pem = try? String(contentsOfFile: key, encoding: .utf8), let given = try? PackageSigningKey.publicKey(fromPEM: pem) else {
                        complain("\(key) cannot be read as a PEM public key")
                        throw ExitCode(2)
                    }
                    if PackageSigningKey.keyID(of: given) != PackageSigningKey.keyID(of: services.signingKey.publicKey) {
                        report.problems.append("the installation signs with key \(PackageSigningKey.keyID(of: services.signingKey.publicKey)), not the key given")
                    }
                }
                try Self.report(report, named: "\(subject.number) (\(CustosServices.packageKey(caseID: subject.id, purpose: purpose)) in \(services.blobs.description))")
            }
        }

        static func report(_ report: PackageVerifier.Report, named name: String) throws {
            guard report.isValid, let manifest = report.manifest else {
                complain("\(name): NOT VALID")
                for problem in report.problems { complain("  \(problem)") }
                throw ExitCode(1)
            }
            say("\(name): valid package for case \(manifest.caseNumber): \(manifest.files.count) record file(s), \(manifest.cutTotal) record(s) cut, Merkle root \(manifest.merkleRoot), signed by key \(manifest.signingKeyID)")
        }
    }

    struct Unseal: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write the plain ZIP of a stored package to a file, for the provider's own records.",
            discussion: """
                Packages are sealed at rest under the storage key; the agency downloads the plain ZIP from its portal. This \
                writes the plain ZIP to --out (mode 0600, never over an existing file) and records who did it in the audit log. \
                Every chunk is authenticated: an altered package stops the command and leaves no output.
                """)

        @Argument(help: "The stored package (`<data dir>/packages/<case id>.zip.sealed`).") var file: String?
        @Option(name: .customLong("case"), help: "Unseal this case's stored package instead, wherever it is stored (its id or number).") var caseRef: String?
        @Option(help: "Where to write the plain ZIP.") var out: String
        @Option(name: .customLong("as"), help: "The custodian's e-mail, recorded as who unsealed it.") var custodian: String

        func validate() throws {
            guard (file == nil) != (caseRef == nil) else { throw ValidationError("give a package file or --case, not both") }
        }

        func run() async throws {
            let target = URL(fileURLWithPath: out)
            guard !FileManager.default.fileExists(atPath: target.path) else {
                complain("\(out) exists; choose a new file")
                throw ExitCode(2)
            }
            try await withServices { services in
                guard let principal = try await services.identity.findPrincipal(email: custodian), principal.has(.custodian) else {
                    complain("\(custodian) is not a custodian")
                    throw ExitCode(2)
                }
                let name = file.map { URL(fileURLWithPath: $0).lastPathComponent } ?? caseRef!
                let reader: SealedBlobReader
                do {
                    if let file {
                        let url = URL(fileURLWithPath: file)
                        guard let blob = try await FolderBlobStore(root: url.deletingLastPathComponent()).open(url.lastPathComponent) else {
                            throw PackageError("no such file")
                        }
                        reader = try await SealedBlobReader.open(blob, name: name, sealer: services.database.sealer, context: nil)
                    } else {
                        let subject: Case?
                        if let id = UUID(uuidString: caseRef!) { subject = try await services.cases.findCase(id: id) } else { subject = try await services.cases.findCase(number: caseRef!) }
                        guard let subject, let stored = try await services.openPackage(caseID: subject.id) else {
                            throw PackageError("no stored package of case \(caseRef!) in \(services.blobs.description)")
                        }
                        reader = stored
                    }
                } catch {
                    complain("\(name) cannot be opened: \(error)")
                    throw ExitCode(1)
                }
                // Written beside the target and renamed when whole: a package that fails to
                // authenticate part-way leaves no output.
                let partial = target.deletingLastPathComponent().appendingPathComponent(".\(target.lastPathComponent).partial")
                do {
                    try? FileManager.default.removeItem(at: partial)
                    let writer = try SealedFileWriter(creating: partial, sealer: .none, context: "")
                    try await reader.forEach { try writer.write($0) }
                    try writer.finish()
                    guard rename(partial.path, target.path) == 0 else { throw PackageError("cannot move the ZIP to \(out) (errno \(errno))") }
                } catch {
                    try? FileManager.default.removeItem(at: partial)
                    complain("\(name) NOT unsealed: \(error)")
                    throw ExitCode(1)
                }
                let caseID = reader.header.flatMap { PackageBuilder.caseID(fromSealContext: $0.context) }
                try await services.cases.record(AuditRecord(
                    caseID: caseID, subject: caseID.map { "case:\($0.uuidString.lowercased())" } ?? "storage", action: "package.unsealed",
                    actor: principal.actor.auditName, at: services.now(),
                    details: ["file": name, "bytes": String(reader.plainSize), "via": "cli", "store": file == nil ? services.blobs.description : "file"]))
                say("Wrote \(reader.plainSize) bytes to \(out)")
            }
        }
    }
}
