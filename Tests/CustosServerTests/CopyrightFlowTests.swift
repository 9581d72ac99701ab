import Configuration
import CustosDomain
@testable import CustosServer
import CustosStorage
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Synchronization
import Testing

/// Issue 9 end to end: a rights holder files through the API or the public form (no account,
/// rate-limited), confirms by the mailed link, the customer hosting the material answers in its
/// portal, staff record takedown and restoration, and repeat infringers reach a suspension case by
/// policy. Mail goes to `.eml` files (no SMTP relay), read back here.
@Suite struct CopyrightFlowTests {
    /// A clock the test moves forward (answer deadlines, restore windows).
    final class TestClock: Sendable {
        let value: Mutex<Date>
        init(_ start: Date) { value = Mutex(start) }
        func now() -> Date { value.withLock { $0 } }
        func advance(_ seconds: TimeInterval) { value.withLock { $0 = $0.addingTimeInterval(seconds) } }
    }

    static func reader(_ data: String, extra: [AbsoluteConfigKey: ConfigValue] = [:]) -> ConfigReader {
        var values: [AbsoluteConfigKey: ConfigValue] = [
            "custos.database.memory": true, "custos.log.level": "error", "custos.public.url": "https://custos.example",
            "custos.data.dir": .init(.string(data), isSecret: false), "custos.dmca.strike.threshold": 2,
        ]
        for (key, value) in extra { values[key] = value }
        return ConfigReader(providers: [InMemoryProvider(values: values)])
    }

    static func noticeJSON(url: String = "https://shop.alpha.example/img/harbour.jpg", perjury: Bool = true, email: String = "jane@roe.example") -> String {
        """
        {"complainant": {"name": "Jane Roe", "organisation": "Roe Photo LLC", "email": "\(email)", "address": "1 Main St, Portland OR", "phone": "+1 503 555 0100", "country": "US"},
         "works": [{"description": "Photograph 'Harbour at Dawn'", "copyrightedURLs": ["https://roe.example/harbour"], "infringingURLs": ["\(url)"]}],
         "signature": "/s/ Jane Roe", "goodFaithStatement": true, "accuracyUnderPenaltyOfPerjury": \(perjury)}
        """
    }

    /// A tenant hosting shop.alpha.example, with a legal contact and a portal user.
    static func hostingTenant(_ services: CustosServices) async throws -> Tenant {
        let tenant = Tenant(id: UUID(), name: "Alpha", kind: .enterprise, country: "US", dataLocation: "US")
        try await services.directory.createTenant(tenant, contacts: [CustomerContact(id: UUID(), tenantID: tenant.id, name: "Legal", email: "legal@alpha.example")])
        try await services.copyright.addHost("alpha.example", tenantID: tenant.id, by: "test", at: services.now())
        return tenant
    }

    static func file(_ json: String, _ client: any TestClientProtocol) async throws -> (HTTPResponse.Status, [String: Any]) {
        try await client.execute(uri: "/api/v1/copyright/notices", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: json)) {
            ($0.status, (try? ServerTests.json($0.body)) ?? [:])
        }
    }

    /// Sends the queued mail and returns every message's text for `address`.
    static func mail(to address: String, _ services: CustosServices, data: String) async throws -> [String] {
        _ = try await CopyrightRunner(services: services, interval: .seconds(1)).tick()
        return try AgencyRegistrationTests.mails(in: data).filter { $0.contains("To: \(address)\r\n") }
    }

    /// The link token in the confirmation mail of notice `number`.
    static func token(for number: String?, in mails: [String]) throws -> String {
        let mail = try #require(mails.first { $0.contains("Subject: Confirm your copyright notice \(number ?? "?")\r\n") })
        let link = try #require(mail.firstMatch(of: /copyright\/notices\/status\?token=([A-Za-z0-9_-]+)/))
        return String(link.output.1)
    }

    /// Posts a public form that uses the double-submit cookie (the sender's page).
    static func postSenderForm(_ path: String, token: String, fields: [String: String], _ client: any TestClientProtocol) async throws -> (HTTPResponse.Status, String) {
        let (cookie, csrf) = try await client.execute(uri: "/copyright/notices/status?token=\(token)", method: .get) { response in
            (try #require(ServerTests.cookie("custos_login_csrf", in: response)), try #require(ServerTests.csrf(in: String(buffer: response.body))))
        }
        let body = (["_csrf": csrf, "token": token].merging(fields) { $1 }).map { "\($0.key)=\(ServerTests.formEncoded($0.value))" }.joined(separator: "&")
        return try await client.execute(
            uri: path, method: .post, headers: [.contentType: "application/x-www-form-urlencoded", .cookie: "custos_login_csrf=\(cookie)"], body: ByteBuffer(string: body)
        ) { ($0.status, String(buffer: $0.body)) }
    }

    @Test func aNoticeGoesThroughTheCustomerToACounterNoticeAndRestorationOrACourtAction() async throws {
        let data = NSTemporaryDirectory() + "custos-copyright-" + UUID().uuidString
        let clock = TestClock(Timestamp.parse("2026-05-04T14:00:00Z")!)
        try await ServerTests.withApp(reader: Self.reader(data), clock: clock.now) { client, tokens, services in
            let tenant = try await Self.hostingTenant(services)
            let (status, body) = try await Self.file(Self.noticeJSON(), client)
            #expect(status == .accepted)
            #expect(body["state"] as? String == "awaiting_confirmation")
            let number = try #require(body["number"] as? String)
            #expect(number.hasPrefix("DMCA-2026-"))
            // Nothing reaches the customer before the sender confirms.
            #expect(try await Self.mail(to: "legal@alpha.example", services, data: data).isEmpty)
            let token = try Self.token(for: number, in: try await Self.mail(to: "jane@roe.example", services, data: data))
            let (confirmed, _) = try await Self.postSenderForm("/copyright/notices/confirm", token: token, fields: [:], client)
            #expect(confirmed == .seeOther)
            let notice = try #require(try await services.copyright.find(token: token))
            #expect(notice.state == .withCustomer && notice.tenantID == tenant.id && notice.validity == .valid)
            #expect(notice.responseDueAt == Timestamp.parse("2026-05-07T04:00:00Z"), "two US business days")
            let customerMail = try await Self.mail(to: "legal@alpha.example", services, data: data)
            #expect(customerMail.contains { $0.contains("https://shop.alpha.example/img/harbour.jpg") && $0.contains("counter-notice") })

            // The customer answers in its portal: an incomplete counter-notice is refused with the missing elements.
            let person = Principal(id: UUID(), email: "it@alpha.example", displayName: "Alpha IT", kind: .customer, tenantID: tenant.id)
            let (session, csrf) = try await CustomerPortalTests.signIn(person, portal: "/customer", landing: "/customer/copyright", client, services)
            let page = try await client.execute(uri: "/customer/copyright", method: .get, headers: session) { String(buffer: $0.body) }
            #expect(page.contains(number) && page.contains("We removed the material"))
            func post(_ path: String, _ fields: [String: String]) async throws -> (HTTPResponse.Status, String) {
                var headers = session
                headers[.contentType] = "application/x-www-form-urlencoded"
                let body = (["_csrf": csrf].merging(fields) { $1 }).map { "\($0.key)=\(ServerTests.formEncoded($0.value))" }.joined(separator: "&")
                return try await client.execute(uri: path, method: .post, headers: headers, body: ByteBuffer(string: body)) { ($0.status, String(buffer: $0.body)) }
            }
            let counterPath = "/customer/copyright/\(notice.id.uuidString.lowercased())/counter-notice"
            let counter = ["material": "harbour.jpg at https://shop.alpha.example/img/harbour.jpg", "name": "Alpha Inc", "address": "2 Pier Rd", "phone": "+1 206 555 0111",
                           "mistake": "true", "jurisdiction": "true", "signature": "/s/ Alpha Legal"]
            let (refused, explanation) = try await post(counterPath, counter)
            #expect(refused == .unprocessableContent && explanation.contains("acceptance of service"))
            let (accepted, _) = try await post(counterPath, counter.merging(["service": "true"]) { $1 })
            #expect(accepted == .seeOther)
            let countered = try #require(try await services.copyright.find(id: notice.id))
            #expect(countered.state == .countered)
            #expect(try await Self.mail(to: "jane@roe.example", services, data: data).contains { $0.contains("10 business days") })
            // Another tenant's user sees none of it.
            let other = Tenant(id: UUID(), name: "Beta", kind: .enterprise, country: "US", dataLocation: "US")
            try await services.directory.createTenant(other)
            let (otherSession, otherCSRF) = try await CustomerPortalTests.signIn(Principal(id: UUID(), email: "it@beta.example", displayName: "B", kind: .customer, tenantID: other.id), portal: "/customer", landing: "/customer/copyright", client, services)
            let otherPage = try await client.execute(uri: "/customer/copyright", method: .get, headers: otherSession) { String(buffer: $0.body) }
            #expect(!otherPage.contains(number))
            var otherHeaders = otherSession
            otherHeaders[.contentType] = "application/x-www-form-urlencoded"
            try await client.execute(uri: "/customer/copyright/\(notice.id.uuidString.lowercased())/removed", method: .post, headers: otherHeaders, body: ByteBuffer(string: "_csrf=\(otherCSRF)")) { response throws in
                #expect(response.status == .notFound)
            }

            // Staff disable access meanwhile; restoration waits for the 10th business day.
            let reviewer = try await ServerTests.consolePage("/staff/copyright", client: client, services: services, roles: [.reviewer])
            #expect(reviewer.contains(number) && reviewer.contains("record takedown"))
            try await services.changeCopyright(notice.id, .recordTakedown(note: "disabled"), by: "staff")
            await #expect(throws: Problem.self) { try await services.changeCopyright(notice.id, .recordRestoration(note: nil), by: "staff") }
            clock.advance(20 * 86_400)
            let restored = try await services.changeCopyright(notice.id, .recordRestoration(note: "back online"), by: "staff")
            #expect(restored.state == .restored && restored.strikeAt == nil)
            #expect(try await services.copyright.strikes(tenantID: tenant.id).isEmpty)

            // A second notice: this time the complainant reports a lawsuit in time.
            let (_, second) = try await Self.file(Self.noticeJSON(url: "https://alpha.example/video.mp4"), client)
            let secondToken = try Self.token(for: second["number"] as? String, in: try await Self.mail(to: "jane@roe.example", services, data: data))
            _ = try await Self.postSenderForm("/copyright/notices/confirm", token: secondToken, fields: [:], client)
            let secondNotice = try #require(try await services.copyright.find(token: secondToken))
            #expect(secondNotice.number == second["number"] as? String)
            try await services.changeCopyright(secondNotice.id, .counterNotice(CounterNoticeText(
                signature: "/s/ A", material: "video.mp4", mistakeUnderPenaltyOfPerjury: true, name: "Alpha Inc", address: "2 Pier Rd", phone: "+1 206 555 0111",
                consentsToJurisdiction: true, acceptsService: true)), by: "it@alpha.example")
            let (short, shortPage) = try await Self.postSenderForm("/copyright/notices/court-action", token: secondToken, fields: ["reference": "x"], client)
            #expect(short == .conflict && shortPage.contains("case number"))
            let (sued, _) = try await Self.postSenderForm("/copyright/notices/court-action", token: secondToken, fields: ["reference": "D. Or. 3:26-cv-00101"], client)
            #expect(sued == .seeOther)
            #expect(try await services.copyright.find(id: secondNotice.id)?.state == .courtAction)

            // Everything is in the audit log, and the Lumen export redacts personal data.
            let actions = try await services.cases.auditTrail().filter { $0.record.subject == "copyright:\(notice.id.uuidString.lowercased())" }.map(\.record.action)
            #expect(actions == ["copyright.received", "copyright.confirmed", "copyright.counter_notice", "copyright.record_takedown", "copyright.record_restoration"])
            let lumen = try await client.execute(uri: "/api/v1/copyright/lumen", method: .get, headers: ServerTests.headers(tokens.reviewer, json: false)) { String(buffer: $0.body) }
            #expect(lumen.contains("\"type\":\"DMCA\"") && lumen.contains("\"type\":\"Counternotice\""))
            #expect(lumen.contains("\"counternotice_for_sid\":\"\(number)\"") && lumen.contains("\"action_taken\":\"Partial\""))
            #expect(lumen.contains("infringing_urls_attributes") && lumen.contains("https://shop.alpha.example/img/harbour.jpg"))
            #expect(!lumen.contains("jane@roe.example") && !lumen.contains("503 555 0100") && !lumen.contains("206 555 0111"))
            try await client.execute(uri: "/api/v1/copyright/lumen?from=May", method: .get, headers: ServerTests.headers(tokens.reviewer, json: false)) { response throws in
                #expect(response.status == .badRequest)
            }
            try await client.execute(uri: "/api/v1/copyright/lumen", method: .get, headers: ServerTests.headers(tokens.officer, json: false)) { response throws in
                #expect(response.status == .forbidden)
            }
        }
    }

    @Test func repeatInfringersReachASuspensionCaseByPolicyAndAnAdminDecides() async throws {
        let data = NSTemporaryDirectory() + "custos-copyright-" + UUID().uuidString
        let clock = TestClock(Timestamp.parse("2026-05-04T14:00:00Z")!)
        try await ServerTests.withApp(reader: Self.reader(data), clock: clock.now) { client, _, services in
            let tenant = try await Self.hostingTenant(services)
            var ids: [UUID] = []
            for index in 0..<2 {
                let (status, filed) = try await Self.file(Self.noticeJSON(url: "https://alpha.example/file-\(index).zip"), client)
                #expect(status == .accepted)
                let token = try Self.token(for: filed["number"] as? String, in: try await Self.mail(to: "jane@roe.example", services, data: data))
                ids.append(try await services.confirmCopyrightNotice(token: token).id)
            }
            // The first: the customer removes it, staff confirm the takedown: a strike.
            try await services.changeCopyright(ids[0], .customerRemoved(note: nil), by: "it@alpha.example")
            try await services.changeCopyright(ids[0], .recordTakedown(note: nil), by: "staff")
            #expect(try await services.copyright.suspensions().isEmpty, "one strike of two")
            // The second: no answer by the deadline; the runner marks it, which is the second strike.
            #expect(try await CopyrightRunner(services: services, interval: .seconds(1)).tick().unanswered == 0)
            clock.advance(4 * 86_400)
            #expect(try await CopyrightRunner(services: services, interval: .seconds(1)).tick().unanswered == 1)
            #expect(try await services.copyright.find(id: ids[1])?.state == .takedownPending)
            let strikes = try await services.copyright.strikes(tenantID: tenant.id)
            #expect(strikes.count == 2)
            let suspension = try #require(try await services.copyright.suspensions(state: "open").first)
            #expect(suspension.tenantID == tenant.id && suspension.notices.count == 2)
            #expect(try await Self.mail(to: "legal@alpha.example", services, data: data).contains { $0.contains("Repeat-infringer policy") })
            // The takedown of the unanswered notice does not strike twice.
            try await services.changeCopyright(ids[1], .recordTakedown(note: nil), by: "staff")
            #expect(try await services.copyright.strikes(tenantID: tenant.id).count == 2)
            #expect(try await services.copyright.suspensions().count == 1)

            // Reviewers see the case; only admins decide.
            let board = try await ServerTests.consolePage("/staff/copyright", client: client, services: services, roles: [.reviewer])
            #expect(board.contains("Suspension cases") && !board.contains("/staff/copyright/suspensions/"))
            #expect(board.contains("<dt>Notices received</dt><dd>2</dd>") && board.contains("<dt>customer did not answer</dt><dd>1</dd>"))
            let admin = Principal(id: UUID(), email: "dmca-admin@p.example", displayName: "Admin", kind: .staff, roles: [.admin])
            try await services.identity.createPrincipal(admin, passwordHash: try await Passwords.hash("admin password 1"), at: services.now())
            let secret = try await ServerTests.enrolSecondFactor(admin, services)
            let session = try await ServerTests.webSession(email: admin.email, password: "admin password 1", portal: "/staff", secret: secret, client: client, services: services)
            let adminBoard = try await client.execute(uri: "/staff/copyright", method: .get, headers: [.cookie: "custos_session=\(session)"]) { String(buffer: $0.body) }
            let csrf = try #require(ServerTests.csrf(in: adminBoard))
            try await client.execute(
                uri: "/staff/copyright/suspensions/\(suspension.id.uuidString.lowercased())", method: .post,
                headers: [.contentType: "application/x-www-form-urlencoded", .cookie: "custos_session=\(session)"],
                body: ByteBuffer(string: "_csrf=\(csrf)&decision=terminate&note=two+strikes+in+a+week")
            ) { response throws in
                #expect(response.status == .seeOther)
            }
            #expect(try await services.copyright.suspensions().first?.state == "terminated")
            let decided = try await services.cases.auditTrail().filter { $0.record.action == "copyright.suspension_decided" }
            #expect(decided.first?.record.details["decision"] == "terminated")
        }
    }

    @Test func badNoticesGetAClearAnswerAndTheFormsAreRateLimited() async throws {
        let data = NSTemporaryDirectory() + "custos-copyright-" + UUID().uuidString
        try await ServerTests.withApp(reader: Self.reader(data, extra: ["custos.public.forms.per.hour": 4])) { client, _, services in
            _ = try await Self.hostingTenant(services)
            // Not JSON, the wrong shape, or no address to confirm: 4xx, nothing stored.
            try await client.execute(uri: "/api/v1/copyright/notices", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: "{\"works\": 5")) { response throws in
                #expect(response.status == .badRequest)
            }
            let (noMail, problem) = try await Self.file(Self.noticeJSON(email: "not-an-address"), client)
            #expect(noMail == .unprocessableContent)
            #expect((problem["detail"] as? String)?.contains("complainant.email") == true)
            // A field over 4,000 code points is refused even when its marks combine into fewer
            // characters: the API's JSON Schema counts code points (the fuzzer found this).
            var combining = try JSONDecoder().decode(CopyrightNoticeText.self, from: Data(Self.noticeJSON().utf8))
            combining.complainant.name = String(repeating: "e\u{301}", count: 2001)
            #expect(combining.complainant.name.count == 2001 && combining.complainant.name.unicodeScalars.count == 4002)
            await #expect(throws: Problem.self) { _ = try await services.fileCopyrightNotice(combining) }
            combining.complainant.name = String(repeating: "e\u{301}", count: 2000)
            _ = try await services.fileCopyrightNotice(combining)
            // A notice lacking the perjury statement is only "substantially compliant": the sender is asked to complete it.
            let (_, filed) = try await Self.file(Self.noticeJSON(perjury: false), client)
            let token = try Self.token(for: filed["number"] as? String, in: try await Self.mail(to: "jane@roe.example", services, data: data))
            let notice = try await services.confirmCopyrightNotice(token: token)
            #expect(notice.number == filed["number"] as? String && notice.state == .deficient)
            #expect(try await Self.mail(to: "jane@roe.example", services, data: data).contains { $0.contains("512(c)(3)(B)(ii)") })
            let page = try await client.execute(uri: "/copyright/notices/status?token=\(token)", method: .get) { String(buffer: $0.body) }
            #expect(page.contains(#"<tr data-element="N-vi">"#) && page.contains("missing"))
            // A notice about a site no customer hosts.
            let (_, other) = try await Self.file(Self.noticeJSON(url: "https://elsewhere.example/a.jpg"), client)
            let elsewhere = try await services.confirmCopyrightNotice(token: try Self.token(for: other["number"] as? String, in: try await Self.mail(to: "jane@roe.example", services, data: data)))
            #expect(elsewhere.state == .notHosted)
            // Four attempts an hour per address, bad ones included (a flood is a flood): the fifth is refused.
            let (limited, _) = try await Self.file(Self.noticeJSON(), client)
            #expect(limited == .tooManyRequests)
            try await client.execute(uri: "/api/v1/copyright/notices", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: Self.noticeJSON())) { response throws in
                #expect(response.status == .tooManyRequests)
                #expect(response.headers[HTTPField.Name("Retry-After")!].flatMap(Int.init) ?? 0 > 0)
            }
            #expect(try await services.copyright.list().count == 3)
        }
    }

    /// The transparency report counts each copyright step in its period; a closed report still
    /// verifies after later steps (a counter-notice and restoration in the next half-year).
    @Test func theTransparencyReportCountsCopyrightStepsAndAClosedReportStaysTrue() async throws {
        let data = NSTemporaryDirectory() + "custos-copyright-" + UUID().uuidString
        let clock = TestClock(Timestamp.parse("2026-06-22T14:00:00Z")!)
        try await ServerTests.withApp(reader: Self.reader(data), clock: clock.now) { client, _, services in
            _ = try await Self.hostingTenant(services)
            let (_, filed) = try await Self.file(Self.noticeJSON(), client)
            let token = try Self.token(for: filed["number"] as? String, in: try await Self.mail(to: "jane@roe.example", services, data: data))
            let notice = try await services.confirmCopyrightNotice(token: token)
            try await services.changeCopyright(notice.id, .customerRemoved(note: nil), by: "it@alpha.example")
            try await services.changeCopyright(notice.id, .recordTakedown(note: nil), by: "staff")
            let h1 = try ReportPeriod(parsing: "2026-H1")
            clock.advance(20 * 86_400)
            _ = try await services.closeReportPeriod(h1, by: "test")
            let json = try await services.buildReport(period: h1, format: .json, section: nil)
            let report = try CustosJSON.decode(TransparencyReport.self, from: json)
            let figures = try #require(report.copyright)
            #expect(figures.received == 1 && figures.valid == 1 && figures.takenDown == 1 && figures.strikes == 1)
            // Next half-year: the customer's counter-notice stands and the material is restored.
            try await services.changeCopyright(notice.id, .counterNotice(CounterNoticeText(
                signature: "/s/ A", material: "harbour.jpg", mistakeUnderPenaltyOfPerjury: true, name: "Alpha Inc", address: "2 Pier Rd", phone: "+1 206 555 0111",
                consentsToJurisdiction: true, acceptsService: true)), by: "it@alpha.example")
            clock.advance(20 * 86_400)
            try await services.changeCopyright(notice.id, .recordRestoration(note: nil), by: "staff")
            #expect(try await services.verifyReportPeriod(h1) == [], "the closed half-year's figures did not move")
            let h2 = try CustosJSON.decode(TransparencyReport.self, from: try await services.buildReport(period: try ReportPeriod(parsing: "2026-H2"), format: .json, section: nil))
            #expect(h2.copyright?.counterNotices == 1 && h2.copyright?.restored == 1 && h2.copyright?.strikesWithdrawn == 1 && h2.copyright?.received == 0)
            let page = try await services.buildReport(period: h1, format: .html, section: nil)
            #expect(page.contains("Copyright notices (17 U.S.C. § 512)") && page.contains("<th scope=\"row\">material taken down</th><td>1</td>"))
        }
    }
}
