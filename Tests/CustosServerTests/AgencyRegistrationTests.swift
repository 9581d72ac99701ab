import Configuration
import CustosDomain
@testable import CustosServer
import CustosStorage
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// Issue 8: an agency official registers only with an address on a directory domain, confirms it
/// through the mailed link, sets up a second factor, and can submit demands only once an admin
/// approves; admins keep the directory in the console.
@Suite struct AgencyRegistrationTests {
    @Test func theDomainRuleAcceptsOnlyTheAgencysOfficialDomains() {
        let agency = Agency(id: UUID(), name: "FBI Seattle", country: "US", kind: .lawEnforcement, domains: ["fbi.gov"])
        #expect(AgencyRegistration.refusal(email: "agent@fbi.gov", for: agency) == nil)
        #expect(AgencyRegistration.refusal(email: "agent@seattle.fbi.gov", for: agency) == nil, "subdomains of an official domain")
        #expect(AgencyRegistration.refusal(email: "agent@fbi-gov.com", for: agency)?.contains("not an official domain") == true)
        #expect(AgencyRegistration.refusal(email: "agent@notfbi.gov", for: agency)?.contains("not an official domain") == true, "a suffix is not a subdomain")
        #expect(AgencyRegistration.refusal(email: "agent@gmail.com", for: agency)?.contains("free-mail") == true)
        #expect(AgencyRegistration.refusal(email: "agent fbi.gov", for: agency)?.contains("not an e-mail address") == true)
        #expect(AgencyRegistration.refusal(email: "@fbi.gov", for: agency)?.contains("not an e-mail address") == true)
        let unlisted = Agency(id: UUID(), name: "Nowhere PD", country: "US", kind: .lawEnforcement)
        #expect(AgencyRegistration.refusal(email: "a@nowhere.gov", for: unlisted)?.contains("no official domain") == true)
        // Until the address is confirmed a registration can be barred, never approved.
        #expect(AgencyRegistration.approvalRefusal(.active, addressConfirmed: false) != nil)
        #expect(AgencyRegistration.approvalRefusal(.unverified, addressConfirmed: false) != nil)
        #expect(AgencyRegistration.approvalRefusal(.suspended, addressConfirmed: false) == nil)
        #expect(AgencyRegistration.approvalRefusal(.blocklisted, addressConfirmed: false) == nil)
        #expect(AgencyRegistration.approvalRefusal(.active, addressConfirmed: true) == nil)
    }

    static func reader(_ dataDirectory: String) -> ConfigReader {
        ConfigReader(providers: [InMemoryProvider(values: [
            "custos.database.memory": true, "custos.log.level": "error", "custos.public.url": "https://custos.example",
            "custos.data.dir": .init(.string(dataDirectory), isSecret: false),
        ])])
    }

    /// Double-submit token and cookie of a public form page.
    static func formToken(_ path: String, _ client: any TestClientProtocol) async throws -> (cookie: String, token: String, html: String) {
        try await client.execute(uri: path, method: .get) { response in
            let html = String(buffer: response.body)
            return (try #require(ServerTests.cookie("custos_login_csrf", in: response)), try #require(ServerTests.csrf(in: html)), html)
        }
    }

    static func post(_ path: String, _ fields: [String: String], _ client: any TestClientProtocol) async throws -> (HTTPResponse.Status, String) {
        let (cookie, token, _) = try await formToken(path == "/agency/register/confirm" ? "/agency/register/confirm?token=x" : path, client)
        let body = (["_csrf": token].merging(fields) { $1 }).map { "\($0.key)=\(ServerTests.formEncoded($0.value))" }.joined(separator: "&")
        return try await client.execute(
            uri: path, method: .post, headers: [.contentType: "application/x-www-form-urlencoded", .cookie: "custos_login_csrf=\(cookie)"],
            body: ByteBuffer(string: body)
        ) { ($0.status, String(buffer: $0.body)) }
    }

    static func mails(in directory: String) throws -> [String] {
        let folder = URL(fileURLWithPath: directory).appendingPathComponent("mail")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return try names.sorted().map { name in
            // Headers as they are; a base64 body (non-ASCII text) decoded, so tests read the text.
            let raw = try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8)
            guard let split = raw.range(of: "\r\n\r\n"), raw[..<split.lowerBound].contains("Content-Transfer-Encoding: base64"),
                let body = Data(base64Encoded: raw[split.upperBound...].filter { !$0.isWhitespace })
            else { return raw }
            return String(raw[..<split.upperBound]) + String(decoding: body, as: UTF8.self)
        }
    }

    @Test func anOfficialRegistersConfirmsSetsUpTheSecondFactorAndSubmitsOnlyOnceApproved() async throws {
        let data = NSTemporaryDirectory() + "custos-registration-" + UUID().uuidString
        try await ServerTests.withApp(reader: Self.reader(data)) { client, _, services in
            let (agency, _) = try await RequesterVerificationTests.listInDirectory(services)
            let (_, _, form) = try await Self.formToken("/agency/register", client)
            #expect(form.contains(agency.id.uuidString.lowercased()))
            #expect(!form.contains("Agency B"), "agencies without a directory domain cannot be chosen")

            let fields = ["agency": agency.id.uuidString.lowercased(), "name": "Det. Rivera", "password": "rivera password 1"]
            // Look-alike and free-mail addresses get no account.
            for email in ["rivera@agency-example.com", "rivera@gmail.com"] {
                let (status, html) = try await Self.post("/agency/register", fields.merging(["email": email]) { $1 }, client)
                #expect(status == .unprocessableContent)
                #expect(html.contains("Not registered"))
                #expect(try await services.identity.findPrincipal(email: email) == nil)
            }
            #expect(try Self.mails(in: data).isEmpty)

            let (status, page) = try await Self.post("/agency/register", fields.merging(["email": "Rivera@Agency.example"]) { $1 }, client)
            #expect(status == .accepted && page.contains("Check your mailbox"))
            let person = try #require(try await services.identity.findPrincipal(email: "rivera@agency.example"))
            #expect(try await services.identity.requesterStatus(principalID: person.id)?.standing == .pending)
            let mail = try #require(try Self.mails(in: data).first)
            #expect(mail.contains("To: rivera@agency.example"))
            let link = try #require(mail.firstMatch(of: /https:\/\/custos\.example\/agency\/register\/confirm\?token=([A-Za-z0-9_-]+)/))
            let token = String(link.output.1)

            // The same address again: the same answer, no second account, no second mail.
            let (again, _) = try await Self.post("/agency/register", fields.merging(["email": "rivera@agency.example", "password": "someone else 12"]) { $1 }, client)
            #expect(again == .accepted)
            #expect(try Self.mails(in: data).count == 1)

            // Before confirming: no sign-in, and no approval.
            let early = try await SecondFactorTests.password("rivera@agency.example", "rivera password 1", portal: "/agency", client)
            #expect(early.session == nil && early.challenge == nil)
            await #expect(throws: StorageError.self) {
                try await services.identity.setStanding(principalID: person.id, .active, mayRequestEmergency: false, reason: "too early", by: "admin", at: services.now())
            }
            // Opening the link only shows a button; the POST confirms.
            #expect(try await services.registrations.registration(principalID: person.id)?.confirmedAt == nil)
            let (wrong, _) = try await Self.post("/agency/register/confirm", ["token": "not-the-token"], client)
            #expect(wrong == .notFound)
            let (confirmed, done) = try await Self.post("/agency/register/confirm", ["token": token], client)
            #expect(confirmed == .ok && done.contains("Address confirmed"))
            let (twice, _) = try await Self.post("/agency/register/confirm", ["token": token], client)
            #expect(twice == .notFound, "a link confirms once")

            // Signing in now asks for the second factor's set-up; demands wait for approval.
            let signIn = try await SecondFactorTests.password("rivera@agency.example", "rivera password 1", portal: "/agency", client)
            #expect(signIn.location == "/agency/login/enrol")
            let apiToken = try await services.identity.issueToken(for: person.id, label: "test", at: services.now()).token
            try await client.execute(uri: "/api/v1/demands", method: .post, headers: ServerTests.headers(apiToken), body: ByteBuffer(string: ServerTests.demandJSON())) { response throws in
                #expect(response.status == .forbidden)
                #expect(String(buffer: response.body).contains("waits for approval"))
            }
            try await services.identity.setStanding(principalID: person.id, .active, mayRequestEmergency: false, reason: "called the squad room on the directory number", by: "admin", at: services.now())
            let demandID = try await client.execute(uri: "/api/v1/demands", method: .post, headers: ServerTests.headers(apiToken), body: ByteBuffer(string: ServerTests.demandJSON())) { response in
                #expect(response.status == .created)
                return try #require(try ServerTests.json(response.body)["id"] as? String)
            }
            let id = try #require(UUID(uuidString: demandID))
            #expect(try await services.cases.findDemand(id: id)?.redFlags?.contains { $0.code == .newRequester } == true)
            let actions = try await services.cases.auditTrail().filter { $0.record.subject == "principal:\(person.id.uuidString.lowercased())" }.map(\.record.action)
            #expect(actions == ["requester.registered", "requester.address_confirmed", "requester.standing_changed"])
        }
    }

    @Test func adminsKeepTheDirectoryInTheConsoleAndEveryChangeIsAudited() async throws {
        try await ServerTests.withApp { client, _, services in
            let agency = try #require(try await services.directory.findAgency(named: "Agency A"))
            let reviewerPage = try await ServerTests.consolePage("/staff/requesters", client: client, services: services, roles: [.reviewer])
            #expect(!reviewerPage.contains("/staff/agencies/"), "only admins see the directory's forms")
            let admin = Principal(id: UUID(), email: "dir-admin@p.example", displayName: "Admin", kind: .staff, roles: [.admin])
            try await services.identity.createPrincipal(admin, passwordHash: try await Passwords.hash("admin password 1"), at: services.now())
            let secret = try await ServerTests.enrolSecondFactor(admin, services)
            let session = try await ServerTests.webSession(email: admin.email, password: "admin password 1", portal: "/staff", secret: secret, client: client, services: services)
            let page = try await client.execute(uri: "/staff/requesters", method: .get, headers: [.cookie: "custos_session=\(session)"]) { String(buffer: $0.body) }
            let csrf = try #require(ServerTests.csrf(in: page))
            func post(_ path: String, _ fields: [String: String]) async throws -> (HTTPResponse.Status, String) {
                let body = (["_csrf": csrf].merging(fields) { $1 }).map { "\($0.key)=\(ServerTests.formEncoded($0.value))" }.joined(separator: "&")
                return try await client.execute(
                    uri: path, method: .post, headers: [.contentType: "application/x-www-form-urlencoded", .cookie: "custos_session=\(session)"],
                    body: ByteBuffer(string: body)
                ) { ($0.status, String(buffer: $0.body)) }
            }
            let path = "/staff/agencies/\(agency.id.uuidString.lowercased())"
            // A number without its source, or a free-mail domain, stores nothing.
            let (bad, html) = try await post(path, ["domains": "agency.example gmail.com", "phones": "+1 206 555 0100 | switchboard | "])
            #expect(bad == .unprocessableContent)
            #expect(html.contains("free-mail provider") && html.contains("the source of +1 206 555 0100 is empty"))
            #expect(try await services.directory.findAgency(id: agency.id)?.domains == [])
            let (good, _) = try await post(path, ["domains": "agency.example, a.agency.example", "phones": "+1 206 555 0100 | switchboard | agency website\n+1 206 555 0199 | night desk | state police list"])
            #expect(good == .seeOther)
            let saved = try #require(try await services.directory.findAgency(id: agency.id))
            #expect(saved.domains == ["agency.example", "a.agency.example"])
            #expect(saved.phones.map(\.number) == ["+1 206 555 0100", "+1 206 555 0199"] && saved.phones.map(\.source) == ["agency website", "state police list"])
            // Removing a number keeps its history in the audit log.
            let (removed, _) = try await post(path, ["domains": "agency.example", "phones": "+1 206 555 0100 | switchboard | agency website"])
            #expect(removed == .seeOther)
            #expect(try await services.directory.findAgency(id: agency.id)?.phones.first?.id == saved.phones.first?.id, "a kept number keeps its id")
            let updates = try await services.cases.auditTrail().filter { $0.record.action == "agency.directory_updated" && $0.record.subject == "agency:\(agency.id.uuidString.lowercased())" }
            #expect(updates.count == 2)
            #expect(updates.last?.record.details["previousPhones"]?.contains("+1 206 555 0199 (state police list)") == true)
            #expect(updates.last?.record.actor.contains("dir-admin@p.example") == true)

            let (added, _) = try await post("/staff/agencies", ["name": "Oregon State Police", "country": "us", "kind": "law_enforcement", "domains": "osp.oregon.gov", "phones": "+1 503 378 3720 | main | oregon.gov contact page"])
            #expect(added == .seeOther)
            #expect(try await services.directory.findAgency(named: "Oregon State Police")?.domains == ["osp.oregon.gov"])
            let (duplicate, _) = try await post("/staff/agencies", ["name": "Oregon State Police", "country": "US", "kind": "law_enforcement"])
            #expect(duplicate == .unprocessableContent)
            // Reviewers cannot change the directory.
            let reviewer = Principal(id: UUID(), email: "dir-reviewer@p.example", displayName: "R", kind: .staff, roles: [.reviewer])
            try await services.identity.createPrincipal(reviewer, passwordHash: try await Passwords.hash("reviewer password 1"), at: services.now())
            let reviewerSecret = try await ServerTests.enrolSecondFactor(reviewer, services)
            let reviewerSession = try await ServerTests.webSession(email: reviewer.email, password: "reviewer password 1", portal: "/staff", secret: reviewerSecret, client: client, services: services)
            try await client.execute(
                uri: path, method: .post, headers: [.contentType: "application/x-www-form-urlencoded", .cookie: "custos_session=\(reviewerSession)"],
                body: ByteBuffer(string: "domains=evil.example")
            ) { response throws in
                #expect(response.status == .forbidden)
            }
            #expect(try await services.directory.findAgency(id: agency.id)?.domains == ["agency.example"])
        }
    }
}
