import CustosDomain
import CustosStorage
import CustosWeb
import Foundation
import HTTPTypes
import Hummingbird

/// Staff sign-in through the provider's OpenID Connect provider (issue 28, part 4). The sign-in
/// begun here is kept in the database (any instance may get the callback) and bound to this
/// browser by a cookie holding its `state`; the callback takes it once.
extension WebRoutes {
    static let oidcStateCookie = "custos_oidc_state"
    static let oidcSignInLifetime: TimeInterval = 600

    func registerIdentityProvider(on router: inout SecuredRouter) {
        router.on(.get, "/staff/login/oidc", .open, .page) { request, context in try await beginProviderSignIn(request, context) }
        router.on(.get, "/staff/login/oidc/callback", .open, .page) { request, context in try await finishProviderSignIn(request, context) }
    }

    func beginProviderSignIn(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        guard let provider = services.identityProvider else { throw Problem.notFound("sign-in through an identity provider (none is configured)") }
        var next = Self.home(for: .staff)
        if let requested = request.uri.queryParameters.get("next")?.removingPercentEncoding, requested.hasPrefix("/staff"), !requested.contains("//") {
            next = requested
        }
        let state = SQLIdentityRepository.makeSecret(), nonce = SQLIdentityRepository.makeSecret(), verifier = SQLIdentityRepository.makeSecret()
        let location: String
        do {
            location = try await provider.authorizationURL(state: state, nonce: nonce, codeVerifier: verifier)
        } catch let refusal as OIDCRefusal {
            services.logger.warning("identity provider sign-in not started: \(refusal)")
            var page = try loginPage(.staff, request, context, error: "The identity provider cannot be reached now: \(refusal). Try again in a moment.")
            page.status = .serviceUnavailable
            return page
        }
        try await services.externalIdentities.begin(
            state: state, .init(nonce: nonce, codeVerifier: verifier, nextPath: next), expires: services.now().addingTimeInterval(Self.oidcSignInLifetime),
            at: services.now())
        var response = Response(status: .found, headers: [.location: location])
        // Lax, not Strict: the provider's redirect back is a cross-site navigation, which must carry it.
        response.setCookie(Cookie(
            name: Self.oidcStateCookie, value: state, maxAge: Int(Self.oidcSignInLifetime), path: "/staff/login/oidc",
            secure: services.configuration.secureCookies, httpOnly: true, sameSite: .lax))
        return response
    }

    func finishProviderSignIn(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        guard let provider = services.identityProvider else { throw Problem.notFound("sign-in through an identity provider (none is configured)") }
        let query = request.uri.queryParameters
        func refuse(_ message: String, status: HTTPResponse.Status, audit: [String: String]? = nil) async throws -> Response {
            if let audit {
                try await services.cases.record(AuditRecord(
                    caseID: nil, subject: "identity provider", action: "identity.sign_in_refused", outcome: .refused, actor: "identity provider",
                    at: services.now(), details: audit.merging(["reason": message, "address": clientAddress(request, context)]) { a, _ in a }))
            }
            var page = try loginPage(.staff, request, context, error: message)
            page.status = status
            page.setCookie(Cookie(name: Self.oidcStateCookie, value: "", maxAge: 0, path: "/staff/login/oidc", httpOnly: true, sameSite: .lax))
            return page
        }
        if let error = query.get("error") {
            let detail = query.get("error_description").map { ": \($0)" } ?? ""
            return try await refuse("The identity provider did not sign you in (\(error)\(detail)).", status: .unauthorized)
        }
        guard let state = query.get("state"), let code = query.get("code"), !code.isEmpty,
            let bound = request.cookies[Self.oidcStateCookie]?.value, OpenIDProvider.sameSecret(bound, state),
            let pending = try await services.externalIdentities.take(state: state, at: services.now())
        else {
            return try await refuse("This sign-in expired, was used already or was started in another browser. Start again.", status: .badRequest)
        }
        let identity: OpenIDProvider.Identity
        do {
            identity = try await provider.signIn(code: code, codeVerifier: pending.codeVerifier, nonce: pending.nonce, at: services.now())
        } catch let refusal as OIDCRefusal {
            services.logger.warning("identity provider sign-in refused: \(refusal)")
            return try await refuse("The sign-in was refused: \(refusal).", status: .unauthorized, audit: ["issuer": provider.settings.issuer])
        }
        let audit = ["issuer": provider.settings.issuer, "subject": identity.subject, "email": identity.email ?? "", "groups": identity.groups.joined(separator: ",")]
        guard let email = identity.email, email.contains("@"), identity.emailVerified != false else {
            return try await refuse("The identity provider gave no verified email address for you; Custos needs one to know who you are.", status: .forbidden, audit: audit)
        }
        let roles = provider.settings.roles.roles(for: identity.groups)
        guard !roles.isEmpty else {
            let groups = identity.groups.isEmpty ? "none" : identity.groups.joined(separator: ", ")
            return try await refuse(
                "You signed in at the identity provider as \(email), but none of your groups (\(groups)) gives a Custos role. Ask your administrator.",
                status: .forbidden, audit: audit)
        }
        let principal: Principal
        do {
            principal = try await services.externalIdentities.signIn(
                .init(issuer: provider.settings.issuer, subject: identity.subject, email: email, displayName: identity.name ?? email, roles: roles, groups: identity.groups),
                at: services.now())
        } catch StorageError.conflict(let reason) {
            return try await refuse("The sign-in was refused: \(reason).", status: .forbidden, audit: audit)
        }
        // A page that moves on by itself rather than a redirect: the session cookie is SameSite=Strict,
        // and a redirect still inside the provider's cross-site navigation would not carry it.
        var page = Page(
            template: "message", title: "Signed in", viewer: viewer(principal), csrfToken: "", flash: nil, error: nil,
            model: MessageModel(heading: "Signed in", text: "You are signed in as \(principal.email). Continuing to \(pending.nextPath)…"))
        page.refresh = "0; url=\(pending.nextPath)"
        var response = Response.html(try services.renderer.render(page))
        response.setCookie(Cookie(name: Self.oidcStateCookie, value: "", maxAge: 0, path: "/staff/login/oidc", httpOnly: true, sameSite: .lax))
        return try await signIn(principal, next: response, secondFactor: identity.multiFactor)
    }
}
