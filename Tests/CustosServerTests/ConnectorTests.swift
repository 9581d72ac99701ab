import Configuration
import Crypto
import CustosDomain
@testable import CustosServer
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// The HTTP connector protocol (issue 5, item 2): Custos signs the scope, reads NDJSON with inline
/// bytes or blob references, and checks every record against the plan again, so a connector that
/// returns too much can never widen a package.
@Suite struct ConnectorTests {
    /// Runs `router` on a loopback port for the duration of `body`, passing its base URL.
    static func serve(_ router: Router<BasicRequestContext>, _ body: @escaping @Sendable (String) async throws -> Void) async throws {
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in try await body("http://127.0.0.1:\(client.port!)") }
    }

    @Test(arguments: 1...10)
    func aConnectorThatReturnsTooMuchStillProducesOnlyTheScope(seed: Int) async throws {
        var rng = SplitMix64(state: UInt64(seed) &* 0x9E37_79B9_7F4A_7C15)
        let categories = Array(DataCategory.allCases.filter { $0 != .encryptionKeys }.shuffled(using: &rng).prefix(Int.random(in: 1...4, using: &rng)))
        let plan = ProductionPackageTests.plan(categories: categories, window: Bool.random(using: &rng) ? ProductionPackageTests.window : nil)
        let records = ProductionPackageTests.randomRecords(Int.random(in: 1...80, using: &rng), using: &rng)
        let (builder, key) = try await ProductionPackageTests.builder()
        // records over 300 bytes travel as blob references
        let connector = ReferenceConnector(source: ListSource(all: records), publicKey: key.publicKey, blobThreshold: 300)
        let folder = try ProductionPackageTests.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("package.zip")
        try await Self.serve(connector.router()) { base in
            let source = ConnectorSource(url: base + "/collect", key: key)
            let result = try await builder.build(plan: plan, facts: ProductionPackageTests.facts, source: source, at: ProductionPackageTests.t0, destination: url)
            let inScope = records.filter { plan.cut($0) == nil }
            let report = await PackageVerifier.verify(url, publicKey: key.publicKey)
            #expect(report.isValid, "\(report.problems)")
            let manifest = try #require(report.manifest)
            #expect(manifest.source == "connector:\(base)/collect" && result.summary.source == manifest.source)
            #expect(manifest.files.map(\.sourceID) == inScope.map(\.sourceID), "seed \(seed)")
            #expect(manifest.files.map(\.sha256) == inScope.map { PackageBuilder.hex(SHA256.hash(data: $0.bytes)) }, "seed \(seed)")
            #expect(!manifest.files.contains { $0.category == .encryptionKeys })
            for reason in ScopeCut.allCases {
                #expect(manifest.cut[reason.rawValue] == records.filter { plan.cut($0) == reason }.count, "seed \(seed): \(reason)")
            }
        }
    }

    @Test func theConnectorRefusesARequestNotSignedByCustosAndNoPackageIsMade() async throws {
        let (builder, key) = try await ProductionPackageTests.builder()
        let stranger = PackageSigningKey(privateKey: Curve25519.Signing.PrivateKey())
        let record = CustomerRecord(account: "acct-alice-001", category: .subscriberInfo, timestamp: ProductionPackageTests.window.from, mediaType: "application/json", bytes: Data("{}".utf8))
        let connector = ReferenceConnector(source: ListSource(all: [record]), publicKey: key.publicKey)
        let folder = try ProductionPackageTests.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("package.zip")
        try await Self.serve(connector.router()) { base in
            await #expect(throws: ConnectorError.self) {
                try await builder.build(plan: ProductionPackageTests.plan(), facts: ProductionPackageTests.facts, source: ConnectorSource(url: base + "/collect", key: stranger), at: ProductionPackageTests.t0, destination: url)
            }
            #expect(!FileManager.default.fileExists(atPath: url.path))
            // the right key passes
            _ = try await builder.build(plan: ProductionPackageTests.plan(), facts: ProductionPackageTests.facts, source: ConnectorSource(url: base + "/collect", key: key), at: ProductionPackageTests.t0, destination: url)
            #expect(FileManager.default.fileExists(atPath: url.path))
        }
    }

    @Test(arguments: [
        (#"{"account": "acct-alice-001", "category": "subscriber_info", "timestamp": "2026-01-02T00:00:00Z", "mediaType": "text/plain"}"#, "exactly one of data and blob"),
        (#"{"account": "acct-alice-001", "category": "telepathy", "timestamp": "2026-01-02T00:00:00Z", "mediaType": "text/plain", "data": "AA=="}"#, "unknown category"),
        (#"{"account": "acct-alice-001", "category": "subscriber_info", "timestamp": "2026-01-02T00:00:00Z", "mediaType": "text/plain", "data": "%%%"}"#, "not base64"),
        (#"not json"#, "line 2 is not a record"),
        (#"{"account": "acct-alice-001", "category": "subscriber_info", "timestamp": "2026-01-02T00:00:00Z", "mediaType": "text/plain", "blob": {"url": "http://198.51.100.7/steal"}}"#, "not on the connector's origin"),
        (#"{"account": "acct-alice-001", "category": "subscriber_info", "timestamp": "2026-01-02T00:00:00Z", "mediaType": "text/plain", "blob": {"url": "BASE/blob", "sha256": "00"}}"#, "does not match its SHA-256"),
    ])
    func aBadLineFailsTheWholeBuild(line: String, expected: String) async throws {
        let (builder, key) = try await ProductionPackageTests.builder()
        let good = #"{"account": "acct-alice-001", "category": "subscriber_info", "timestamp": "2026-01-02T00:00:00Z", "mediaType": "text/plain", "data": "aGk="}"#
        let folder = try ProductionPackageTests.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("package.zip")
        // the port is known only once serving, so the blob line names BASE and is filled in by a second router
        let port = PortBox()
        let router = Router()
        router.post("/collect") { _, _ in
            let filled = line.replacingOccurrences(of: "BASE", with: "http://127.0.0.1:\(port.value)")
            return Response(status: .ok, headers: [.contentType: "application/x-ndjson"], body: .init(byteBuffer: ByteBuffer(string: good + "\n" + filled + "\n")))
        }
        router.get("/blob") { _, _ in Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: "blob bytes"))) }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in
            port.value = client.port!
            do {
                _ = try await builder.build(
                    plan: ProductionPackageTests.plan(), facts: ProductionPackageTests.facts,
                    source: ConnectorSource(url: "http://127.0.0.1:\(client.port!)/collect", key: key), at: ProductionPackageTests.t0, destination: url)
                Issue.record("a bad line was accepted: \(line)")
            } catch let error as ConnectorError {
                #expect(error.description.contains(expected), "\(error)")
            }
            #expect(!FileManager.default.fileExists(atPath: url.path), "no half package")
        }
    }

    @Test func aConfiguredConnectorReplacesTheDemoStore() async throws {
        let reader = ConfigReader(providers: [InMemoryProvider(values: [
            "custos.database.memory": true, "custos.log.level": "error", "custos.connector.url": "https://connector.internal.example/collect",
        ])])
        let services = try await buildServices(reader: reader)
        #expect(services.dataSource.name == "connector:https://connector.internal.example/collect")
        #expect((services.dataSource(for: .preservation) as? ConnectorSource)?.purpose == .preservation)
        await services.shutdown()
        let plain = try await buildServices(reader: ServerTests.reader)
        #expect(plain.dataSource.name == "demo-store")
        await plain.shutdown()
    }
}

/// The test server's port, known only once it serves, read by its own route handler.
final class PortBox: @unchecked Sendable {
    private let lock = NSLock()
    private var stored = 0
    var value: Int {
        get { lock.withLock { stored } }
        set { lock.withLock { stored = newValue } }
    }
}
