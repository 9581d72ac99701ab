import Crypto
import CustosDomain
import CustosStorage
import Foundation
import Logging
import MerkleLog

/// One identity for every instance of an installation (issue 28): the package key, both log keys,
/// the canary, report and blocklist keys, the national-security commitment secret and the storage
/// keys, all from the database's keyring, sealed with the one master key every instance is given.
/// On first start they are made there (first writer wins); an instance whose master key cannot
/// open them refuses to start, and so does one whose log keys did not sign the stored checkpoints.
public struct InstallationKeys: Sendable {
    public let keyring: Keyring
    public let transparency: TransparencyKeys
    public let signing: PackageSigningKey
    public let sealer: StorageSealer
    /// The public address the logs were named after when they were created (pinned for good).
    public let address: String

    /// The keyring's names of the signing keys and secrets (besides the storage keys).
    public static let names = ["package-signing", "log-audit", "log-legal-process", "canary", "report", "blocklist", "ns-commitment"]
    /// The installation setting that pins the address the logs are named after.
    public static let addressSetting = "transparency.address"
    /// The master key an embedded installation (SQLite, no master key given) keeps in its data folder.
    public static let folderMasterKeyFile = "master.key"
    /// Beside it, the next master key while `custos keys rotate --master` replaces it.
    public static let pendingSuffix = ".next"

    // MARK: The master key

    /// `CUSTOS_MASTER_KEY`, else `CUSTOS_MASTER_KEY_FILE`; with neither, an embedded SQLite
    /// installation keeps one in its data folder (made on first start) and an in-memory database
    /// (tests) one for the process. PostgreSQL needs one given: instances on other machines share
    /// no folder, and a key beside each would seal the same keyring differently.
    public static func masterKey(configuration: AppConfiguration) throws -> MasterKey {
        if let text = configuration.masterKey, !text.isEmpty { return try MasterKey(base64: text, source: "CUSTOS_MASTER_KEY") }
        if let path = configuration.masterKeyFile, !path.isEmpty { return try MasterKey(contentsOfFile: path) }
        switch try configuration.databaseLocation() {
        case .sqliteInMemory:
            return .generate()
        case .postgres:
            throw ConfigurationProblem(
                "CUSTOS_MASTER_KEY (base64 of 32 bytes) or CUSTOS_MASTER_KEY_FILE must be set with CUSTOS_DATABASE_URL: every instance of the installation is given the same master key, which seals the keys kept in the database (README: Run several instances)")
        case .sqliteFile:
            let path = (configuration.dataDirectory as NSString).appendingPathComponent(folderMasterKeyFile)
            if FileManager.default.fileExists(atPath: path) { return try MasterKey(contentsOfFile: path) }
            let fresh = MasterKey.generate()
            do {
                try fresh.write(toNewFile: path)
                return fresh
            } catch {
                // Another process made it a moment ago: use theirs.
                return try MasterKey(contentsOfFile: path)
            }
        }
    }

    // MARK: Opening the keyring

    /// Loads every key from the keyring, making those that are missing. `create: false` (tools
    /// that only read, such as `custos package verify`) throws instead of making any.
    public static func open(
        database: CustosDatabase, master: MasterKey, configuration: AppConfiguration, logger: Logger, at time: Date, create: Bool = true
    ) async throws -> InstallationKeys {
        var keyring = Keyring(store: database, master: master)
        var stored = try await keyring.entries()
        var unopenable = stored.filter { $0.sealedBy != master.id }
        if !unopenable.isEmpty, let next = try finishFolderMasterRotation(configuration: configuration, sealedBy: Set(unopenable.compactMap(\.sealedBy))) {
            keyring = Keyring(store: database, master: next)
            stored = try await keyring.entries()
            unopenable = stored.filter { $0.sealedBy != next.id }
            logger.notice("finished replacing \(folderMasterKeyFile) with master key \(next.id), which a rotation had sealed the keyring with")
        }
        if !unopenable.isEmpty {
            let others = Set(unopenable.compactMap(\.sealedBy)).sorted().joined(separator: ", ")
            throw ConfigurationProblem(
                "refusing to start: \(unopenable.count) key(s) in the database (\(unopenable.prefix(3).map(\.name).joined(separator: ", "))…) are sealed with master key \(others), and this instance was given master key \(master.id). Give every instance the installation's master key (CUSTOS_MASTER_KEY or CUSTOS_MASTER_KEY_FILE); after `custos keys rotate --master`, the new one")
        }
        if stored.isEmpty && !configuration.inMemoryDatabase {
            let legacy = try LegacyKeyFolder(folder: configuration.dataDirectory)
            if !legacy.isEmpty {
                guard !database.location.isPostgres else {
                    throw ConfigurationProblem(
                        "refusing to start: the database holds no keys, and \(configuration.dataDirectory) holds this installation's keys from before they moved into the database. Run `custos keys import-folder` once (with this data folder and the master key), then start every instance")
                }
                // The embedded default keeps working as before: its folder's keys move in by themselves.
                let report = try await importFolder(legacy, into: keyring, storageKey: configuration.storageKey, at: time)
                logger.notice("moved \(report.imported.count) key(s) from \(configuration.dataDirectory) into the database's keyring; the key files there are no longer read")
            }
        }
        if create, let text = configuration.storageKey, !text.isEmpty {
            // CUSTOS_STORAGE_KEY from before the keyring: values sealed with it stay readable, and
            // on a new installation it becomes the first current storage key.
            guard let bytes = Data(base64Encoded: text), bytes.count == 32 else { throw ConfigurationProblem("CUSTOS_STORAGE_KEY must be 32 bytes in base64") }
            let id = try await keyring.addStorageKey(SymmetricKey(data: bytes), at: time)
            _ = try await keyring.pin(Keyring.currentStorageKey, id)
        }
        let address: String
        if create {
            address = try await keyring.pin(addressSetting, configuration.publicURL)
        } else {
            guard let pinned = try await keyring.setting(addressSetting) else { throw KeyringError("this installation has no keys yet (its server never started)") }
            address = pinned
        }
        var secrets: [String: Data] = [:]
        for name in names {
            if create {
                secrets[name] = try await keyring.secret(name, at: time, publicKey: { publicKeyText(name: name, secret: $0) }) {
                    Curve25519.Signing.PrivateKey().rawRepresentation
                }
            } else {
                guard let stored = try await keyring.stored(name) else { throw KeyringError("the keyring has no \(name) key") }
                secrets[name] = stored
            }
        }
        let transparency = try TransparencyKeys(address: address) { name in secrets[name]! }
        let keys = InstallationKeys(
            keyring: keyring, transparency: transparency,
            signing: PackageSigningKey(privateKey: try Curve25519.Signing.PrivateKey(rawRepresentation: secrets["package-signing"]!)),
            sealer: try await keyring.storageSealer(at: time, create: create), address: address)
        try await keys.checkStoredCheckpoints(database: database)
        if address != configuration.publicURL {
            logger.notice("the logs keep the name they were created with: \(transparency.audit.name) (pinned in the database), not \(configuration.publicURL)")
        }
        return keys
    }

    /// A rotation of the data folder's master key that stopped after sealing the keyring with the
    /// new key and before renaming its file: the new key is put in place and returned.
    static func finishFolderMasterRotation(configuration: AppConfiguration, sealedBy: Set<String>) throws -> MasterKey? {
        guard (configuration.masterKey ?? "").isEmpty, (configuration.masterKeyFile ?? "").isEmpty, !configuration.inMemoryDatabase else { return nil }
        let path = (configuration.dataDirectory as NSString).appendingPathComponent(folderMasterKeyFile)
        guard FileManager.default.fileExists(atPath: path + pendingSuffix), let next = try? MasterKey(contentsOfFile: path + pendingSuffix),
            sealedBy == [next.id]
        else { return nil }
        try MasterKey.rename(path + pendingSuffix, to: path)
        return next
    }

    /// Base64 of the raw Ed25519 public key of a signing key's secret (stored beside it for
    /// `custos keys export-public`); the commitment secret has none.
    static func publicKeyText(name: String, secret: Data) -> String? {
        guard name != "ns-commitment", let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: secret) else { return nil }
        return key.publicKey.rawRepresentation.base64EncodedString()
    }

    /// Refuses keys that did not sign the checkpoints already stored: a keyring from another
    /// installation, or keys made anew beside a database that had its own, would give the logs a
    /// second identity (the split view the logs exist to rule out).
    func checkStoredCheckpoints(database: CustosDatabase) async throws {
        let logs = MerkleLogStore(store: database)
        for log in [TransparencyLog.audit, .legalProcess] {
            guard let latest = try await logs.latestCheckpoint(log, publishedOnly: false) else { continue }
            do {
                try SignedCheckpoint(parsing: latest.note).verify(log: transparency.signer(for: log).verifier)
            } catch {
                throw ConfigurationProblem(
                    "refusing to start: the \(log.rawValue) log's latest stored checkpoint (size \(latest.size)) is not signed by this installation's \(log.rawValue) key \(transparency.signer(for: log).verifierKey): the keys in the database do not belong to this log")
            }
        }
    }

    // MARK: Importing a data folder

    /// What `custos keys import-folder` did.
    public struct ImportReport: Sendable, Equatable {
        public var imported: [String] = []
        public var alreadyPresent: [String] = []
    }

    public static func importFolder(_ folder: String, into keyring: Keyring, storageKey: String?, at time: Date) async throws -> ImportReport {
        let legacy = try LegacyKeyFolder(folder: folder)
        guard !legacy.isEmpty else { throw KeyringError("\(folder) holds no key files (package-signing.key, log-audit.key, storage-keys/, …)") }
        return try await importFolder(legacy, into: keyring, storageKey: storageKey, at: time)
    }

    /// Moves a folder's keys into the keyring. Checks everything first: if the keyring already
    /// holds a different key of any name (or a different pinned address), nothing is written.
    static func importFolder(_ legacy: LegacyKeyFolder, into keyring: Keyring, storageKey: String?, at time: Date) async throws -> ImportReport {
        var conflicts: [String] = []
        for (name, bytes) in legacy.secrets.sorted(by: { $0.key < $1.key }) {
            if let stored = try await keyring.stored(name), stored != bytes { conflicts.append(name) }
        }
        if let address = legacy.address, let pinned = try await keyring.setting(addressSetting), pinned != address {
            conflicts.append("the logs' address (\(pinned) in the database, \(address) in the folder)")
        }
        guard conflicts.isEmpty else {
            throw KeyringError(
                "the database already holds other keys: \(conflicts.joined(separator: ", ")). Nothing was imported: \(legacy.folder) belongs to another installation, or this one made its keys before the import")
        }
        var report = ImportReport()
        if let address = legacy.address { _ = try await keyring.pin(addressSetting, address) }
        for (name, bytes) in legacy.secrets.sorted(by: { $0.key < $1.key }) {
            switch try await keyring.importSecret(name, bytes, publicKey: publicKeyText(name: name, secret: bytes), at: time) {
            case .imported: report.imported.append(name)
            case .alreadyPresent: report.alreadyPresent.append(name)
            case .conflicts: throw KeyringError("\(name) changed during the import; run it again")
            }
        }
        var storage = legacy.storageKeys
        var current = legacy.currentStorageKey
        if let storageKey, !storageKey.isEmpty {
            // CUSTOS_STORAGE_KEY was the current key where it was set.
            guard let bytes = Data(base64Encoded: storageKey), bytes.count == 32 else { throw KeyringError("CUSTOS_STORAGE_KEY must be 32 bytes in base64") }
            storage.append(SymmetricKey(data: bytes))
            current = StorageSealer.keyID(SymmetricKey(data: bytes))
        }
        for key in storage {
            let id = StorageSealer.keyID(key)
            let before = try await keyring.stored("storage/" + id)
            try await keyring.addStorageKey(key, at: time)
            if before == nil { report.imported.append("storage/" + id) } else { report.alreadyPresent.append("storage/" + id) }
        }
        if let current, storage.contains(where: { StorageSealer.keyID($0) == current }) {
            _ = try await keyring.pin(Keyring.currentStorageKey, current)
        }
        if !report.imported.isEmpty {
            // Which keys came in from where is on the record, as every other change of the keyring.
            try await SQLCaseRepository(store: keyring.database).record(AuditRecord(
                caseID: nil, subject: "storage", action: "storage.keys_imported", actor: "cli", at: time,
                details: ["folder": legacy.folder, "keys": report.imported.joined(separator: ",")]))
        }
        return report
    }
}
