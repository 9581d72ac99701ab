import Configuration
import CustosDomain
@testable import CustosServer
import CustosStorage
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// Issue 8's second factor: TOTP set-up and sign-in (mandatory for agency users, on by default for
/// staff), recovery codes kept hashed and used once, replayed codes refused, guessing cut off, an
/// admin's reset ending every session and raising the recent-reset red flag.
@Suite struct SecondFactorTests {
    static let form: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]

    /// Types the password; returns the response's redirect target and cookies.
    static func password(
        _ email: String, _ password: String, portal: String, _ client: any TestClientProtocol
    ) async throws -> (location: String?, challenge: String?, session: String?) {
        let (cookie, token) = try await client.execute(uri: portal + "/login", method: .get) { response in
            (try #require(ServerTests.cookie("custos_login_csrf", in: response)), try #require(ServerTests.csrf(in: String(buffer: response.body))))
        }
        var headers = form
        headers[.cookie] = "custos_login_csrf=\(cookie)"
        let body = "_csrf=\(token)&email=\(ServerTests.formEncoded(email))&password=\(ServerTests.formEncoded(password))"
        return try await client.execute(uri: portal + "/login", method: .post, headers: headers, body: ByteBuffer(string: body)) { response in
            (response.headers[.location], ServerTests.cookie("custos_login_challenge", in: response).flatMap { $0.isEmpty ? nil : $0 },
             ServerTests.cookie("custos_session", in: response).flatMap { $0.isEmpty ? nil : $0 })
        }
    }

    /// Posts `code` to a challenge's form at `path`; returns status, body and the session cookie.
    static func post(
        code: String, to path: String, challenge: String, _ client: any TestClientProtocol
    ) async throws -> (status: HTTPResponse.Status, body: String, session: String?) {
        let cookie: HTTPFields = [.cookie: "custos_login_challenge=\(challenge)"]
        let token = try await client.execute(uri: path, method: .get, headers: cookie) { response in
            try #require(ServerTests.csrf(in: String(buffer: response.body)), "the \(path) page has a form")
        }
        var headers = form
        headers[.cookie] = "custos_login_challenge=\(challenge)"
        return try await client.execute(uri: path, method: .post, headers: headers, body: ByteBuffer(string: "_csrf=\(token)&code=\(ServerTests.formEncoded(code))")) {
            ($0.status, String(buffer: $0.body), ServerTests.cookie("custos_session", in: $0).flatMap { $0.isEmpty ? nil : $0 })
        }
    }

    static func agencyUser(_ services: CustosServices, email: String = "officer-\(UUID().uuidString.prefix(6).lowercased())@agency.example") async throws -> Principal {
        let agency = try #require(try await services.directory.findAgency(named: "Agency A"))
        let person = Principal(id: UUID(), email: email, displayName: "Officer", kind: .agency, agencyID: agency.id)
        try await services.identity.createPrincipal(person, passwordHash: try await Passwords.hash("officer password 1"), at: services.now())
        return person
    }

    static func auditActions(_ services: CustosServices, for person: Principal) async throws -> [String] {
        try await services.cases.auditTrail().filter { $0.record.subject == "principal:\(person.id.uuidString.lowercased())" }.map(\.record.action)
    }

    @Test func anAgencyUserSetsUpTheSecondFactorBeforeAnyPageOpensAndGetsRecoveryCodes() async throws {
        try await ServerTests.withApp { client, _, services in
            let officer = try await Self.agencyUser(services)
            let first = try await Self.password(officer.email, "officer password 1", portal: "/agency", client)
            #expect(first.location == "/agency/login/enrol", "agency users must set up a second factor")
            #expect(first.session == nil, "a password alone starts no session")
            let challenge = try #require(first.challenge)
            // The challenge cookie is not a session: the portal stays closed.
            try await client.execute(uri: "/agency/demands", method: .get, headers: [.cookie: "custos_session=\(challenge)"]) { response throws in
                #expect(response.status != .ok)
            }
            let page = try await client.execute(uri: "/agency/login/enrol", method: .get, headers: [.cookie: "custos_login_challenge=\(challenge)"]) { String(buffer: $0.body) }
            let shown = try #require(page.range(of: #"id="totp-secret"[^>]*>([A-Z2-7 ]+)<"#, options: .regularExpression).map { String(page[$0]) })
            let base32 = String(shown.split(separator: ">").last!.dropLast()).replacingOccurrences(of: " ", with: "")
            let secret = try #require(Base32.decode(base32))
            #expect(secret.count == 20, "160-bit secrets (RFC 4226 §4 R6)")
            #expect(page.contains("otpauth://totp/Custos:"))
            // Reloading keeps the same secret, so the app's entry stays right.
            let again = try await client.execute(uri: "/agency/login/enrol", method: .get, headers: [.cookie: "custos_login_challenge=\(challenge)"]) { String(buffer: $0.body) }
            #expect(again.contains(shown))

            let wrong = try await Self.post(code: "000000" == TOTP(secret: secret).code(at: services.now()) ? "111111" : "000000", to: "/agency/login/enrol", challenge: challenge, client)
            #expect(wrong.status == .unprocessableContent)
            #expect(wrong.session == nil)
            #expect(try await services.secondFactors.status(principalID: officer.id)?.isEnrolled == false)

            let right = try await Self.post(code: TOTP(secret: secret).code(at: services.now()), to: "/agency/login/enrol", challenge: challenge, client)
            #expect(right.status == .ok)
            let session = try #require(right.session, "setting up signs the user in")
            let codes = right.body.matches(of: /<li>([A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4})<\/li>/).map { String($0.output.1) }
            #expect(codes.count == 10 && Set(codes).count == 10)
            let status = try #require(try await services.secondFactors.status(principalID: officer.id))
            #expect(status.isEnrolled && status.recoveryCodesLeft == 10)
            #expect(try await Self.auditActions(services, for: officer).contains("principal.second_factor_enrolled"))
            // The portal opens, and the demand it sends records the sign-in with a second factor.
            try await client.execute(uri: "/agency/demands", method: .get, headers: [.cookie: "custos_session=\(session)"]) { response throws in
                #expect(response.status == .ok)
            }
            #expect(try await services.identity.session(cookie: session, at: services.now())?.secondFactor == true)
            // The challenge is spent.
            try await client.execute(uri: "/agency/login/enrol", method: .get, headers: [.cookie: "custos_login_challenge=\(challenge)"]) { response throws in
                #expect(String(buffer: response.body).contains("expired"))
            }
        }
    }

    @Test func aCodeSignsInOnceAndFiveWrongCodesEndTheSignIn() async throws {
        try await ServerTests.withApp { client, _, services in
            let officer = try await Self.agencyUser(services)
            let secret = try await ServerTests.enrolSecondFactor(officer, services)
            let first = try await Self.password(officer.email, "officer password 1", portal: "/agency", client)
            #expect(first.location == "/agency/login/code")
            let code = TOTP(secret: secret).code(at: services.now())
            let signedIn = try await Self.post(code: code, to: "/agency/login/code", challenge: try #require(first.challenge), client)
            #expect(signedIn.status == .seeOther && signedIn.session != nil)

            // RFC 6238 §5.2: the same code is not accepted a second time.
            let second = try await Self.password(officer.email, "officer password 1", portal: "/agency", client)
            let replay = try await Self.post(code: code, to: "/agency/login/code", challenge: try #require(second.challenge), client)
            #expect(replay.status == .unauthorized)
            #expect(replay.session == nil)
            #expect(replay.body.contains("wrong or was already used. 4 tries left"))

            // Guessing: after five wrong codes the password must be typed again.
            let third = try await Self.password(officer.email, "officer password 1", portal: "/agency", client)
            let challenge = try #require(third.challenge)
            var last: (status: HTTPResponse.Status, body: String, session: String?)?
            for _ in 0..<SecondFactorPolicy.attemptsPerSignIn {
                last = try await Self.post(code: "12345" + "6", to: "/agency/login/code", challenge: challenge, client)
            }
            #expect(last?.body.contains("Too many wrong codes") == true)
            #expect(try await services.secondFactors.challenge(token: challenge, at: services.now()) == nil)
            #expect(try await Self.auditActions(services, for: officer).contains("principal.second_factor_failed"))
            // A challenge of another kind's portal does not open this one.
            let fourth = try await Self.password(officer.email, "officer password 1", portal: "/agency", client)
            try await client.execute(uri: "/staff/login/code", method: .get, headers: [.cookie: "custos_login_challenge=\(try #require(fourth.challenge))"]) { response throws in
                #expect(String(buffer: response.body).contains("expired"))
            }
        }
    }

    @Test func aRecoveryCodeWorksOnceAndNewCodesNeedAFreshCode() async throws {
        try await ServerTests.withApp { client, _, services in
            let officer = try await Self.agencyUser(services)
            let secret = try await ServerTests.enrolSecondFactor(officer, services)
            let codes = RecoveryCodes.make(from: Data((0..<80).map { _ in UInt8.random(in: 0...255) }))
            try await services.secondFactors.replaceRecoveryCodes(principalID: officer.id, hashes: codes.map(RecoveryCodes.hash), by: "test", at: services.now())
            // Only hashes are stored.
            #expect(try await services.secondFactors.useRecoveryCode(principalID: officer.id, codeHash: codes[9], at: services.now()) == nil)

            let first = try await Self.password(officer.email, "officer password 1", portal: "/agency", client)
            let used = try await Self.post(code: codes[0].lowercased(), to: "/agency/login/code", challenge: try #require(first.challenge), client)
            #expect(used.status == .seeOther)
            let session = try #require(used.session)
            let account = try await client.execute(uri: "/agency/account?flash=x", method: .get, headers: [.cookie: "custos_session=\(session)"]) { String(buffer: $0.body) }
            #expect(account.contains(#"<strong id="codes-left">9</strong>"#))
            #expect(try await Self.auditActions(services, for: officer).contains("principal.recovery_code_used"))

            let second = try await Self.password(officer.email, "officer password 1", portal: "/agency", client)
            let reused = try await Self.post(code: codes[0], to: "/agency/login/code", challenge: try #require(second.challenge), client)
            #expect(reused.status == .unauthorized, "a recovery code works once")

            // New codes: a stale session is not enough, a fresh code from the app is.
            let csrf = try #require(ServerTests.csrf(in: account))
            var headers = Self.form
            headers[.cookie] = "custos_session=\(session)"
            try await client.execute(uri: "/agency/account/recovery-codes", method: .post, headers: headers, body: ByteBuffer(string: "_csrf=\(csrf)&code=000000")) { response throws in
                #expect(response.status == .unprocessableContent)
            }
            let fresh = try await client.execute(
                uri: "/agency/account/recovery-codes", method: .post, headers: headers,
                body: ByteBuffer(string: "_csrf=\(csrf)&code=\(TOTP(secret: secret).code(at: services.now()))")
            ) { String(buffer: $0.body) }
            let newCodes = fresh.matches(of: /<li>([A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4})<\/li>/).map { String($0.output.1) }
            #expect(newCodes.count == 10)
            #expect(try await services.secondFactors.useRecoveryCode(principalID: officer.id, codeHash: RecoveryCodes.hash(codes[1]), at: services.now()) == nil,
                    "new codes replace every earlier one")
            #expect(try await services.secondFactors.useRecoveryCode(principalID: officer.id, codeHash: RecoveryCodes.hash(newCodes[0]), at: services.now()) == 9)
        }
    }

    @Test func staffNeedASecondFactorUnlessTheProviderMakesItOptional() async throws {
        try await ServerTests.withApp { client, _, services in
            let staff = Principal(id: UUID(), email: "staff-req@p.example", displayName: "S", kind: .staff, roles: [.reviewer])
            try await services.identity.createPrincipal(staff, passwordHash: try await Passwords.hash("staff password 1"), at: services.now())
            let signIn = try await Self.password(staff.email, "staff password 1", portal: "/staff", client)
            #expect(signIn.location == "/staff/login/enrol" && signIn.session == nil)
        }
        let optional = ConfigReader(providers: [InMemoryProvider(values: [
            "custos.database.memory": true, "custos.log.level": "error", "custos.staff.second.factor": "optional",
        ])])
        try await ServerTests.withApp(reader: optional) { client, _, services in
            let staff = Principal(id: UUID(), email: "staff-opt@p.example", displayName: "S", kind: .staff, roles: [.reviewer])
            try await services.identity.createPrincipal(staff, passwordHash: try await Passwords.hash("staff password 1"), at: services.now())
            let signIn = try await Self.password(staff.email, "staff password 1", portal: "/staff", client)
            let session = try #require(signIn.session, "optional: the password signs in")
            #expect(try await services.identity.session(cookie: session, at: services.now())?.secondFactor == false)
            // Agency users still must.
            let officer = try await Self.agencyUser(services)
            #expect(try await Self.password(officer.email, "officer password 1", portal: "/agency", client).location == "/agency/login/enrol")
            // A staff member who set one up on the account page is asked for it from then on.
            let page = try await client.execute(uri: "/staff/account/second-factor", method: .get, headers: [.cookie: "custos_session=\(session)"]) { String(buffer: $0.body) }
            let secret = try #require(try await services.secondFactors.status(principalID: staff.id)?.secret)
            #expect(page.contains(Base32.encode(secret).prefix(4)))
            var headers = Self.form
            headers[.cookie] = "custos_session=\(session)"
            let codesPage = try await client.execute(
                uri: "/staff/account/second-factor", method: .post, headers: headers,
                body: ByteBuffer(string: "_csrf=\(try #require(ServerTests.csrf(in: page)))&code=\(TOTP(secret: secret).code(at: services.now()))")
            ) { String(buffer: $0.body) }
            #expect(codesPage.contains("Your recovery codes"))
            #expect(try await Self.password(staff.email, "staff password 1", portal: "/staff", client).location == "/staff/login/code")
        }
        let wrong = ConfigReader(providers: [InMemoryProvider(values: ["custos.database.memory": true, "custos.staff.second.factor": "sometimes"])])
        await #expect(throws: ConfigurationProblem.self) { _ = try await buildServices(reader: wrong) }
    }

    @Test func anAdminResetEndsEverySessionAndFlagsTheRequestersNextDemand() async throws {
        try await ServerTests.withApp { client, _, services in
            let officer = try await Self.agencyUser(services, email: "reset@agency.example")
            _ = try await RequesterVerificationTests.listInDirectory(services)
            let secret = try await ServerTests.enrolSecondFactor(officer, services)
            let session = try await ServerTests.webSession(email: officer.email, password: "officer password 1", portal: "/agency", secret: secret, client: client, services: services)
            try await services.secondFactors.reset(principalID: officer.id, reason: "phone lost", by: "admin@p.example", at: services.now())
            #expect(try await services.identity.session(cookie: session, at: services.now()) == nil, "every session ended")
            #expect(try await services.secondFactors.status(principalID: officer.id)?.isEnrolled == false)
            #expect(try await Self.auditActions(services, for: officer).contains("principal.second_factor_reset"))
            // The next sign-in sets up a new factor; the demand then sent carries the red flag.
            #expect(try await Self.password(officer.email, "officer password 1", portal: "/agency", client).location == "/agency/login/enrol")
            let token = try await services.identity.issueToken(for: officer.id, label: "after reset", at: services.now()).token
            let demandID = try await client.execute(uri: "/api/v1/demands", method: .post, headers: ServerTests.headers(token), body: ByteBuffer(string: ServerTests.demandJSON())) { response in
                try #require(try ServerTests.json(response.body)["id"] as? String)
            }
            let id = try #require(UUID(uuidString: demandID))
            let demand = try #require(try await services.cases.findDemand(id: id))
            #expect(demand.redFlags?.contains { $0.code == .recentCredentialReset } == true)
            #expect(demand.credential == .apiToken)
        }
    }

    /// Two sign-ins with the same code at the same moment: the step is taken once, on both databases.
    @Test(arguments: TransparencyLogTests.stores)
    func aTimeStepIsClaimedExactlyOnceUnderConcurrency(store: TransparencyLogTests.Store) async throws {
        let services = try await buildServices(reader: try await TransparencyLogTests.reader(store))
        do {
            let person = Principal(id: UUID(), email: "race@p.example", displayName: "Race", kind: .staff, roles: [.reviewer])
            try await services.identity.createPrincipal(person, passwordHash: "unused", at: services.now())
            _ = try await ServerTests.enrolSecondFactor(person, services)
            for step in Int64(100)...Int64(104) {
                let wins = try await withThrowingTaskGroup(of: Bool.self) { group in
                    for _ in 0..<8 { group.addTask { try await services.secondFactors.claimStep(principalID: person.id, step: step) } }
                    return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
                }
                #expect(wins == 1, "step \(step) was taken \(wins) times")
            }
            #expect(try await services.secondFactors.claimStep(principalID: person.id, step: 103) == false, "an earlier step is never taken after a later one")
        } catch {
            await services.shutdown()
            throw error
        }
        await services.shutdown()
    }
}
