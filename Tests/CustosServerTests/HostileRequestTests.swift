import Configuration
import CustosDomain
@testable import CustosServer
import CustosStorage
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// Issue 10, item 4, second part: whole hostile requests kept as files in `Tests/hostile/requests`
/// (written by `Tests/hostile/generate.py`): malformed workflow events, forged and missing CSRF
/// tokens, forged, altered and expired credentials, oversize bodies, zip and gzip bombs, traversal
/// and injection in URLs, a replayed Idempotency-Key. Each must get the 4xx its file names, with a
/// problem body for the API, and leave demands, notices, the audit trail and the case unchanged.
/// And the injection payloads: accepted as data, stored byte for byte, shown escaped.
@Suite struct HostileRequestTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("hostile")

    struct Spec: Decodable {
        var method: String
        var path: String
        var `as`: String
        var body: String?
        var bodyBase64: String?
        var headers: [String: String]
        var expect: [Int]
        var problem: Bool
        var advance: Double?
        var first: [Spec]?
    }

    static let reader = ConfigReader(providers: [InMemoryProvider(values: [
        "custos.database.memory": true, "custos.max.document.bytes": 2048, "custos.max.request.bytes": 65536,
        "custos.session.minutes": 60, "custos.log.level": "error", "custos.public.forms.per.hour": 10_000,
    ])])

    /// A reviewer's console session and its CSRF token.
    static func session(_ email: String, client: any TestClientProtocol, services: CustosServices, page: String) async throws -> (cookie: String, csrf: String) {
        let person = Principal(id: UUID(), email: email, displayName: "Session", kind: .staff, roles: [.reviewer])
        try await services.identity.createPrincipal(person, passwordHash: try await Passwords.hash("hostile password 1"), at: services.now())
        let secret = try await ServerTests.enrolSecondFactor(person, services)
        let cookie = try await ServerTests.webSession(email: email, password: "hostile password 1", portal: "/staff", secret: secret, client: client, services: services)
        let csrf = try await client.execute(uri: page, method: .get, headers: [.cookie: "custos_session=\(cookie)"]) { response in
            try #require(ServerTests.csrf(in: String(buffer: response.body)))
        }
        return (cookie, csrf)
    }

    @Test func everyHostileRequestGetsItsClear4xxAndChangesNothing() async throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: Self.folder.appendingPathComponent("requests").path).filter { $0.hasSuffix(".json") }.sorted()
        let bodies = try FileManager.default.contentsOfDirectory(atPath: Self.folder.appendingPathComponent("corpus").path).filter { $0.hasSuffix(".body") }
        #expect(names.count + bodies.count >= 200, "the corpus holds at least 200 cases")
        let specs = try names.map { ($0, try JSONDecoder().decode(Spec.self, from: Data(contentsOf: Self.folder.appendingPathComponent("requests/\($0)")))) }
        let clock = CopyrightFlowTests.TestClock(Date())
        try await ServerTests.withApp(reader: Self.reader, clock: { clock.now() }) { client, tokens, services in
            let subject = try await NoticeDeliveryTests.caseInReview(client, tokens, services, reference: "HOSTILE-CASE")
            let casePage = "/staff/cases/\(subject.id.uuidString.lowercased())"
            let mine = try await Self.session("hostile-session@p.example", client: client, services: services, page: casePage)
            let other = try await Self.session("other-session@p.example", client: client, services: services, page: casePage)
            let values = [
                "{case}": subject.id.uuidString.lowercased(), "{demand}": subject.demandID.uuidString.lowercased(), "{csrf}": mine.csrf,
                "{other_csrf}": other.csrf, "{session}": mine.cookie, "{officer_token}": tokens.officer,
            ]
            func fill(_ text: String) -> String { values.reduce(text) { $0.replacingOccurrences(of: $1.key, with: $1.value) } }
            func send(_ name: String, _ spec: Spec) async throws {
                var headers = HTTPFields()
                switch spec.as {
                case "officer": headers[.authorization] = "Bearer \(tokens.officer)"
                case "other-officer": headers[.authorization] = "Bearer \(tokens.otherOfficer)"
                case "reviewer": headers[.authorization] = "Bearer \(tokens.reviewer)"
                case "session": headers[.cookie] = "custos_session=\(mine.cookie)"
                default: break
                }
                for (field, value) in spec.headers {
                    let fieldName = try #require(HTTPField.Name(field), "\(name): \(field) is not a header name")
                    headers[fieldName] = fill(value)
                }
                let body: ByteBuffer? = if let base64 = spec.bodyBase64 {
                    ByteBuffer(data: Data(base64Encoded: base64)!)
                } else {
                    spec.body.map { ByteBuffer(string: fill($0)) }
                }
                try await client.execute(uri: fill(spec.path), method: HTTPRequest.Method(spec.method)!, headers: headers, body: body) { response in
                    let code = Int(response.status.code)
                    #expect(code >= spec.expect[0] && code <= spec.expect[1], "\(name) → \(code): \(String(buffer: response.body).prefix(300))")
                    if spec.problem, code >= 400 {
                        #expect(response.headers[.contentType]?.hasPrefix("application/problem+json") == true, "\(name) answered without a problem document")
                        let problem = try? ServerTests.json(response.body)
                        #expect((problem?["detail"] as? String)?.isEmpty == false, "\(name): the problem says nothing")
                    }
                }
            }
            for (name, spec) in specs {
                for first in spec.first ?? [] { try await send("\(name) (first)", first) }
            }
            func state() async throws -> (demands: Int, notices: Int, audit: Int, version: Int, caseState: CaseState) {
                let agency = try #require(try await services.directory.findAgency(named: "Agency A"))
                let current = try #require(try await services.cases.findCase(id: subject.id))
                return (
                    try await services.cases.listDemands(agencyID: agency.id, limit: 10_000, before: nil).demands.count, try await services.copyright.list().count,
                    try await services.cases.auditTrail().count, current.version, current.state
                )
            }
            let before = try await state()
            for (name, spec) in specs where spec.advance == nil { try await send(name, spec) }
            clock.advance(specs.compactMap(\.1.advance).max() ?? 0)
            for (name, spec) in specs where spec.advance != nil { try await send(name, spec) }
            let after = try await state()
            // workflow.md: a refused event leaves a refusal entry (who tried what, why); nothing else may be added
            let added = try await services.cases.auditTrail().dropFirst(before.audit).map(\.record)
            #expect(!added.isEmpty, "the refused events are on record")
            #expect(added.allSatisfy { $0.outcome == .refused }, "only refusals: \(added.map { "\($0.action) \($0.outcome)" })")
            #expect(after.demands == before.demands && after.notices == before.notices, "stored state changed: \(before) → \(after)")
            #expect(after.version == before.version && after.caseState == before.caseState, "the case moved: \(before) → \(after)")
        }
    }

    /// SQL, HTML and script payloads in every text field of a valid demand are data: accepted,
    /// stored byte for byte, and escaped wherever a page shows them (the staff case page, the
    /// agency's list). The browser suite (`test_injection.py`) checks that no script runs.
    @Test func injectionPayloadsAreStoredAsTheyAreAndShownEscaped() async throws {
        let payloads = try String(contentsOf: Self.folder.appendingPathComponent("injection-payloads.txt"), encoding: .utf8)
            .split(separator: "\n").map(String.init).filter { !$0.isEmpty }
        #expect(payloads.count >= 10)
        try await ServerTests.withApp { client, tokens, services in
            for (number, payload) in payloads.enumerated() {
                var draft = try #require(try JSONSerialization.jsonObject(with: Data(ServerTests.demandJSON(reference: "INJ-\(number)").utf8)) as? [String: Any])
                draft["caseReference"] = "INJ-\(number) \(payload)"
                draft["issuingAuthority"] = ["name": payload, "role": "judge"]
                draft["targets"] = [["type": "other", "value": payload], ["type": "email", "value": "alice@example.com"]]
                draft["dataTypes"] = [payload]
                draft["nonDisclosureOrder"] = ["basis": payload, "until": "2027-05-04"]
                let body = try JSONSerialization.data(withJSONObject: draft)
                let id = try await client.execute(uri: "/api/v1/demands", method: .post, headers: ServerTests.headers(tokens.officer), body: ByteBuffer(data: body)) { response in
                    #expect(response.status == .created, "\(payload): \(String(buffer: response.body).prefix(300))")
                    return try #require(try ServerTests.json(response.body)["id"] as? String)
                }
                // stored byte for byte
                let demandID = try #require(UUID(uuidString: id))
                let stored = try #require(try await services.cases.findDemand(id: demandID))
                #expect(stored.caseReference == "INJ-\(number) \(payload)" && stored.issuingAuthority.name == payload)
                #expect(stored.targets.map(\.value).contains(payload) && stored.nonDisclosureOrder?.basis == payload)
                // shown escaped on the staff case page
                let subject = try #require(try await services.cases.findCase(demandID: stored.id))
                let page = try await ServerTests.consolePage("/staff/cases/\(subject.id.uuidString.lowercased())", client: client, services: services, roles: [.reviewer])
                let escaped = payload.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
                    .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;").replacingOccurrences(of: "'", with: "&#39;")
                #expect(page.contains(escaped), "\(payload) is shown, escaped")
                if payload.contains(where: { "<>\"'".contains($0) }) {
                    #expect(!page.contains(payload), "\(payload) appears raw on the case page")
                }
            }
            // every table is still there and whole
            #expect(try await services.cases.listCases(CaseFilter(limit: 1000)).count == payloads.count)
            #expect(try await services.cases.auditTrail().count > payloads.count)
        }
    }
}
