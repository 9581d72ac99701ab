import Configuration
import CustosDomain
@testable import CustosServer
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// Issue 10, item 4 (first part): the hostile-input corpus in `Tests/hostile/corpus` (written by
/// `Tests/hostile/generate.py`, reviewed like code): malformed and deeply nested JSON, huge fields,
/// invalid UTF-8, wrong types, path traversal in file names, oversize documents, header injection.
/// Every body gets a 4xx with a problem document, and nothing stored changes.
@Suite struct HostileInputTests {
    static var corpus: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("hostile/corpus")
    }

    @Test func everyHostileBodyGetsAClear4xxAndChangesNothing() async throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: Self.corpus.path).filter { $0.hasSuffix(".body") }.sorted()
        #expect(names.count >= 100)
        let reader = ConfigReader(providers: [InMemoryProvider(values: [
            "custos.database.memory": true, "custos.max.document.bytes": 2048, "custos.log.level": "error", "custos.public.forms.per.hour": 10_000,
        ])])
        try await ServerTests.withApp(reader: reader) { client, tokens, services in
            let agencyID = try #require(try await services.directory.findAgency(named: "Agency A")).id
            func state() async throws -> (demands: Int, notices: Int, audit: Int) {
                (try await services.cases.listDemands(agencyID: agencyID, limit: 10_000, before: nil).demands.count, try await services.copyright.list().count, try await services.cases.auditTrail().count)
            }
            let before = try await state()
            var statuses: [Int: Int] = [:]
            for name in names {
                let body = try Data(contentsOf: Self.corpus.appendingPathComponent(name))
                let isDemand = name.hasPrefix("demand-")
                var headers: HTTPFields = [.contentType: "application/json"]
                if isDemand { headers[.authorization] = "Bearer \(tokens.officer)" }
                try await client.execute(uri: isDemand ? "/api/v1/demands" : "/api/v1/copyright/notices", method: .post, headers: headers, body: ByteBuffer(data: body)) { response throws in
                    statuses[Int(response.status.code), default: 0] += 1
                    #expect((400..<500).contains(response.status.code) && response.status != .unauthorized && response.status != .forbidden, "\(name) → \(response.status.code): \(String(buffer: response.body).prefix(300))")
                    #expect(response.headers[.contentType]?.hasPrefix("application/problem+json") == true, "\(name) answered without a problem document")
                    let problem = try? ServerTests.json(response.body)
                    #expect((problem?["detail"] as? String)?.isEmpty == false, "\(name): the problem says nothing")
                }
            }
            let after = try await state()
            #expect(after.demands == before.demands && after.notices == before.notices && after.audit == before.audit, "stored state changed: \(before) → \(after)")
            #expect(statuses.keys.allSatisfy { (400..<500).contains($0) })
        }
    }
}
