import Configuration
import CustosDomain
@testable import CustosServer
import CustosStorage
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// HTTP tests through the real composition root with an in-memory SQLite database.
@Suite struct ServerTests {
    static let reader = ConfigReader(providers: [InMemoryProvider(values: ["custos.database.memory": true, "custos.max.document.bytes": 2048, "custos.log.level": "error"])])

    struct Tokens {
        var officer: String
        var otherOfficer: String
        var reviewer: String
        var approver1: String
        var approver2: String
        var auditor: String
    }

    /// Builds the app and, inside its lifetime, users with tokens.
    static func withApp(
        reader: ConfigReader = ServerTests.reader, clock: @escaping @Sendable () -> Date = { Date() },
        _ body: @escaping @Sendable (any TestClientProtocol, Tokens, CustosServices) async throws -> Void
    ) async throws {
        let services = try await buildServices(reader: reader, clock: clock)
        let app = Application(router: buildRouter(services: services).router, configuration: .init(), logger: services.logger)
        var tokens: [String] = []
        let agency = Agency(id: UUID(), name: "Agency A", country: "US", kind: .lawEnforcement)
        let other = Agency(id: UUID(), name: "Agency B", country: "DE", kind: .lawEnforcement)
        try await services.directory.createAgency(agency)
        try await services.directory.createAgency(other)
        let people = [
            Principal(id: UUID(), email: "a@agency.example", displayName: "A", kind: .agency, agencyID: agency.id),
            Principal(id: UUID(), email: "b@agency.example", displayName: "B", kind: .agency, agencyID: other.id),
            Principal(id: UUID(), email: "r@p.example", displayName: "R", kind: .staff, roles: [.reviewer]),
            Principal(id: UUID(), email: "ap1@p.example", displayName: "AP1", kind: .staff, roles: [.approver]),
            Principal(id: UUID(), email: "ap2@p.example", displayName: "AP2", kind: .staff, roles: [.approver]),
            Principal(id: UUID(), email: "au@p.example", displayName: "AU", kind: .staff, roles: [.auditor]),
        ]
        for person in people {
            try await services.identity.createPrincipal(person, passwordHash: "unused", at: services.now())
            tokens.append(try await services.identity.issueToken(for: person.id, label: "test", at: services.now()).token)
        }
        let all = Tokens(officer: tokens[0], otherOfficer: tokens[1], reviewer: tokens[2], approver1: tokens[3], approver2: tokens[4], auditor: tokens[5])
        do {
            try await app.test(.router) { client in try await body(client, all, services) }
        } catch {
            // Shut the pool down on failure too, so the failure is reported instead of a crash in deinit.
            await services.shutdown()
            throw error
        }
        await services.shutdown()
    }

    static let pdfBase64 = Data("%PDF-1.4 test".utf8).base64EncodedString()

    static func demandJSON(reference: String = "2:26-mj-00412", extra: String = "") -> String {
        """
        {"instrument": "us.search_warrant", "jurisdiction": "US", "subdivision": "US-WA",
         "issuingAuthority": {"name": "U.S. District Court, W.D. Wash.", "role": "judge"},
         "caseReference": "\(reference)", "receivedAt": "2026-05-04T09:00:00Z",
         "targets": [{"type": "email", "value": "alice@example.com"}],
         "categories": ["subscriber_info", "content"], "dataTypes": ["cell_site_location"],
         "window": {"from": "2026-01-01T00:00:00Z", "to": "2026-02-01T00:00:00Z"},
         "offenceMaxYears": 5, "emergency": false, "preservation": false,
         "nonDisclosureOrder": {"basis": "18 U.S.C. § 2705(b)", "until": "2027-05-04"}\(extra),
         "documents": [{"filename": "warrant.pdf", "mediaType": "application/pdf", "base64": "\(pdfBase64)"}]}
        """
    }

    static func headers(_ token: String, json: Bool = true, extra: [String: String] = [:]) -> HTTPFields {
        var fields: HTTPFields = [.authorization: "Bearer \(token)"]
        if json { fields[.contentType] = "application/json" }
        for (name, value) in extra { fields[HTTPField.Name(name)!] = value }
        return fields
    }

    static func json(_ buffer: ByteBuffer) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(buffer.readableBytesView)) as? [String: Any] ?? [:]
    }

    /// The download log's address: the peer, unless a trusted proxy's `X-Forwarded-For` names the client.
    @Test func theLoggedAddressTrustsXForwardedForOnlyWhenConfigured() {
        #expect(WebRoutes.clientAddress(forwardedFor: "203.0.113.9, 10.0.0.2", peer: "10.0.0.2", trustForwardedFor: false) == "10.0.0.2")
        #expect(WebRoutes.clientAddress(forwardedFor: "203.0.113.9, 10.0.0.2", peer: "10.0.0.2", trustForwardedFor: true) == "203.0.113.9")
        #expect(WebRoutes.clientAddress(forwardedFor: " ", peer: "10.0.0.2", trustForwardedFor: true) == "10.0.0.2")
        #expect(WebRoutes.clientAddress(forwardedFor: nil, peer: nil, trustForwardedFor: true) == "")
    }

    @Test func healthAnswersOK() async throws {
        try await Self.withApp { client, _, _ in
            try await client.execute(uri: "/health", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == #"{"status":"ok"}"#)
            }
        }
    }

    @Test func everyRouteDeclaresAPolicyAndTheOpenAPIDocumentMatchesTheAPI() async throws {
        let services = try await buildServices(reader: Self.reader)
        let secured = buildRouter(services: services)
        let routes = secured.router.routes.map { SecuredRouter.key($0.method, $0.path.description) }
        #expect(!routes.isEmpty)
        for route in routes {
            #expect(secured.policies[route] != nil, "route \(route) has no access policy")
        }
        // Every API route is in /openapi.yaml and every documented path exists.
        let url = try #require(Bundle(path: Bundle.main.bundlePath + "/custos_CustosServer.resources")?.url(forResource: "openapi", withExtension: "yaml", subdirectory: "Resources")
            ?? Bundle.allBundles.compactMap { $0.url(forResource: "openapi", withExtension: "yaml", subdirectory: "Resources") }.first)
        var documented: Set<String> = []
        var currentPath = ""
        var inPaths = false
        let document = try String(contentsOf: url, encoding: .utf8)
        for line in document.split(separator: "\n") {
            // a top-level key (paths:, webhooks:, tags:) ends the previous path; only `paths:` holds routes
            if !line.hasPrefix(" ") {
                currentPath = ""
                inPaths = line == "paths:"
            }
            if inPaths, line.hasPrefix("  /"), line.hasSuffix(":") { currentPath = String(line.dropFirst(2).dropLast()) }
            else if let method = ["get", "post", "put", "patch", "delete"].first(where: { line == "    \($0):" }), !currentPath.isEmpty {
                documented.insert("\(method.uppercased()) \(currentPath)")
            }
        }
        let apiRoutes = Set(routes.filter { $0.contains(" /api/") || $0.contains(" /.well-known/") || $0.hasSuffix(" /health") || $0.hasSuffix(" /ready") || $0.hasSuffix(" /openapi.yaml") })
        #expect(apiRoutes == documented)
        // The case list's country filter and the CountryCode schema list exactly the codes the server takes.
        let lines = document.split(separator: "\n")
        let queryLine = try #require(lines.first { $0.contains("{name: country, in: query") })
        let schemaLine = try #require(lines.drop { !$0.hasPrefix("    CountryCode:") }.first { $0.hasPrefix("      enum: [") })
        for line in [queryLine, schemaLine] {
            let listed = try #require(line.split(separator: "[").last?.split(separator: "]").first)
            let codes = Set(listed.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { $0 != #""""# })
            #expect(codes == Jurisdiction.countryCodes)
        }
        await services.shutdown()
    }

    /// A path served with other methods answers 405 with `Allow`; an unknown path 404; both as
    /// problem bodies (schemathesis checks the 405; the router alone answered an empty 404).
    @Test func anUnservedMethodGets405WithAllowAndAnUnknownPathAProblem404() async throws {
        try await Self.withApp { client, tokens, _ in
            try await client.execute(uri: "/health", method: .init("TRACE")!) { response throws in
                #expect(response.status == .methodNotAllowed)
                #expect(response.headers[HTTPField.Name("Allow")!] == "GET")
                #expect(response.headers[.contentType] == "application/problem+json")
                // problems carry the security headers too
                #expect(response.headers[HTTPField.Name("X-Frame-Options")!] == "DENY")
                #expect(response.headers[HTTPField.Name("Content-Security-Policy")!]?.hasPrefix("default-src 'none'") == true)
            }
            try await client.execute(uri: "/api/v1/cases/\(UUID())/events", method: .delete, headers: Self.headers(tokens.reviewer)) { response throws in
                #expect(response.status == .methodNotAllowed)
                #expect(response.headers[HTTPField.Name("Allow")!] == "POST")
            }
            try await client.execute(uri: "/log/legal-process/tile/0/000", method: .put) { response throws in
                #expect(response.status == .methodNotAllowed)
            }
            try await client.execute(uri: "/api/v1/nothing-here", method: .get, headers: Self.headers(tokens.reviewer)) { response throws in
                #expect(response.status == .notFound)
                #expect(try Self.json(response.body)["detail"] as? String == "nothing is served at /api/v1/nothing-here")
            }
            // a handler's own 404 is left as it is
            let missing = UUID()
            try await client.execute(uri: "/api/v1/cases/\(missing)", method: .get, headers: Self.headers(tokens.reviewer)) { response throws in
                #expect(response.status == .notFound)
                #expect(try Self.json(response.body)["detail"] as? String == "case \(missing) was not found")
            }
        }
    }

    @Test func agencySubmitsDemandAndStaffWorkTheCase() async throws {
        try await Self.withApp { client, tokens, _ in
            // submit with an idempotency key, then retry it
            let body = ByteBuffer(string: Self.demandJSON())
            let created = try await client.execute(uri: "/api/v1/demands", method: .post, headers: Self.headers(tokens.officer, extra: ["Idempotency-Key": "abc"]), body: body) { response in
                #expect(response.status == .created)
                return try Self.json(response.body)
            }
            #expect(created["status"] as? String == "received")
            let demandID = try #require(created["id"] as? String)
            try await client.execute(uri: "/api/v1/demands", method: .post, headers: Self.headers(tokens.officer, extra: ["Idempotency-Key": "abc"]), body: body) { response in
                #expect(response.status == .created)
                #expect(response.headers[HTTPField.Name("Idempotent-Replayed")!] == "true")
                let parsed = try Self.json(response.body); #expect(parsed["id"] as? String == demandID)
            }
            // same key, different body → 422 naming the key
            try await client.execute(uri: "/api/v1/demands", method: .post, headers: Self.headers(tokens.officer, extra: ["Idempotency-Key": "abc"]), body: ByteBuffer(string: Self.demandJSON(reference: "other"))) { response in
                #expect(response.status == .unprocessableContent)
                let parsed = try Self.json(response.body); #expect(parsed["field"] as? String == "Idempotency-Key")
            }
            // the agency sees it; another agency gets 404
            try await client.execute(uri: "/api/v1/demands/\(demandID)", method: .get, headers: Self.headers(tokens.officer)) { response throws in #expect(response.status == .ok) }
            try await client.execute(uri: "/api/v1/demands/\(demandID)", method: .get, headers: Self.headers(tokens.otherOfficer)) { response throws in #expect(response.status == .notFound) }
            try await client.execute(uri: "/api/v1/demands", method: .get, headers: Self.headers(tokens.otherOfficer)) { response in
                #expect(String(buffer: response.body) == "[]")
            }
            // agencies cannot reach the staff API; staff cannot submit demands
            try await client.execute(uri: "/api/v1/cases", method: .get, headers: Self.headers(tokens.officer)) { response throws in #expect(response.status == .forbidden) }
            try await client.execute(uri: "/api/v1/cases", method: .get) { response throws in #expect(response.status == .unauthorized) }
            try await client.execute(uri: "/api/v1/cases", method: .get, headers: Self.headers("cst_forged")) { response throws in #expect(response.status == .unauthorized) }
            try await client.execute(uri: "/api/v1/demands", method: .post, headers: Self.headers(tokens.reviewer), body: body) { response throws in #expect(response.status == .forbidden) }
            // staff list and open the case
            let caseID = try await client.execute(uri: "/api/v1/cases?state=received&country=US", method: .get, headers: Self.headers(tokens.reviewer)) { response in
                let list = try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as! [[String: Any]]
                #expect(list.count == 1)
                return list[0]["id"] as! String
            }
            try await client.execute(uri: "/api/v1/cases?state=bogus", method: .get, headers: Self.headers(tokens.reviewer)) { response in
                #expect(response.status == .badRequest)
                let parsed = try Self.json(response.body); #expect(parsed["field"] as? String == "state")
            }
            func send(_ token: String, _ event: String) async throws -> HTTPResponse.Status {
                try await client.execute(uri: "/api/v1/cases/\(caseID)/events", method: .post, headers: Self.headers(token), body: ByteBuffer(string: event)) { $0.status }
            }
            #expect(try await send(tokens.auditor, #"{"type": "begin_review"}"#) == .forbidden)
            #expect(try await send(tokens.reviewer, #"{"type": "begin_review"}"#) == .ok)
            #expect(try await send(tokens.approver1, #"{"type": "approve_scope", "categories": ["encryption_keys"]}"#) == .conflict)
            #expect(try await send(tokens.approver1, #"{"type": "approve_scope", "categories": ["subscriber_info"]}"#) == .ok)
            #expect(try await send(tokens.approver1, #"{"type": "approve_scope", "categories": ["subscriber_info"]}"#) == .conflict)
            #expect(try await send(tokens.approver2, #"{"type": "approve_scope", "categories": ["subscriber_info"]}"#) == .ok)
            #expect(try await send(tokens.reviewer, #"{"type": "teleport"}"#) == .badRequest)
            try await client.execute(uri: "/api/v1/cases/\(caseID)", method: .get, headers: Self.headers(tokens.auditor)) { response in
                #expect(response.status == .ok)
                let detail = try Self.json(response.body)
                #expect((detail["case"] as? [String: Any])?["state"] as? String == "scope_approved")
                let actions = (detail["timeline"] as? [[String: Any]])?.compactMap { ($0["record"] as? [String: Any])?["action"] as? String } ?? []
                #expect(actions.contains("case.approve_scope"))
            }
            try await client.execute(uri: "/api/v1/cases/\(UUID())", method: .get, headers: Self.headers(tokens.reviewer)) { response throws in #expect(response.status == .notFound) }
        }
    }

    @Test(arguments: [
        ("{not json", "body", HTTPResponse.Status.badRequest),
        (#"{"instrument": 5}"#, "instrument", .badRequest),
        (#"{"jurisdiction": "US"}"#, "instrument", .unprocessableContent),
        ("", "body", .badRequest),
    ])
    func badJSONIsAProblemNamingTheField(body: String, field: String, status: HTTPResponse.Status) async throws {
        try await Self.withApp { client, tokens, _ in
            try await client.execute(uri: "/api/v1/demands", method: .post, headers: Self.headers(tokens.officer), body: ByteBuffer(string: body)) { response in
                #expect(response.status == status)
                #expect(response.headers[.contentType] == "application/problem+json")
                let parsed = try Self.json(response.body); #expect(parsed["field"] as? String == field)
            }
            try await client.execute(uri: "/api/v1/demands", method: .get, headers: Self.headers(tokens.officer)) { response throws in #expect(String(buffer: response.body) == "[]") }
        }
    }

    @Test func badDemandsAreRefusedAndNothingIsStored() async throws {
        try await Self.withApp { client, tokens, _ in
            let backwards = Self.demandJSON().replacingOccurrences(of: #""window": {"from": "2026-01-01T00:00:00Z", "to": "2026-02-01T00:00:00Z"}"#, with: #""window": {"from": "2026-03-01T00:00:00Z", "to": "2026-02-01T00:00:00Z"}"#)
            let empty = Self.demandJSON().replacingOccurrences(of: Self.pdfBase64, with: "")
            let oversize = Self.demandJSON().replacingOccurrences(of: Self.pdfBase64, with: Data(count: 4096).base64EncodedString())
            let cases: [(String, String)] = [(backwards, "window.to"), (empty, "documents[0]"), (oversize, "documents[0]")]
            for (body, field) in cases {
                try await client.execute(uri: "/api/v1/demands", method: .post, headers: Self.headers(tokens.officer), body: ByteBuffer(string: body)) { response in
                    #expect(response.status == .unprocessableContent)
                    let parsed = try Self.json(response.body); #expect(parsed["field"] as? String == field)
                }
            }
            try await client.execute(uri: "/api/v1/demands", method: .post, headers: [.authorization: "Bearer \(tokens.officer)", .contentType: "text/plain"], body: ByteBuffer(string: Self.demandJSON())) { response in
                #expect(response.status == .unsupportedMediaType)
            }
            try await client.execute(uri: "/api/v1/demands", method: .get, headers: Self.headers(tokens.officer)) { response throws in #expect(String(buffer: response.body) == "[]") }
        }
    }

    @Test func pagesRequireSignInAndFormsRequireCSRF() async throws {
        try await Self.withApp { client, _, _ in
            try await client.execute(uri: "/staff/queue", method: .get) { response in
                #expect(response.status == .seeOther)
                #expect(response.headers[.location]?.hasPrefix("/staff/login") == true)
            }
            try await client.execute(uri: "/staff/login", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).contains("name=\"_csrf\""))
            }
            try await client.execute(uri: "/staff/login", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"], body: ByteBuffer(string: "email=r%40p.example&password=x")) { response in
                #expect(response.status == .forbidden)
            }
        }
    }

    /// The value of a cookie set by a response.
    static func cookie(_ name: String, in response: TestResponse) -> String? {
        for header in response.headers[values: .setCookie] where header.hasPrefix("\(name)=") {
            return String(header.dropFirst(name.count + 1).prefix { $0 != ";" })
        }
        return nil
    }

    static func csrf(in html: String) -> String? {
        guard let range = html.range(of: #"name="_csrf" value=""#) else { return nil }
        return String(html[range.upperBound...].prefix { $0 != "\"" })
    }

    @Test func readsOfCaseMaterialAreLogged() async throws {
        try await Self.withApp { client, tokens, services in
            let demandID = try await client.execute(uri: "/api/v1/demands", method: .post, headers: Self.headers(tokens.officer), body: ByteBuffer(string: Self.demandJSON())) { response in
                let parsed = try Self.json(response.body)
                return try #require(parsed["id"] as? String)
            }
            let caseRecord = try #require(try await services.cases.findCase(demandID: UUID(uuidString: demandID)!))
            try await client.execute(uri: "/api/v1/cases/\(caseRecord.id)", method: .get, headers: Self.headers(tokens.auditor)) { response throws in #expect(response.status == .ok) }
            let reads = try await services.cases.timeline(caseID: caseRecord.id).filter { $0.record.outcome == .read }
            #expect(reads.map(\.record.action) == ["case.viewed"])
            #expect(reads.first?.record.actor == "staff:au@p.example")
        }
    }

    @Test func staffSignInWorkTheCasePageAndDownloadIsLogged() async throws {
        try await Self.withApp { client, tokens, services in
            // setup: a staff reviewer with a real password, and one demand
            let password = "correct horse battery staple"
            let reviewer = Principal(id: UUID(), email: "web@p.example", displayName: "Web", kind: .staff, roles: [.reviewer])
            try await services.identity.createPrincipal(reviewer, passwordHash: try await Passwords.hash(password), at: services.now())
            let secret = try await Self.enrolSecondFactor(reviewer, services)
            let demandID = try await client.execute(uri: "/api/v1/demands", method: .post, headers: Self.headers(tokens.officer), body: ByteBuffer(string: Self.demandJSON())) { response in
                let parsed = try Self.json(response.body)
                return try #require(parsed["id"] as? String)
            }
            let demand = try #require(try await services.cases.findDemand(id: UUID(uuidString: demandID)!))
            let caseID = try #require(try await services.cases.findCase(demandID: demand.id)).id.uuidString.lowercased()

            // when: sign in through the form (double-submit CSRF)
            let (loginCookie, loginToken) = try await client.execute(uri: "/staff/login", method: .get) { response in
                (try #require(Self.cookie("custos_login_csrf", in: response)), try #require(Self.csrf(in: String(buffer: response.body))))
            }
            let form: HTTPFields = [.contentType: "application/x-www-form-urlencoded", .cookie: "custos_login_csrf=\(loginCookie)"]
            try await client.execute(uri: "/staff/login", method: .post, headers: form, body: ByteBuffer(string: "_csrf=\(loginToken)&email=nobody%40p.example&password=x")) { response throws in
                #expect(response.status == .unauthorized)
            }
            let challenge = try await client.execute(uri: "/staff/login", method: .post, headers: form, body: ByteBuffer(string: "_csrf=\(loginToken)&email=web%40p.example&password=correct+horse+battery+staple")) { response in
                #expect(response.status == .seeOther)
                #expect(response.headers[.location] == "/staff/login/code", "staff need a second factor by default")
                #expect(Self.cookie("custos_session", in: response) == nil, "a password alone starts no session")
                return try #require(Self.cookie("custos_login_challenge", in: response))
            }
            let codeToken = try await client.execute(uri: "/staff/login/code", method: .get, headers: [.cookie: "custos_login_challenge=\(challenge)"]) { response in
                try #require(Self.csrf(in: String(buffer: response.body)))
            }
            let codeForm: HTTPFields = [.contentType: "application/x-www-form-urlencoded", .cookie: "custos_login_challenge=\(challenge)"]
            let code = TOTP(secret: secret).code(at: services.now())
            let session = try await client.execute(uri: "/staff/login/code", method: .post, headers: codeForm, body: ByteBuffer(string: "_csrf=\(codeToken)&code=\(code)")) { response in
                #expect(response.status == .seeOther)
                #expect(response.headers[values: .setCookie].first { $0.hasPrefix("custos_session=") }?.contains("HttpOnly") == true)
                return try #require(Self.cookie("custos_session", in: response))
            }
            let signedIn: HTTPFields = [.cookie: "custos_session=\(session)"]
            let pageToken = try await client.execute(uri: "/staff/cases/\(caseID)", method: .get, headers: signedIn) { response in
                let html = String(buffer: response.body)
                #expect(html.contains("Begin Review"))
                #expect(!html.contains("Approve Scope"), "a reviewer is offered only the reviewer's actions")
                // Issue 8: the verification checklist, worked out from the record.
                #expect(html.contains(#"<tr data-check="second_factor"><td>Portal account with second factor</td><td><span class="verdict allowed">passed</span></td><td>API token issued"#))
                #expect(html.contains(#"<tr data-check="callback"><td>Callback on a directory number</td><td><span class="verdict pending">open</span>"#))
                return try #require(Self.csrf(in: html))
            }
            var post = signedIn
            post[.contentType] = "application/x-www-form-urlencoded"
            try await client.execute(uri: "/staff/cases/\(caseID)/events", method: .post, headers: post, body: ByteBuffer(string: "type=begin_review")) { response throws in
                #expect(response.status == .forbidden)
            }
            #expect(try await services.cases.findCase(demandID: demand.id)?.state == .received)
            try await client.execute(uri: "/staff/cases/\(caseID)/events", method: .post, headers: post, body: ByteBuffer(string: "_csrf=\(pageToken)&type=begin_review")) { response throws in
                #expect(response.status == .seeOther)
            }
            #expect(try await services.cases.findCase(demandID: demand.id)?.state == .inReview)
            let document = try #require(demand.documents.first)
            try await client.execute(uri: "/staff/documents/\(document.id.uuidString.lowercased())", method: .get, headers: signedIn) { response throws in
                #expect(response.status == .ok)
                #expect(Data(response.body.readableBytesView) == Data("%PDF-1.4 test".utf8))
            }
            // then: the download is on record with the document's hash
            let downloads = try await services.cases.timeline(caseID: UUID(uuidString: caseID)!).filter { $0.record.action == "document.downloaded" }
            #expect(downloads.first?.record.details["sha256"] == document.sha256)
            #expect(downloads.first?.record.outcome == .read)
            // an agency session cannot open staff pages
            try await client.execute(uri: "/staff/queue", method: .get, headers: [.authorization: "Bearer \(tokens.officer)"]) { response throws in
                #expect(response.status == .forbidden)
            }
        }
    }
}

extension ServerTests {
    /// Signs a new staff member with `roles` in through the login form (with the second factor
    /// staff need by default) and fetches a console page.
    static func consolePage(_ path: String, client: any TestClientProtocol, services: CustosServices, roles: Set<StaffRole>) async throws -> String {
        let email = "console-\(UUID().uuidString.prefix(8).lowercased())@p.example"
        let person = Principal(id: UUID(), email: email, displayName: "Console", kind: .staff, roles: roles)
        try await services.identity.createPrincipal(person, passwordHash: try await Passwords.hash("console password 1"), at: services.now())
        let secret = try await enrolSecondFactor(person, services)
        let session = try await webSession(email: email, password: "console password 1", portal: "/staff", secret: secret, client: client, services: services)
        return try await client.execute(uri: path, method: .get, headers: [.cookie: "custos_session=\(session)"]) { response in
            #expect(response.status == .ok)
            return String(buffer: response.body)
        }
    }

    /// Sets up a fresh authenticator secret as `person`'s second factor and returns it.
    static func enrolSecondFactor(_ person: Principal, _ services: CustosServices) async throws -> Data {
        let secret = Data((0..<20).map { _ in UInt8.random(in: 0...255) })
        _ = try await services.secondFactors.pendingSecret(principalID: person.id, fresh: secret)
        try await services.secondFactors.enrol(principalID: person.id, step: 0, recoveryCodeHashes: [], by: "test", at: services.now())
        return secret
    }

    /// Signs in through the forms: the password, then, when the server asks for it, the current
    /// code of `secret`. Returns the session cookie's value.
    static func webSession(
        email: String, password: String, portal: String, secret: Data?, client: any TestClientProtocol, services: CustosServices
    ) async throws -> String {
        let (cookie, token) = try await client.execute(uri: portal + "/login", method: .get) { response in
            (try #require(Self.cookie("custos_login_csrf", in: response)), try #require(Self.csrf(in: String(buffer: response.body))))
        }
        let form: HTTPFields = [.contentType: "application/x-www-form-urlencoded", .cookie: "custos_login_csrf=\(cookie)"]
        let body = "_csrf=\(token)&email=\(Self.formEncoded(email))&password=\(Self.formEncoded(password))"
        let (session, challenge) = try await client.execute(uri: portal + "/login", method: .post, headers: form, body: ByteBuffer(string: body)) { response in
            (Self.cookie("custos_session", in: response), Self.cookie("custos_login_challenge", in: response))
        }
        if let session { return session }
        let secret = try #require(secret, "the server asked for a second factor")
        let challengeHeaders: HTTPFields = [.cookie: "custos_login_challenge=\(try #require(challenge))"]
        let codeToken = try await client.execute(uri: portal + "/login/code", method: .get, headers: challengeHeaders) { response in
            try #require(Self.csrf(in: String(buffer: response.body)))
        }
        var post = challengeHeaders
        post[.contentType] = "application/x-www-form-urlencoded"
        let code = TOTP(secret: secret).code(at: services.now())
        return try await client.execute(uri: portal + "/login/code", method: .post, headers: post, body: ByteBuffer(string: "_csrf=\(codeToken)&code=\(code)")) { response in
            try #require(Self.cookie("custos_session", in: response))
        }
    }

    static func formEncoded(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
    }
}

/// The OpenAPI document's enumerations are a contract: they must list exactly the values the code accepts.
@Suite struct OpenAPIEnumerationTests {
    static func enumeration(after anchor: String, in text: String) -> Set<String>? {
        guard let start = text.range(of: anchor), let open = text[start.upperBound...].range(of: "enum: ["),
            let close = text[open.upperBound...].firstIndex(of: "]")
        else { return nil }
        return Set(text[open.upperBound..<close].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
    }

    @Test func enumerationsMatchTheDomain() throws {
        let url = try #require(Bundle(path: Bundle.main.bundlePath + "/custos_CustosServer.resources")?.url(forResource: "openapi", withExtension: "yaml", subdirectory: "Resources"))
        let text = try String(contentsOf: url, encoding: .utf8)
        #expect(Self.enumeration(after: "        instrument:", in: text) == Set(LegalInstrument.allCases.map(\.rawValue)))
        #expect(Self.enumeration(after: "        categories:\n          type: array", in: text) == Set(DataCategory.allCases.map(\.rawValue)))
        #expect(Self.enumeration(after: "    Event:", in: text) == Set(CaseEvent.Kind.allCases.map(\.rawValue)))
        #expect(Self.enumeration(after: "        flags:\n          type: array", in: text) == Set(AssessmentFlag.allCases.map(\.rawValue)))
        #expect(Self.enumeration(after: "              verdict:", in: text) == Set(Verdict.allCases.map(\.rawValue)))
        #expect(Self.enumeration(after: "    CopyrightSummary:", in: text) == Set(CopyrightCase.State.allCases.map(\.rawValue)))
        #expect(Self.enumeration(after: "        notice:", in: text) == Set(NoticeStatus.allCases.map(\.rawValue)))
    }
}
