import AsyncHTTPClient
import Configuration
import CustosDomain
@testable import CustosServer
@testable import CustosStorage
import FluentSQL
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

/// Issue 28, part 4: staff sign in through the provider's OpenID Connect provider, here a real
/// one (`oidc-provider-mock` from PyPI, started by `scripts/test`; `CUSTOS_TEST_OIDC_ISSUER`),
/// driven as a browser would: the authorization code flow with PKCE, the mapped roles, wrong
/// audience, expired and replayed tokens, a group with no role, sign-out, and OIDC-only mode.
@Suite(.serialized) struct IdentityProviderTests {
    static var issuer: String? { ProcessInfo.processInfo.environment["CUSTOS_TEST_OIDC_ISSUER"].flatMap { $0.isEmpty ? nil : $0 } }
    static let clientID = "custos-test"
    static let roleMap = #"{"claim": "groups", "roles": {"legal-counsel": ["reviewer"], "legal-approvers": ["approver", "auditor"]}}"#

    /// A client that does not follow redirects: each hop is looked at.
    static let browser = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(redirectConfiguration: .disallow))

    static func settings(only: Bool = false) throws -> ConfigReader {
        let map = NSTemporaryDirectory() + "custos-roles-\(UUID().uuidString).json"
        try Data(roleMap.utf8).write(to: URL(fileURLWithPath: map))
        var values: [AbsoluteConfigKey: ConfigValue] = [
            "custos.database.memory": true, "custos.log.level": "error", "custos.public.url": "https://custos.example",
            "custos.oidc.issuer": .init(.string(issuer ?? "http://127.0.0.1:9"), isSecret: false),
            "custos.oidc.client.id": .init(.string(clientID), isSecret: false),
            "custos.oidc.client.secret": .init(.string("client secret"), isSecret: true),
            "custos.oidc.role.map": .init(.string(map), isSecret: false),
        ]
        if only { values["custos.oidc.only"] = true }
        return ConfigReader(providers: [InMemoryProvider(values: values)])
    }

    /// Gives `sub` these claims at the provider.
    static func setUser(_ sub: String, _ claims: [String: Any]) async throws {
        var request = HTTPClientRequest(url: "\(issuer!)/users/\(sub)")
        request.method = .PUT
        request.headers.add(name: "content-type", value: "application/json")
        request.body = .bytes(ByteBuffer(data: try JSONSerialization.data(withJSONObject: claims)))
        let response = try await browser.execute(request, timeout: .seconds(10))
        #expect(response.status == .noContent)
    }

    /// Signs `sub` in at the provider's authorization endpoint; returns where it sends the browser back.
    static func authorize(_ authorizationURL: String, as sub: String) async throws -> URLComponents {
        var request = HTTPClientRequest(url: authorizationURL)
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/x-www-form-urlencoded")
        request.body = .bytes(ByteBuffer(string: "sub=\(sub)&action=approve"))
        let response = try await browser.execute(request, timeout: .seconds(10))
        #expect(response.status == .found, "the provider did not send the browser back")
        let location = try #require(response.headers.first(name: "location"))
        return try #require(URLComponents(string: location))
    }

    /// Begins a sign-in at Custos and has `sub` sign in at the provider; returns the callback's path and the state cookie.
    static func providerRoundTrip(_ client: any TestClientProtocol, as sub: String) async throws -> (callback: String, stateCookie: String, authorizeURL: URLComponents) {
        let (location, cookie) = try await client.execute(uri: "/staff/login/oidc", method: .get) { response in
            #expect(response.status == .found)
            return (try #require(response.headers[.location]), try #require(ServerTests.cookie(WebRoutes.oidcStateCookie, in: response)))
        }
        let back = try await authorize(location, as: sub)
        #expect(back.host == "custos.example" && back.path == "/staff/login/oidc/callback")
        return ("/staff/login/oidc/callback?\(back.percentEncodedQuery ?? "")", cookie, try #require(URLComponents(string: location)))
    }

    /// An ID token straight from the provider for `clientID`, by the code flow run here (no Custos).
    static func idToken(for clientID: String, as sub: String, nonce: String) async throws -> String {
        let redirect = "http://127.0.0.1:1/back"
        var authorizeURL = URLComponents(string: "\(issuer!)/oauth2/authorize")!
        authorizeURL.queryItems = [
            .init(name: "response_type", value: "code"), .init(name: "client_id", value: clientID), .init(name: "redirect_uri", value: redirect),
            .init(name: "scope", value: "openid email profile"), .init(name: "state", value: "s"), .init(name: "nonce", value: nonce),
        ]
        let back = try await authorize(authorizeURL.string!, as: sub)
        let code = try #require(back.queryItems?.first { $0.name == "code" }?.value)
        var request = HTTPClientRequest(url: "\(issuer!)/oauth2/token")
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/x-www-form-urlencoded")
        request.headers.add(name: "authorization", value: "Basic " + Data("\(clientID):secret".utf8).base64EncodedString())
        request.body = .bytes(ByteBuffer(string: "grant_type=authorization_code&code=\(code)&redirect_uri=\(OpenIDProvider.formEncode(redirect))"))
        let response = try await browser.execute(request, timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 1 << 20)
        let answer = try #require(try JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any])
        return try #require(answer["id_token"] as? String, "\(answer)")
    }

    /// The status of a password sign-in at the staff portal.
    static func passwordSignIn(_ client: any TestClientProtocol, email: String, password: String) async throws -> HTTPResponse.Status {
        let (cookie, token) = try await client.execute(uri: "/staff/login", method: .get) { response in
            // Double submit: the form's token is the cookie's (OIDC-only pages have no form to read it from).
            let cookie = try #require(ServerTests.cookie("custos_login_csrf", in: response))
            return (cookie, ServerTests.csrf(in: String(buffer: response.body)) ?? cookie)
        }
        return try await client.execute(
            uri: "/staff/login", method: .post, headers: [.contentType: "application/x-www-form-urlencoded", .cookie: "custos_login_csrf=\(cookie)"],
            body: ByteBuffer(string: "_csrf=\(token)&email=\(ServerTests.formEncoded(email))&password=\(ServerTests.formEncoded(password))")
        ) { response in
            #expect(ServerTests.cookie("custos_session", in: response) == nil)
            return response.status
        }
    }

    @Test func aStaffMemberSignsInThroughTheProviderWithTheMappedRolesAndSignsOutThere() async throws {
        guard Self.issuer != nil else { return }
        let sub = "alice-\(UUID().uuidString.prefix(6).lowercased())"
        try await Self.setUser(sub, ["email": "\(sub)@provider.example", "name": "Alice Counsel", "groups": ["legal-counsel", "marketing"]])
        try await ServerTests.withApp(reader: try Self.settings()) { client, _, services in
            let login = try await client.execute(uri: "/staff/login", method: .get) { String(buffer: $0.body) }
            #expect(login.contains(#"id="oidc-sign-in""#) && login.contains(#"name="password""#), "the provider's button beside the password form")

            let trip = try await Self.providerRoundTrip(client, as: sub)
            // Authorization code with PKCE S256, state and nonce (RFC 7636 §4.3; Core §3.1.2.1).
            let items = Dictionary(uniqueKeysWithValues: (trip.authorizeURL.queryItems ?? []).map { ($0.name, $0.value ?? "") })
            #expect(items["response_type"] == "code" && items["client_id"] == Self.clientID && items["code_challenge_method"] == "S256")
            #expect(items["redirect_uri"] == "https://custos.example/staff/login/oidc/callback" && items["scope"] == "openid email profile")
            #expect(items["state"] == trip.stateCookie && (items["nonce"] ?? "").count >= 40)
            let stored = try await (services.database.database as! any SQLDatabase).raw("SELECT code_verifier, nonce FROM oidc_sign_ins").all()
            let verifier = try #require(stored.first).decode(column: "code_verifier", as: String.self)
            #expect(stored.count == 1 && OpenIDProvider.codeChallenge(verifier) == items["code_challenge"])
            #expect(try stored[0].decode(column: "nonce", as: String.self) == items["nonce"])

            let session = try await client.execute(uri: trip.callback, method: .get, headers: [.cookie: "\(WebRoutes.oidcStateCookie)=\(trip.stateCookie)"]) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).contains("url=/staff/queue"), "moves on by itself, so the Strict session cookie is sent")
                return try #require(ServerTests.cookie("custos_session", in: response))
            }
            let person = try #require(try await services.identity.findPrincipal(email: "\(sub)@provider.example"))
            #expect(person.kind == .staff && person.roles == [.reviewer] && person.displayName == "Alice Counsel")
            try await client.execute(uri: "/staff/queue", method: .get, headers: [.cookie: "custos_session=\(session)"]) { response in
                #expect(response.status == .ok && String(buffer: response.body).contains("Alice Counsel"))
            }
            // No password signs this account in: it has none.
            #expect(try await Self.passwordSignIn(client, email: "\(sub)@provider.example", password: "") == .unauthorized)
            #expect(try await Self.passwordSignIn(client, email: "\(sub)@provider.example", password: "anything at all") == .unauthorized)
            // The callback is taken once.
            try await client.execute(uri: trip.callback, method: .get, headers: [.cookie: "\(WebRoutes.oidcStateCookie)=\(trip.stateCookie)"]) { response in
                #expect(response.status == .badRequest && String(buffer: response.body).contains("used already"))
            }

            // The directory decides: another group next time, other roles, the same account (by `sub`).
            try await Self.setUser(sub, ["email": "\(sub)@provider.example", "name": "Alice Counsel", "groups": ["legal-approvers"]])
            let again = try await Self.providerRoundTrip(client, as: sub)
            let second = try await client.execute(uri: again.callback, method: .get, headers: [.cookie: "\(WebRoutes.oidcStateCookie)=\(again.stateCookie)"]) { response in
                try #require(ServerTests.cookie("custos_session", in: response))
            }
            let changed = try #require(try await services.identity.findPrincipal(email: "\(sub)@provider.example"))
            #expect(changed.id == person.id && changed.roles == [.approver, .auditor])
            let trail = try await services.cases.auditTrail().map(\.record)
            #expect(trail.contains { $0.action == "identity.staff_created" && $0.details["subject"] == sub })
            #expect(trail.contains { $0.action == "identity.roles_changed" && $0.details["from"] == "reviewer" && $0.details["to"] == "approver,auditor" })
            #expect(trail.filter { $0.action == "identity.signed_in" && $0.actor == "\(sub)@provider.example" }.count == 2)

            // Sign-out ends the session here and sends the browser to the provider's end-session endpoint.
            let csrf = try await client.execute(uri: "/staff/queue", method: .get, headers: [.cookie: "custos_session=\(second)"]) { response in
                try #require(ServerTests.csrf(in: String(buffer: response.body)))
            }
            try await client.execute(
                uri: "/staff/logout", method: .post, headers: [.cookie: "custos_session=\(second)", .contentType: "application/x-www-form-urlencoded"],
                body: ByteBuffer(string: "_csrf=\(csrf)")
            ) { response in
                #expect(response.status == .seeOther)
                let location = response.headers[.location] ?? ""
                #expect(location.hasPrefix("\(Self.issuer!)/oauth2/end_session") && location.contains("post_logout_redirect_uri=https://custos.example/staff/login"), "\(location)")
            }
            try await client.execute(uri: "/staff/queue", method: .get, headers: [.cookie: "custos_session=\(second)"]) { response in
                #expect(response.status != .ok, "the session ended")
            }
        }
    }

    @Test func aPersonWhoseGroupsGiveNoRoleIsNotSignedIn() async throws {
        guard Self.issuer != nil else { return }
        let sub = "bob-\(UUID().uuidString.prefix(6).lowercased())"
        try await Self.setUser(sub, ["email": "\(sub)@provider.example", "groups": ["marketing"]])
        try await ServerTests.withApp(reader: try Self.settings()) { client, _, services in
            let trip = try await Self.providerRoundTrip(client, as: sub)
            try await client.execute(uri: trip.callback, method: .get, headers: [.cookie: "\(WebRoutes.oidcStateCookie)=\(trip.stateCookie)"]) { response in
                #expect(response.status == .forbidden)
                #expect(String(buffer: response.body).contains("none of your groups (marketing) gives a Custos role"))
                #expect(ServerTests.cookie("custos_session", in: response) == nil)
            }
            #expect(try await services.identity.findPrincipal(email: "\(sub)@provider.example") == nil, "no account is made")
            #expect(try await services.cases.auditTrail().contains { $0.record.action == "identity.sign_in_refused" && $0.record.details["subject"] == sub })
        }
    }

    @Test func aCallbackFromAnotherBrowserOrWithoutCodeIsRefused() async throws {
        guard Self.issuer != nil else { return }
        let sub = "carol-\(UUID().uuidString.prefix(6).lowercased())"
        try await Self.setUser(sub, ["email": "\(sub)@provider.example", "groups": ["legal-counsel"]])
        try await ServerTests.withApp(reader: try Self.settings()) { client, _, _ in
            let trip = try await Self.providerRoundTrip(client, as: sub)
            // Without the state cookie (a link sent to someone else's browser: login CSRF).
            try await client.execute(uri: trip.callback, method: .get) { response in
                #expect(response.status == .badRequest && ServerTests.cookie("custos_session", in: response) == nil)
            }
            try await client.execute(uri: "/staff/login/oidc/callback?error=access_denied&error_description=denied", method: .get) { response in
                #expect(response.status == .unauthorized && String(buffer: response.body).contains("access_denied"))
            }
        }
    }

    @Test func anExpiredTokenIsRefusedAtTheCallback() async throws {
        guard Self.issuer != nil else { return }
        let sub = "dave-\(UUID().uuidString.prefix(6).lowercased())"
        try await Self.setUser(sub, ["email": "\(sub)@provider.example", "groups": ["legal-counsel"]])
        // Custos's clock runs two days ahead of the provider's: every token it issues is long expired here.
        let ahead: @Sendable () -> Date = { Date().addingTimeInterval(2 * 86_400) }
        try await ServerTests.withApp(reader: try Self.settings(), clock: ahead) { client, _, _ in
            let trip = try await Self.providerRoundTrip(client, as: sub)
            try await client.execute(uri: trip.callback, method: .get, headers: [.cookie: "\(WebRoutes.oidcStateCookie)=\(trip.stateCookie)"]) { response in
                #expect(response.status == .unauthorized)
                #expect(String(buffer: response.body).contains("the ID token expired"), "\(String(buffer: response.body))")
                #expect(ServerTests.cookie("custos_session", in: response) == nil)
            }
        }
    }

    @Test func tokensForAnotherClientOrAnotherSignInOrAlteredAreRefused() async throws {
        guard let issuer = Self.issuer else { return }
        let sub = "erin-\(UUID().uuidString.prefix(6).lowercased())"
        try await Self.setUser(sub, ["email": "\(sub)@provider.example", "groups": ["legal-counsel"]])
        let provider = OpenIDProvider(settings: try #require(try AppConfiguration(reader: try Self.settings()).identityProviderSettings()))
        let own = try await Self.idToken(for: Self.clientID, as: sub, nonce: "nonce-1")
        let identity = try await provider.verify(idToken: own, nonce: "nonce-1", at: Date())
        #expect(identity.subject == sub && identity.groups == ["legal-counsel"] && identity.email == "\(sub)@provider.example")

        let foreign = try await Self.idToken(for: "another-application", as: sub, nonce: "nonce-2")
        await #expect { try await provider.verify(idToken: foreign, nonce: "nonce-2", at: Date()) } throws: { "\($0)".contains("wrong audience") }
        await #expect { try await provider.verify(idToken: own, nonce: "nonce-1", at: Date().addingTimeInterval(86_400)) } throws: { "\($0)".contains("expired") }
        await #expect { try await provider.verify(idToken: own, nonce: "another sign-in", at: Date()) } throws: { "\($0)".contains("nonce") }
        var parts = own.split(separator: ".").map(String.init)
        parts[1] = OpenIDProvider.base64URL(Data(#"{"iss":"\#(issuer)","sub":"mallory","aud":"\#(Self.clientID)","exp":9999999999,"nonce":"nonce-1","email":"m@x"}"#.utf8))
        await #expect { try await provider.verify(idToken: parts.joined(separator: "."), nonce: "nonce-1", at: Date()) } throws: { "\($0)".contains("signature") }
    }

    @Test func oidcOnlyModeTurnsStaffPasswordsOff() async throws {
        guard Self.issuer != nil else { return }
        try await ServerTests.withApp(reader: try Self.settings(only: true)) { client, _, services in
            let person = Principal(id: UUID(), email: "local@p.example", displayName: "Local", kind: .staff, roles: [.reviewer])
            try await services.identity.createPrincipal(person, passwordHash: try await Passwords.hash("a local password 1"), at: services.now())
            let page = try await client.execute(uri: "/staff/login", method: .get) { String(buffer: $0.body) }
            #expect(page.contains(#"id="passwords-off""#) && !page.contains(#"name="password""#) && page.contains(#"id="oidc-sign-in""#))
            // The right password of a local staff account is refused too.
            #expect(try await Self.passwordSignIn(client, email: "local@p.example", password: "a local password 1") == .forbidden)
        }
    }

    @Test func settingsThatCannotWorkStopStartupWithTheirName() async throws {
        func problem(_ values: [AbsoluteConfigKey: ConfigValue]) -> String {
            do {
                _ = try AppConfiguration(reader: ConfigReader(providers: [InMemoryProvider(values: values)])).identityProviderSettings()
                return ""
            } catch {
                return "\(error)"
            }
        }
        #expect(problem(["custos.oidc.only": true]).contains("CUSTOS_OIDC_ONLY needs CUSTOS_OIDC_ISSUER"))
        #expect(problem(["custos.oidc.issuer": "https://id.example"]).contains("CUSTOS_OIDC_CLIENT_ID"))
        #expect(problem(["custos.oidc.issuer": "https://id.example", "custos.oidc.client.id": "c", "custos.oidc.client.secret": "s"]).contains("CUSTOS_OIDC_ROLE_MAP"))
        #expect(problem(["custos.oidc.issuer": "not a url", "custos.oidc.client.id": "c", "custos.oidc.client.secret": "s"]).contains("issuer URL"))
        #expect(throws: IdentityProviderRoles.Problem.self) { try IdentityProviderRoles.parse(Data(#"{"roles": {"g": ["superuser"]}}"#.utf8)) }
        let map = try IdentityProviderRoles.parse(Data(#"{"roles": {"a": ["reviewer"], "b": ["approver", "reviewer"]}}"#.utf8))
        #expect(map.claim == "groups" && map.roles(for: ["a", "b", "c"]) == [.reviewer, .approver] && map.roles(for: ["c"]).isEmpty)
        #expect(IdentityProviderRoles.values("one") == ["one"] && IdentityProviderRoles.values(["x", 1, "y"]) == ["x", "y"] && IdentityProviderRoles.values(nil).isEmpty)
    }
}
