import ArgumentParser
import CustosServer
import CustosStorage
import Foundation
import Logging

/// `custos keys …`: the installation's keyring in the database (issue 28): rotate the storage or
/// master key, print every public key, move an older data folder's keys in.
struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys", abstract: "The installation's keys (kept in the database, sealed with the master key).",
        subcommands: [Rotate.self, ExportPublic.self, ImportFolder.self])

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a new storage key, reseal every stored document, attachment, second-factor key and package with it, and retire the old keys; or, with --master, seal the keyring with a new master key.",
            discussion: """
                On PostgreSQL the servers keep running: the rotation waits until every live server has loaded the new storage key and seals with it \
                (they reload the keyring every CUSTOS_HEARTBEAT_SECONDS), then reseals and retires. On SQLite stop the server first (the command \
                refuses to run beside one on the same data folder, exit 2). Interrupted, it leaves everything readable; run it again to finish.

                --master seals every key with the master key in --new-master-key-file (base64 of 32 bytes) in one transaction; running servers \
                keep the keys they hold; restart each with the new key (CUSTOS_MASTER_KEY or CUSTOS_MASTER_KEY_FILE). An embedded installation \
                whose master key is the data folder's master.key gets a new one written there when no file is given.
                """)

        @Flag(help: "Rotate the master key instead of the storage key.") var master = false
        @Option(help: "With --master: the new master key (a file holding base64 of 32 bytes).") var newMasterKeyFile: String?
        @Option(help: "Seconds to wait for the running servers at each step.") var wait: Int = 120

        func run() async throws {
            let configuration = AppConfiguration(reader: makeReader())
            var folderLock: DataFolderLock?
            if try !configuration.databaseLocation().isPostgres {
                do {
                    folderLock = try DataFolderLock(folder: configuration.dataDirectory, mode: .exclusive)
                } catch {
                    complain("\(error)")
                    throw ExitCode(2)
                }
            }
            defer { withExtendedLifetime(folderLock) {} }
            try await withServices { services in
                let rotation = KeyRotation(services: services, wait: TimeInterval(wait))
                if master {
                    try await rotateMaster(rotation, services: services, configuration: configuration)
                    return
                }
                let outcome: KeyRotation.Outcome
                do {
                    outcome = try await rotation.rotateStorageKey(actor: "cli")
                } catch let error as KeyringError {
                    complain("\(error)")
                    throw ExitCode(1)
                }
                let result = outcome.resealed
                say("Storage key \(outcome.key) is current: resealed \(result.documents) document(s), \(result.attachments) attachment(s), \(result.secondFactorKeys) second-factor key(s), \(result.packages) package(s); \(outcome.retired) old key(s) retired; \(outcome.servers.count) running server(s) followed.")
            }
        }

        func rotateMaster(_ rotation: KeyRotation, services: CustosServices, configuration: AppConfiguration) async throws {
            let folderKey = (configuration.masterKey ?? "").isEmpty && (configuration.masterKeyFile ?? "").isEmpty
            let folderKeyPath = (configuration.dataDirectory as NSString).appendingPathComponent(InstallationKeys.folderMasterKeyFile)
            let next: MasterKey
            var pending: String?
            do {
                if let newMasterKeyFile {
                    next = try MasterKey(contentsOfFile: newMasterKeyFile)
                } else if folderKey {
                    // The new key is written beside the old one first; a crash before the rename
                    // is finished at the next start (`InstallationKeys.open`).
                    next = MasterKey.generate()
                    pending = folderKeyPath + InstallationKeys.pendingSuffix
                    try? FileManager.default.removeItem(atPath: pending!)
                    try next.write(toNewFile: pending!)
                } else {
                    throw KeyringError("--new-master-key-file is needed: this installation's master key comes from CUSTOS_MASTER_KEY or CUSTOS_MASTER_KEY_FILE")
                }
            } catch {
                complain("\(error)")
                throw ExitCode(2)
            }
            let count = try await rotation.rotateMasterKey(to: next, actor: "cli")
            if let pending {
                try MasterKey.rename(pending, to: folderKeyPath)
                say("Master key \(next.id) seals the keyring's \(count) key(s); it is in \(folderKeyPath).")
            } else {
                say("Master key \(next.id) seals the keyring's \(count) key(s). Give it to every instance (CUSTOS_MASTER_KEY or CUSTOS_MASTER_KEY_FILE) and restart them one at a time.")
            }
        }
    }

    struct ExportPublic: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "export-public",
            abstract: "Print every public key of the installation: the package signing key (PEM) and the verifier keys of both logs, the canary, closed reports and the blocklist feed.")

        @Flag(help: "Print one JSON object instead.") var json = false

        func run() async throws {
            let keys = try await readInstallationKeys(reader: makeReader(), create: true)
            let verifiers = keys.transparency
            if json {
                let object: [String: Any] = [
                    "packageSigningKey": ["pem": keys.signing.publicKeyPEM, "keyId": keys.signing.keyID],
                    "auditLog": verifiers.audit.verifierKey, "legalProcessLog": verifiers.legalProcess.verifierKey,
                    "canary": verifiers.canary.verifierKey, "report": verifiers.report.verifierKey, "blocklist": verifiers.blocklist.verifierKey,
                    "masterKeyId": keys.keyring.master.id, "currentStorageKeyId": keys.sealer.currentID ?? "",
                ]
                say(String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys]), as: UTF8.self))
                return
            }
            say("# Production packages (Ed25519, key id \(keys.signing.keyID); also at /.well-known/custos/signing-key.pem)")
            say(keys.signing.publicKeyPEM.trimmingCharacters(in: .newlines))
            for (what, key) in verifiers.verifierKeys {
                say("# \(what) (C2SP signed-note verifier key)")
                say(key)
            }
            say("# master key \(keys.keyring.master.id); current storage key \(keys.sealer.currentID ?? "-") (ids only: these stay secret)")
        }
    }

    struct ImportFolder: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "import-folder",
            abstract: "Move the keys of a data folder from before the keyring (package-signing.key, log-*.key, canary.key, report.key, blocklist.key, ns-commitment.key, storage-keys/, transparency-address) into the database.",
            discussion: """
                Run it once, with the master key every instance will be given, before the first instance starts on the new version. \
                It refuses, changing nothing (exit 2), when the database already holds different keys. Run twice, it finds everything in place.
                """)

        @Option(help: "The data folder to read (default: CUSTOS_DATA_DIR).") var folder: String?

        func run() async throws {
            let configuration = AppConfiguration(reader: makeReader())
            let source = folder ?? configuration.dataDirectory
            let logger = Logger(label: "custos")
            let database: CustosDatabase
            let master: MasterKey
            do {
                master = try InstallationKeys.masterKey(configuration: configuration)
                database = try CustosDatabase(location: try configuration.databaseLocation(), logger: logger)
            } catch {
                complain("\(error)")
                throw ExitCode(2)
            }
            do {
                try await database.migrate()
                let report = try await InstallationKeys.importFolder(
                    source, into: Keyring(store: database, master: master), storageKey: configuration.storageKey, at: Date())
                await database.shutdown()
                say("Imported \(report.imported.count) key(s) from \(source) into \(database.location)\(report.imported.isEmpty ? "" : ": " + report.imported.joined(separator: ", ")); \(report.alreadyPresent.count) already there.")
                say("The key files in \(source) are no longer read: keep them as a backup somewhere safe, then remove them.")
            } catch let error as KeyringError {
                await database.shutdown()
                complain("\(error)")
                throw ExitCode(2)
            } catch {
                await database.shutdown()
                throw error
            }
        }
    }
}
