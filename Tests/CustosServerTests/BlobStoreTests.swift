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
import Testing

/// Issue 28, part 2: packages and snapshots live where every instance reads them. The same
/// contract holds for each store: the data folder, the database (SQLite and PostgreSQL) and an
/// S3-protocol server (moto, started by `scripts/test`; `CUSTOS_TEST_S3_ENDPOINT`).
@Suite(.serialized) struct BlobStoreTests {
    enum Kind: String, CustomTestStringConvertible, Sendable {
        case folder, sqliteDatabase, postgresDatabase, s3
        var testDescription: String { rawValue }
    }

    static var s3Endpoint: String? { ProcessInfo.processInfo.environment["CUSTOS_TEST_S3_ENDPOINT"].flatMap { $0.isEmpty ? nil : $0 } }
    static var postgres: Bool { TransparencyLogTests.stores.contains(.postgres) }
    static var kinds: [Kind] { [.folder, .sqliteDatabase] + (postgres ? [.postgresDatabase] : []) + (s3Endpoint != nil ? [.s3] : []) }
    static var sharedKinds: [Kind] { kinds.filter { $0 != .folder } }

    static func s3Settings(bucket: String, partMiB: Int = 5) throws -> S3BlobStore.Settings {
        try S3BlobStore.Settings(
            url: "s3://\(bucket)/custos/blobs", endpoint: s3Endpoint, region: "eu-central-1", accessKeyID: "testing", secretAccessKey: "testing",
            sessionToken: nil, partSize: partMiB << 20)
    }

    static func bucketName() -> String { "custos-\(UUID().uuidString.prefix(8).lowercased())" }

    /// A fresh store of `kind`, closed after `body`.
    static func withStore(_ kind: Kind, _ body: (any BlobStore) async throws -> Void) async throws {
        let folder = URL(fileURLWithPath: NSTemporaryDirectory() + "custos-blobs-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        switch kind {
        case .folder:
            try await body(FolderBlobStore(root: folder))
        case .sqliteDatabase, .postgresDatabase:
            let location: DatabaseLocation
            if kind == .sqliteDatabase {
                location = .sqliteFile(path: folder.appendingPathComponent("custos.sqlite").path)
            } else {
                let url = try #require(try await TransparencyLogTests.settings(.postgres)["custos.database.url"]).content
                guard case .string(let text) = url else { throw BlobError("no database url") }
                location = .postgres(url: text)
            }
            let database = try CustosDatabase(location: location, logger: Logger(label: "test"))
            do {
                try await database.migrate()
                try await body(DatabaseBlobStore(store: database, scratch: folder.appendingPathComponent("scratch")))
            } catch {
                await database.shutdown()
                throw error
            }
            await database.shutdown()
        case .s3:
            var settings = try s3Settings(bucket: bucketName())
            settings.readSize = 1 << 20
            let store = S3BlobStore(settings: settings, scratch: folder.appendingPathComponent("scratch"))
            try await store.ensureBucket()
            try await body(store)
        }
    }

    /// `count` random bytes in a new file of the store's scratch folder.
    static func file(_ store: any BlobStore, for key: String, _ bytes: Data) throws -> URL {
        let folder = store.scratchFolder(for: key)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let url = folder.appendingPathComponent(".upload-\(UUID().uuidString)")
        try bytes.write(to: url)
        return url
    }

    static func random(_ count: Int) -> Data {
        var generator = SystemRandomNumberGenerator()
        return Data((0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }

    /// Reads a blob whole (the tests' blobs are small) and the largest piece a read handed out.
    static func read(_ store: any BlobStore, _ key: String) async throws -> (bytes: Data, largestPiece: Int, pieces: Int)? {
        guard let reader = try await store.open(key) else { return nil }
        var bytes = Data()
        var largest = 0, pieces = 0
        while let piece = try await reader.next() {
            bytes.append(piece)
            largest = max(largest, piece.count)
            pieces += 1
        }
        #expect(reader.size == bytes.count)
        return (bytes, largest, pieces)
    }

    @Test(arguments: kinds)
    func aBlobIsStoredReadInPiecesReplacedListedAndDeleted(kind: Kind) async throws {
        try await Self.withStore(kind) { store in
            let first = Self.random(9 << 20 / 4 + 17)  // 2.25 MiB and a bit: several pieces in every store
            let key = "packages/\(UUID().uuidString.lowercased()).zip.sealed"
            let upload = try Self.file(store, for: key, first)
            try await store.put(key, from: upload)
            #expect(!FileManager.default.fileExists(atPath: upload.path), "the local file is taken in")
            #expect(try await store.exists(key))
            let read = try #require(try await Self.read(store, key))
            #expect(read.bytes == first)
            #expect(read.pieces > 1 && read.largestPiece <= 4 << 20, "read in pieces, never whole (\(read.pieces) pieces, largest \(read.largestPiece))")

            // A replace is seen whole; the old content is gone.
            let second = Self.random(1000)
            try await store.put(key, from: try Self.file(store, for: key, second))
            #expect(try await Self.read(store, key)?.bytes == second)
            if let database = store as? DatabaseBlobStore {
                let rows = try await database.store.sql.raw("SELECT COUNT(*) AS n FROM blob_chunks").first()?.decode(column: "n", as: Int.self)
                #expect(rows == 1, "the replaced generation's chunks are deleted with the switch")
            }

            // Empty blobs, other prefixes, listing.
            try await store.put("packages/empty", from: try Self.file(store, for: "packages/empty", Data()))
            #expect(try await Self.read(store, "packages/empty")?.bytes == Data())
            try await store.put("preservations/p_1%.zip", from: try Self.file(store, for: "preservations/p_1%.zip", Data("p".utf8)))
            #expect(try await store.keys(prefix: "packages/") == [key, "packages/empty"].sorted())
            #expect(try await store.keys(prefix: "preservations/p_") == ["preservations/p_1%.zip"])
            #expect(try await store.keys(prefix: "preservations/px").isEmpty, "a prefix is not a pattern")

            try await store.delete(key)
            #expect(try await !store.exists(key))
            #expect(try await store.open(key) == nil)
            try await store.delete(key)  // deleting what is gone is no error
            #expect(try await store.keys(prefix: "packages/") == ["packages/empty"])
        }
    }

    @Test func aLargeBlobGoesToS3InPartsAndComesBackWhole() async throws {
        guard Self.s3Endpoint != nil else { return }
        try await Self.withStore(.s3) { store in
            let bytes = Self.random(11 << 20 + 3)  // three parts of at most 5 MiB
            try await store.put("packages/large", from: try Self.file(store, for: "packages/large", bytes))
            let read = try #require(try await Self.read(store, "packages/large"))
            #expect(read.bytes == bytes && read.pieces == 12, "ranged reads of 1 MiB")
        }
    }

    @Test func anS3StoreWithWrongSettingsIsRefusedClearly() async throws {
        #expect(throws: BlobError.self) { try S3BlobStore.Settings(url: "s3:///nobucket", endpoint: nil, region: "x", accessKeyID: "a", secretAccessKey: "b", sessionToken: nil, partSize: 5 << 20) }
        #expect(throws: BlobError.self) { try S3BlobStore.Settings(url: "s3://b/p", endpoint: nil, region: "x", accessKeyID: nil, secretAccessKey: nil, sessionToken: nil, partSize: 5 << 20) }
        #expect(throws: BlobError.self) { try S3BlobStore.Settings(url: "s3://b/p", endpoint: nil, region: "x", accessKeyID: "a", secretAccessKey: "b", sessionToken: nil, partSize: 1 << 20) }
        let reader = ConfigReader(providers: [InMemoryProvider(values: [
            "custos.database.memory": true, "custos.log.level": "error", "custos.blob.url": "ftp://somewhere",
        ])])
        await #expect(throws: ConfigurationProblem.self) { _ = try await buildServices(reader: reader) }
    }

    /// The example in the S3 API reference ("Signature Calculations for the Authorization
    /// Header", GET Object with a Range), whose signature is published there.
    @Test func sigV4MatchesTheS3ReferenceExample() {
        let signer = SigV4(accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", region: "us-east-1")
        let headers = signer.sign(
            method: "GET", host: "examplebucket.s3.amazonaws.com", path: "/test.txt", headers: ["Range": "bytes=0-9"],
            payloadHash: SigV4.emptyPayload, at: Date(timeIntervalSince1970: 1_369_353_600))  // 2013-05-24T00:00:00Z
        #expect(headers["authorization"] == "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
        #expect(headers["x-amz-date"] == "20130524T000000Z")
        #expect(SigV4.encode("a b/c$~", keepingSlash: true) == "a%20b/c%24~")
    }

    // MARK: Packages in a shared store, through the services

    /// The settings of one server whose packages go to a shared store of `kind`.
    static func serverSettings(_ kind: Kind, bucket: String) async throws -> [AbsoluteConfigKey: ConfigValue] {
        let folder = NSTemporaryDirectory() + "custos-shared-\(UUID().uuidString)"
        switch kind {
        case .folder:
            return ["custos.data.dir": .init(.string(folder), isSecret: false), "custos.log.level": "error"]
        case .sqliteDatabase:
            return ["custos.data.dir": .init(.string(folder), isSecret: false), "custos.log.level": "error", "custos.blob.url": "database"]
        case .postgresDatabase:
            return try await TransparencyLogTests.settings(.postgres)  // the database is the default store with CUSTOS_DATABASE_URL
        case .s3:
            var values = try await TransparencyLogTests.settings(Self.postgres ? .postgres : .sqlite)
            if !Self.postgres { values["custos.data.dir"] = .init(.string(folder), isSecret: false) }
            values["custos.blob.url"] = .init(.string("s3://\(bucket)/installation"), isSecret: false)
            values["custos.s3.endpoint"] = .init(.string(Self.s3Endpoint!), isSecret: false)
            values["custos.s3.region"] = "eu-central-1"
            values["custos.s3.access.key.id"] = "testing"
            values["custos.s3.secret.access.key"] = .init(.string("testing"), isSecret: true)
            return values
        }
    }

    @Test(arguments: sharedKinds)
    func aPackageInASharedStoreIsBuiltDownloadedVerifiedResealedAndDeletedWithoutTheDataFolder(kind: Kind) async throws {
        let values = try await Self.serverSettings(kind, bucket: Self.bucketName())
        let reader = ConfigReader(providers: [InMemoryProvider(values: values)])
        try await ServerTests.withApp(reader: reader) { client, tokens, services in
            #expect(services.blobs.isShared)
            let token = try await EncryptionAtRestTests.custodianToken(services)
            let built = try await EncryptionAtRestTests.builtCase("B-\(kind.rawValue)", client, tokens, services, custodian: token)
            let key = CustosServices.packageKey(caseID: built.id)
            #expect(try await services.blobs.exists(key))
            #expect(!FileManager.default.fileExists(atPath: services.packageURL(caseID: built.id).path), "nothing in the data folder")
            let scratch = services.blobs.scratchFolder(for: key)
            #expect(((try? FileManager.default.contentsOfDirectory(atPath: scratch.path)) ?? []).isEmpty, "no local copy is left behind")

            // Sealed at rest in the store: no plain ZIP header, no record text.
            let raw = try #require(try await Self.read(services.blobs, key)).bytes
            #expect(raw.starts(with: Data("CSF1".utf8)) && raw.range(of: Data("secret subscriber".utf8)) == nil)
            #expect(await services.verifyStoredPackage(caseID: built.id).isValid)

            // The console's download streams the plain ZIP out of the store; it verifies as a recipient's copy.
            let email = "dl-\(UUID().uuidString.prefix(6).lowercased())@p.example"
            let person = Principal(id: UUID(), email: email, displayName: "DL", kind: .staff, roles: [.approver])
            try await services.identity.createPrincipal(person, passwordHash: try await Passwords.hash("download password 1"), at: services.now())
            let secret = try await ServerTests.enrolSecondFactor(person, services)
            let session = try await ServerTests.webSession(email: email, password: "download password 1", portal: "/staff", secret: secret, client: client, services: services)
            let zip = try await client.execute(uri: "/staff/cases/\(built.id.uuidString.lowercased())/package", method: .get, headers: [.cookie: "custos_session=\(session)"]) { response in
                #expect(response.status == .ok)
                return Data(buffer: response.body)
            }
            let received = URL(fileURLWithPath: NSTemporaryDirectory() + "custos-received-\(UUID().uuidString).zip")
            defer { try? FileManager.default.removeItem(at: received) }
            try zip.write(to: received)
            #expect(await PackageVerifier.verify(received, publicKey: services.signingKey.publicKey).isValid)

            // Bytes altered in the store make the package fail verification, so it cannot be released.
            if let database = services.blobs as? DatabaseBlobStore {
                let sql = database.store.sql
                let row = try #require(try await sql.raw("SELECT c.generation, c.seq, c.bytes FROM blob_chunks c JOIN blobs b ON b.generation = c.generation WHERE b.key = \(bind: key) ORDER BY c.seq").first())
                var bytes = try row.decode(column: "bytes", as: Data.self)
                let original = bytes
                bytes[bytes.count / 2] ^= 0x01
                try await sql.raw("UPDATE blob_chunks SET bytes = \(bind: bytes) WHERE generation = \(bind: try row.decode(column: "generation", as: String.self)) AND seq = 0").run()
                let tampered = await services.verifyStoredPackage(caseID: built.id)
                #expect(!tampered.isValid && tampered.problems.joined().contains("does not authenticate"), "\(tampered.problems)")
                try await sql.raw("UPDATE blob_chunks SET bytes = \(bind: original) WHERE generation = \(bind: try row.decode(column: "generation", as: String.self)) AND seq = 0").run()
            }

            // Another instance (its own, empty data folder; the same PostgreSQL and store) reads and verifies it.
            if kind == .postgresDatabase || (kind == .s3 && Self.postgres) {
                var other = values
                other["custos.data.dir"] = .init(.string(NSTemporaryDirectory() + "custos-other-\(UUID().uuidString)"), isSecret: false)
                let second = try await buildServices(reader: ConfigReader(providers: [InMemoryProvider(values: other)]))
                let report = await second.verifyStoredPackage(caseID: built.id)
                var plain = Data()
                do {
                    try await second.openPackage(caseID: built.id)?.forEach { plain.append($0) }
                } catch {
                    Issue.record("the other instance cannot read the package: \(error)")
                }
                await second.shutdown()
                #expect(report.isValid, "\(report.problems)")
                #expect(plain == zip)
            }

            // A storage-key rotation reseals the stored package in place.
            let outcome = try await KeyRotation(services: services, wait: 5).rotateStorageKey(actor: "test")
            #expect(outcome.resealed.packages == 1)
            #expect(try await services.openPackage(caseID: built.id)?.header?.keyID == outcome.key)
            #expect(await services.verifyStoredPackage(caseID: built.id).isValid)
            #expect(try await services.resealPackages() == 0)

            // Release checks the stored package first (it verifies), then retention deletes it from
            // the store, with its tombstone.
            let events = "/api/v1/cases/\(built.id.uuidString.lowercased())/events"
            for (who, body) in [(tokens.approver1, #"{"type": "approve_release"}"#), (tokens.approver2, #"{"type": "approve_release"}"#), (token, #"{"type": "release"}"#)] {
                try await client.execute(uri: events, method: .post, headers: ServerTests.headers(who), body: ByteBuffer(string: body)) { response throws in
                    #expect(response.status == .ok, "\(String(buffer: response.body))")
                }
            }
            let later = services.now().addingTimeInterval(TimeInterval(services.configuration.packageRetentionDays + 1) * 86_400)
            #expect(try await PackageRunner(services: services).deleteExpiredPackages(at: later) == 1)
            #expect(try await !services.blobs.exists(key))
            #expect(try await services.packages.record(caseID: built.id, purpose: .production)?.status == .deleted)
        }
    }

    // MARK: Documents and attachments

    /// Where documents are kept in the document tests: their rows, and (with moto) S3.
    static var documentStores: [String] { ["rows"] + (s3Endpoint != nil ? ["s3"] : []) }

    static func documentReader(_ store: String) async throws -> ConfigReader {
        store == "s3" ? ConfigReader(providers: [InMemoryProvider(values: try await serverSettings(.s3, bucket: bucketName()))]) : ServerTests.reader
    }

    /// A document's row and where its sealed bytes are: in the row, or (S3) only in the store.
    static func expectKept(in store: String, table: String, prefix: String, id: UUID, plain: Data, _ services: CustosServices) async throws {
        let row = try #require(try await services.database.sql.raw("SELECT content, blob_key FROM \(unsafeRaw: table) WHERE id = \(bind: id)").first())
        let content = try row.decode(column: "content", as: Data.self), key = try row.decode(column: "blob_key", as: String?.self)
        if store == "s3" {
            #expect(content.isEmpty && key == "\(prefix)/\(id.uuidString.lowercased())")
            let blobKey = try #require(key)
            let sealed = try #require(try await services.blobs.read(blobKey, limit: 1 << 20))
            let opened = try services.database.sealer.open(sealed)
            #expect(sealed.range(of: plain) == nil && opened == plain)
        } else {
            #expect(key == nil && !content.isEmpty && content.range(of: plain) == nil)
        }
    }

    @Test(arguments: documentStores)
    func demandDocumentsAreKeptWhereTheInstallationKeepsThemAndResealed(store: String) async throws {
        try await ServerTests.withApp(reader: try await Self.documentReader(store)) { client, tokens, services in
            let demandText = try await client.execute(uri: "/api/v1/demands", method: .post, headers: ServerTests.headers(tokens.officer), body: ByteBuffer(string: ServerTests.demandJSON())) { response in
                #expect(response.status == .created)
                return try #require(try ServerTests.json(response.body)["id"] as? String)
            }
            let demandID = try #require(UUID(uuidString: demandText))
            let demand = try #require(try await services.cases.findDemand(id: demandID))
            let document = try #require(demand.documents.first)
            let plain = Data("%PDF-1.4 test".utf8)
            try await Self.expectKept(in: store, table: "demand_documents", prefix: "documents", id: document.id, plain: plain, services)
            #expect(try await services.cases.findDocument(id: document.id)?.bytes == plain)
            let outcome = try await KeyRotation(services: services, wait: 5).rotateStorageKey(actor: "test")
            #expect(outcome.resealed.documents == 1)
            #expect(try await services.cases.findDocument(id: document.id)?.bytes == plain)
            if store == "s3" {
                let sealed = try #require(try await services.blobs.read("documents/\(document.id.uuidString.lowercased())", limit: 1 << 20))
                #expect(services.database.sealer.isCurrent(sealed), "the blob was resealed under the new key")
            }
        }
    }
}
