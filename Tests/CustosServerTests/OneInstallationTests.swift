import Configuration
import Crypto
import CustosDomain
@testable import CustosServer
@testable import CustosStorage
import FluentSQL
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import MerkleLog
import Testing

/// Issue 28: several servers on one database are one installation: one set of keys from the
/// keyring (sealed with the master key), migrations that survive simultaneous starts, periodic
/// jobs with one holder, limits counted once, leases taken back from dead servers, and key
/// rotation while servers run. On PostgreSQL, and on an SQLite file where it applies.
@Suite(.serialized) struct OneInstallationTests {
    typealias Store = TransparencyLogTests.Store

    /// A fresh database and the settings of one server on it.
    static func reader(_ store: Store, extra: [AbsoluteConfigKey: ConfigValue] = [:]) async throws -> Settings {
        switch store {
        case .postgres:
            return Settings(values: try await TransparencyLogTests.settings(.postgres, extra: extra))
        case .sqlite:
            var values: [AbsoluteConfigKey: ConfigValue] = [
                "custos.log.level": "error", "custos.public.url": "https://custos.example",
                "custos.data.dir": .init(.string(NSTemporaryDirectory() + "custos-one-\(UUID().uuidString)"), isSecret: false),
            ]
            for (key, value) in extra { values[key] = value }
            return Settings(values: values)
        }
    }

    /// One server's settings; `with` gives another server's (its own data folder, another master key).
    struct Settings: Sendable {
        var values: [AbsoluteConfigKey: ConfigValue]
        var reader: ConfigReader { ConfigReader(providers: [InMemoryProvider(values: values)]) }
    }

    static func with(_ settings: Settings, _ changes: [AbsoluteConfigKey: ConfigValue]) -> Settings {
        Settings(values: settings.values.merging(changes) { _, new in new })
    }

    /// A second server's data folder: its own on PostgreSQL; on SQLite the same (the database is a file in it).
    static func secondFolder(_ store: Store, _ settings: Settings) -> ConfigValue {
        store == .postgres ? otherFolder() : settings.values["custos.data.dir"]!
    }

    static func otherFolder() -> ConfigValue { .init(.string(NSTemporaryDirectory() + "custos-b-\(UUID().uuidString)"), isSecret: false) }

    static func expectSameIdentity(_ a: CustosServices, _ b: CustosServices) {
        #expect(a.transparencyKeys.verifierKeys.map(\.key) == b.transparencyKeys.verifierKeys.map(\.key))
        #expect(a.transparencyKeys.nationalSecuritySecret == b.transparencyKeys.nationalSecuritySecret)
        #expect(a.signingKey.keyID == b.signingKey.keyID)
        #expect(a.database.sealer.currentID == b.database.sealer.currentID)
    }

    @Test func twoServersWithTheirOwnFoldersShareOneIdentity() async throws {
        guard TransparencyLogTests.stores.contains(.postgres) else { return }
        let reader = try await Self.reader(.postgres)
        let a = try await buildServices(reader: reader.reader)
        let b = try await buildServices(reader: Self.with(reader, ["custos.data.dir": Self.otherFolder()]).reader)
        Self.expectSameIdentity(a, b)
        // A document sealed by A opens on B; a checkpoint signed by A verifies with B's published key.
        let sealed = try a.database.sealer.seal(Data("%PDF warrant".utf8))
        #expect(try b.database.sealer.open(sealed) == Data("%PDF warrant".utf8))
        try await a.cases.record(AuditRecord(caseID: nil, subject: "test", action: "test.entry", actor: "test", at: a.now()))
        let checkpoint = try await a.checkpoint(.audit)
        try SignedCheckpoint(parsing: checkpoint.note).verify(log: b.transparencyKeys.audit.verifier)
        #expect(try await b.keys.keyring.entries().count == InstallationKeys.names.count + 1)
        // One demo record store for both: a build leased by B reads what was loaded through A.
        try await a.demoRecords.add([CustomerRecord(
            account: "acct-shared", category: .subscriberInfo, timestamp: a.now(), mediaType: "application/json", bytes: Data("{}".utf8), sourceID: "s-1")])
        #expect(try await b.demoRecords.count() == 1)
        await a.shutdown()
        await b.shutdown()
    }

    @Test func serversStartingAtOnceOnAnEmptyDatabaseAllComeUpWithOneIdentity() async throws {
        guard TransparencyLogTests.stores.contains(.postgres) else { return }
        let reader = try await Self.reader(.postgres)
        let started = try await withThrowingTaskGroup(of: CustosServices.self) { group in
            for _ in 0..<4 { group.addTask { try await buildServices(reader: Self.with(reader, ["custos.data.dir": Self.otherFolder()]).reader) } }
            var all: [CustosServices] = []
            for try await services in group { all.append(services) }
            return all
        }
        #expect(started.count == 4)
        for other in started.dropFirst() { Self.expectSameIdentity(started[0], other) }
        // Exactly one of each key was stored, whoever made it.
        #expect(try await started[0].keys.keyring.entries().map(\.name).filter { $0.hasPrefix("storage/") }.count == 1)
        for services in started { await services.shutdown() }
    }

    @Test(arguments: [Store.sqlite, .postgres])
    func aServerWithAnotherMasterKeyRefusesToStart(store: Store) async throws {
        guard TransparencyLogTests.stores.contains(store) else { return }
        let reader = try await Self.reader(store)
        let a = try await buildServices(reader: reader.reader)
        await a.shutdown()
        let other = Self.with(reader, ["custos.master.key": .init(.string(MasterKey.generate().base64), isSecret: true)])
        let error = await #expect(throws: ConfigurationProblem.self) { _ = try await buildServices(reader: other.reader) }
        #expect(error?.description.contains("refusing to start") == true && error?.description.contains("master key") == true, "\(String(describing: error))")
        // The database is untouched: the right key still opens it, with the same keys.
        let again = try await buildServices(reader: reader.reader)
        #expect(again.transparencyKeys.audit.verifierKey == a.transparencyKeys.audit.verifierKey)
        await again.shutdown()
    }

    @Test func postgreSQLNeedsAMasterKeyGiven() async throws {
        guard TransparencyLogTests.stores.contains(.postgres) else { return }
        let reader = try await Self.reader(.postgres)
        let without = Self.with(reader, ["custos.master.key": .init(.string(""), isSecret: true)])
        let error = await #expect(throws: ConfigurationProblem.self) { _ = try await buildServices(reader: without.reader) }
        #expect(error?.description.contains("CUSTOS_MASTER_KEY") == true)
    }

    @Test func theEmbeddedDefaultKeepsItsMasterKeyInTheDataFolder() async throws {
        let reader = try await Self.reader(.sqlite)
        let first = try await buildServices(reader: reader.reader)
        let folder = first.configuration.dataDirectory
        let path = (folder as NSString).appendingPathComponent(InstallationKeys.folderMasterKeyFile)
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        #expect(try MasterKey(contentsOfFile: path).id == first.keys.keyring.master.id)
        // No key files of their own any more: everything is in the database.
        for file in LegacyKeyFolder.files.values { #expect(!FileManager.default.fileExists(atPath: (folder as NSString).appendingPathComponent(file))) }
        await first.shutdown()
        let second = try await buildServices(reader: reader.reader)
        Self.expectSameIdentity(first, second)
        await second.shutdown()
    }

    // MARK: Moving a data folder's keys into the database

    /// A data folder as a version before the keyring left it.
    static func legacyFolder() throws -> (folder: String, secrets: [String: Data], storageKey: SymmetricKey) {
        let folder = NSTemporaryDirectory() + "custos-legacy-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder + "/storage-keys", withIntermediateDirectories: true)
        var secrets: [String: Data] = [:]
        for (name, file) in LegacyKeyFolder.files {
            let bytes = Curve25519.Signing.PrivateKey().rawRepresentation
            secrets[name] = bytes
            try bytes.write(to: URL(fileURLWithPath: folder + "/" + file))
        }
        let storageKey = SymmetricKey(size: .bits256)
        let id = StorageSealer.keyID(storageKey)
        try Data(storageKey.withUnsafeBytes { Data($0) }.base64EncodedString().utf8).write(to: URL(fileURLWithPath: folder + "/storage-keys/\(id).key"))
        try Data(id.utf8).write(to: URL(fileURLWithPath: folder + "/storage-keys/current"))
        try Data("https://old.example\n".utf8).write(to: URL(fileURLWithPath: folder + "/transparency-address"))
        return (folder, secrets, storageKey)
    }

    static func expectKeys(_ services: CustosServices, are legacy: (folder: String, secrets: [String: Data], storageKey: SymmetricKey)) throws {
        let audit = Ed25519NoteSigner(name: "old.example/log/audit", privateKey: try .init(rawRepresentation: legacy.secrets["log-audit"]!))
        #expect(services.transparencyKeys.audit.verifierKey == audit.verifierKey)
        #expect(services.signingKey.privateKey.rawRepresentation == legacy.secrets["package-signing"]!)
        #expect(services.transparencyKeys.nationalSecuritySecret == legacy.secrets["ns-commitment"]!)
        #expect(services.database.sealer.currentID == StorageSealer.keyID(legacy.storageKey))
    }

    @Test func anEmbeddedInstallationsFolderKeysMoveInByThemselves() async throws {
        let legacy = try Self.legacyFolder()
        let reader = Settings(values: ["custos.data.dir": .init(.string(legacy.folder), isSecret: false), "custos.log.level": "error"])
        let services = try await buildServices(reader: reader.reader)
        try Self.expectKeys(services, are: legacy)
        await services.shutdown()
    }

    @Test func importFolderMovesKeysIntoPostgreSQLOnceAndRefusesAnotherInstallations() async throws {
        guard TransparencyLogTests.stores.contains(.postgres) else { return }
        let legacy = try Self.legacyFolder()
        let reader = Self.with(try await Self.reader(.postgres), ["custos.data.dir": .init(.string(legacy.folder), isSecret: false)])
        // Before the import the server refuses: it would otherwise make keys of its own.
        let refusal = await #expect(throws: ConfigurationProblem.self) { _ = try await buildServices(reader: reader.reader) }
        #expect(refusal?.description.contains("custos keys import-folder") == true)
        let configuration = AppConfiguration(reader: reader.reader)
        let database = try CustosDatabase(location: try configuration.databaseLocation(), logger: Logger(label: "test"))
        let keyring = Keyring(store: database, master: try InstallationKeys.masterKey(configuration: configuration))
        let report = try await InstallationKeys.importFolder(legacy.folder, into: keyring, storageKey: nil, at: Date())
        #expect(report.imported.count == LegacyKeyFolder.files.count + 1 && report.alreadyPresent.isEmpty)
        let twice = try await InstallationKeys.importFolder(legacy.folder, into: keyring, storageKey: nil, at: Date())
        #expect(twice.imported.isEmpty && twice.alreadyPresent.count == LegacyKeyFolder.files.count + 1)
        // Another installation's folder changes nothing.
        let stranger = try Self.legacyFolder()
        await #expect(throws: KeyringError.self) { _ = try await InstallationKeys.importFolder(stranger.folder, into: keyring, storageKey: nil, at: Date()) }
        await database.shutdown()
        let services = try await buildServices(reader: reader.reader)
        try Self.expectKeys(services, are: legacy)
        #expect(services.database.sealer.keyIDs == [StorageSealer.keyID(legacy.storageKey)])
        let imports = try await services.cases.auditTrail().filter { $0.record.action == "storage.keys_imported" }
        #expect(imports.count == 1 && imports[0].record.details["folder"] == legacy.folder, "the import is on the record once")
        await services.shutdown()
    }

    @Test func keysThatDidNotSignTheStoredCheckpointsAreRefused() async throws {
        guard TransparencyLogTests.stores.contains(.postgres) else { return }
        let reader = try await Self.reader(.postgres)
        let a = try await buildServices(reader: reader.reader)
        try await a.cases.record(AuditRecord(caseID: nil, subject: "test", action: "test.entry", actor: "test", at: a.now()))
        _ = try await a.checkpoint(.audit)
        // Someone replaces the audit key in the keyring (a restore from another installation's backup).
        try await (a.database.database as! any SQLDatabase).raw("DELETE FROM installation_keys WHERE name = 'log-audit'").run()
        await a.shutdown()
        let error = await #expect(throws: ConfigurationProblem.self) { _ = try await buildServices(reader: reader.reader) }
        #expect(error?.description.contains("not signed by this installation's audit key") == true, "\(String(describing: error))")
    }

    // MARK: Together

    @Test(arguments: [Store.sqlite, .postgres])
    func aPeriodicJobHasOneHolderAndMovesOnWhenItsHolderStops(store: Store) async throws {
        guard TransparencyLogTests.stores.contains(store) else { return }
        let reader = try await Self.reader(store)
        let a = try await buildServices(reader: reader.reader)
        let b = try await buildServices(reader: Self.with(reader, ["custos.data.dir": Self.secondFolder(store, reader)]).reader)
        let time = a.now()
        #expect(try await a.asLeader(.transparency, for: 60, at: time) { 1 } == 1)
        #expect(try await b.asLeader(.transparency, for: 60, at: time) { 1 } == nil, "A holds it")
        #expect(try await a.asLeader(.transparency, for: 60, at: time.addingTimeInterval(30)) { 1 } == 1, "the holder renews")
        #expect(try await b.asLeader(.transparency, for: 60, at: time.addingTimeInterval(60)) { 1 } == nil, "renewed at +30 s, so held until +90 s")
        #expect(try await b.asLeader(.transparency, for: 60, at: time.addingTimeInterval(91)) { 1 } == 1, "A went silent: B takes over")
        #expect(try await a.asLeader(.transparency, for: 60, at: time.addingTimeInterval(92)) { 1 } == nil)
        // Another job is independent; a clean stop hands a job over at once.
        #expect(try await b.asLeader(.noticeRelease, for: 60, at: time) { 1 } == 1)
        try await b.leases.release(LeaderJob.noticeRelease.rawValue, holder: b.run.runID)
        #expect(try await a.asLeader(.noticeRelease, for: 60, at: time) { 1 } == 1)
        await a.shutdown()
        await b.shutdown()
    }

    @Test(arguments: [Store.sqlite, .postgres])
    func signInAndPublicFormLimitsCountOnceAcrossServers(store: Store) async throws {
        guard TransparencyLogTests.stores.contains(store) else { return }
        let reader = try await Self.reader(store, extra: ["custos.sign.in.attempts.per.10.minutes": 5])
        let a = try await buildServices(reader: reader.reader)
        let b = try await buildServices(reader: Self.with(reader, ["custos.data.dir": Self.secondFolder(store, reader)]).reader)
        let time = Date(timeIntervalSince1970: 1_800_000_000)  // the start of a 10-minute window
        var admitted = 0
        for attempt in 0..<10 {
            let limiter = attempt % 2 == 0 ? a.signInLimiter : b.signInLimiter
            if try await limiter.admit("198.51.100.7", at: time.addingTimeInterval(Double(attempt))) == nil { admitted += 1 }
        }
        #expect(admitted == 5)
        let wait = try await a.signInLimiter.admit("198.51.100.7", at: time.addingTimeInterval(20))
        #expect(wait == 580)
        #expect(try await b.signInLimiter.admit("203.0.113.9", at: time) == nil, "another address has its own count")
        #expect(try await b.signInLimiter.admit("198.51.100.7", at: time.addingTimeInterval(600)) == nil, "the next window starts afresh")
        await a.shutdown()
        await b.shutdown()
    }

    @Test(arguments: [Store.sqlite, .postgres])
    func jobsHeldByAServerThatStoppedAnsweringAreTakenBackWhateverItsName(store: Store) async throws {
        guard TransparencyLogTests.stores.contains(store) else { return }
        let reader = try await Self.reader(store, extra: ["custos.heartbeat.seconds": 1])
        let a = try await buildServices(reader: Self.with(reader, ["custos.instance": "pod-a"]).reader)
        let b = try await buildServices(reader: Self.with(reader, ["custos.data.dir": Self.secondFolder(store, reader), "custos.instance": "pod-b"]).reader)
        let job = OutboxRow()
        job.id = UUID()
        job.kind = NoticeStore.deliveryJob
        job.recipient = "x@customer.example"
        job.payload = UUID().uuidString
        job.createdAt = a.now()
        job.attempts = 0
        job.status = JobStatus.pending.rawValue
        job.runAt = a.now()
        try await job.create(on: a.database.database)
        let runnerA = InstallationRunner(services: a), runnerB = InstallationRunner(services: b)
        try await runnerA.tick()
        try await runnerB.tick()
        let leased = try await a.jobs.lease(kinds: [NoticeStore.deliveryJob], limit: 1, owner: a.run.owner("notices"), at: a.now(), leaseFor: 3600)
        #expect(leased.count == 1)
        // While A beats, B leaves its lease alone.
        try await runnerB.tick()
        #expect(try await b.jobs.lease(kinds: [NoticeStore.deliveryJob], limit: 1, owner: b.run.owner("notices"), at: b.now(), leaseFor: 60).isEmpty)
        // A is killed (no clean stop); three heartbeats later B takes the job back, although A's lease had an hour to run.
        try await Task.sleep(for: .milliseconds(3200))
        try await runnerB.tick()
        let taken = try await b.jobs.lease(kinds: [NoticeStore.deliveryJob], limit: 1, owner: b.run.owner("notices"), at: b.now(), leaseFor: 60)
        #expect(taken.map(\.id) == [job.id!])
        #expect(try await a.jobs.complete(job.id!, owner: a.run.owner("notices"), at: a.now()) == false, "A's late answer is refused")
        await a.shutdown()
        await b.shutdown()
    }

    // MARK: Rotation with servers running

    @Test func aStorageKeyRotationWaitsForEveryRunningServerAndLosesNothing() async throws {
        guard TransparencyLogTests.stores.contains(.postgres) else { return }
        let reader = try await Self.reader(.postgres, extra: ["custos.heartbeat.seconds": 1])
        let a = try await buildServices(reader: Self.with(reader, ["custos.instance": "pod-a"]).reader)
        let b = try await buildServices(reader: Self.with(reader, ["custos.data.dir": Self.otherFolder(), "custos.instance": "pod-b"]).reader)
        let cli = try await buildServices(reader: Self.with(reader, ["custos.data.dir": Self.otherFolder(), "custos.instance": "cli"]).reader)
        let before = try a.database.sealer.seal(Data("sealed before".utf8))
        let old = try #require(a.database.sealer.currentID)
        // A and B run their heartbeats (and key refreshes) while the CLI rotates; as servers do,
        // they beat once as they start.
        try await InstallationRunner(services: a).tick()
        try await InstallationRunner(services: b).tick()
        let beating = Task {
            while !Task.isCancelled {
                try? await InstallationRunner(services: a).tick()
                try? await InstallationRunner(services: b).tick()
                try? await Task.sleep(for: .milliseconds(200))
            }
        }
        let outcome = try await KeyRotation(services: cli, wait: 20).rotateStorageKey(actor: "test")
        beating.cancel()
        #expect(Set(outcome.servers) == [a.run.runID, b.run.runID])
        #expect(outcome.key != old && outcome.retired == 1)
        for services in [a, b] {
            #expect(services.database.sealer.currentID == outcome.key)
            #expect(try services.database.sealer.open(before) == Data("sealed before".utf8), "a running server keeps the keys it loaded")
        }
        #expect(try await a.keys.keyring.entries().filter { $0.name.hasPrefix("storage/") }.map(\.name) == ["storage/\(outcome.key)"])
        let sealedByB = try b.database.sealer.seal(Data("after".utf8))
        #expect(try a.database.sealer.open(sealedByB) == Data("after".utf8))
        await a.shutdown()
        await b.shutdown()
        await cli.shutdown()
    }

    @Test func aRotationStopsBeforeRetiringWhileAServerCannotFollow() async throws {
        guard TransparencyLogTests.stores.contains(.postgres) else { return }
        let reader = try await Self.reader(.postgres)
        let cli = try await buildServices(reader: reader.reader)
        let old = try #require(cli.database.sealer.currentID)
        // A server that beats but never loads the new key (it runs with another master key).
        try await cli.instanceRuns.beat(
            InstanceRuns.Run(id: "stuck#1", instance: "stuck@elsewhere", heartbeat: cli.now(), masterKeyID: "0000000000000000", storageCurrent: old, storageKnown: [old]),
            startedAt: cli.now())
        let error = await #expect(throws: KeyringError.self) { _ = try await KeyRotation(services: cli, wait: 1).rotateStorageKey(actor: "test") }
        #expect(error?.description.contains("stuck#1 (runs with master key 0000000000000000)") == true, "\(String(describing: error))")
        // Nothing was retired, and the old key is still current.
        #expect(try await cli.keys.keyring.setting(Keyring.currentStorageKey) == old)
        #expect(try await cli.keys.keyring.entries().filter { $0.name.hasPrefix("storage/") }.count == 2)
        await cli.shutdown()
    }

    @Test(arguments: [Store.sqlite, .postgres])
    func aMasterKeyRotationResealsTheKeyringAndOnlyTheNewKeyOpensIt(store: Store) async throws {
        guard TransparencyLogTests.stores.contains(store) else { return }
        let reader = try await Self.reader(store)
        let a = try await buildServices(reader: reader.reader)
        let next = MasterKey.generate()
        let count = try await KeyRotation(services: a).rotateMasterKey(to: next, actor: "test")
        #expect(count == InstallationKeys.names.count + 1)
        #expect(try await a.keys.keyring.entries().allSatisfy { $0.sealedBy == next.id })
        #expect(try await a.cases.auditTrail().contains { $0.record.action == "storage.master_key_rotated" && $0.record.details["to"] == next.id })
        await a.shutdown()
        let keyFile = store == .sqlite
            ? (AppConfiguration(reader: reader.reader).dataDirectory as NSString).appendingPathComponent(InstallationKeys.folderMasterKeyFile) : nil
        if let keyFile {
            // The embedded default: a rotation that stopped before its rename is finished at start.
            try next.write(toNewFile: keyFile + InstallationKeys.pendingSuffix)
            let finished = try await buildServices(reader: reader.reader)
            #expect(finished.keys.keyring.master.id == next.id)
            #expect(try MasterKey(contentsOfFile: keyFile).id == next.id)
            Self.expectSameIdentity(a, finished)
            await finished.shutdown()
        } else {
            await #expect(throws: ConfigurationProblem.self) { _ = try await buildServices(reader: reader.reader) }
            let restarted = try await buildServices(reader: Self.with(reader, ["custos.master.key": .init(.string(next.base64), isSecret: true)]).reader)
            Self.expectSameIdentity(a, restarted)
            await restarted.shutdown()
        }
    }

    // MARK: Readiness

    @Test func readyNamesWhatKeepsAServerFromServing() async throws {
        try await ServerTests.withApp { client, _, services in
            try await client.execute(uri: "/ready", method: .get) { response in
                #expect(response.status == .ok)
                let body = try ServerTests.json(response.body)
                #expect(body["status"] as? String == "ready" && body["instance"] as? String == services.run.runID)
            }
            // A migration of this version has not run (an older schema, or another version migrating).
            try await (services.database.database as! any SQLDatabase).raw("DELETE FROM _fluent_migrations WHERE name = '028_OneInstallation'").run()
            try await client.execute(uri: "/ready", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                let problems = try ServerTests.json(response.body)["problems"] as? [String] ?? []
                #expect(problems.contains { $0.contains("schema is not this version's") }, "\(problems)")
            }
            try await client.execute(uri: "/health", method: .get) { #expect($0.status == .ok) }
        }
    }
}
