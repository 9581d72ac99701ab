import Crypto
import CustosDomain
import CustosStorage
import CustosWeb
import Foundation
import HTTPTypes
import Hummingbird

/// Signing in, for every kind of user: password, then the second factor where the policy asks for
/// one (issue 8). Between the two steps the browser holds a login challenge, never a session: it
/// opens only the code (or set-up) form, lasts ten minutes and allows five wrong codes.
extension WebRoutes {
    static let loginCSRFCookie = "custos_login_csrf"
    static let challengeCookie = "custos_login_challenge"
    static let totpIssuer = "Custos"

    func registerSignIn(on router: inout SecuredRouter) {
        registerIdentityProvider(on: &router)
        for kind in PrincipalKind.allCases {
            let base = "/\(kind.rawValue)"
            router.on(.get, "\(base)/login", .open, .page) { request, context in try loginPage(kind, request, context) }
            router.on(.post, "\(base)/login", .open, .page) { request, context in try await login(kind, request, context) }
            router.on(.get, "\(base)/login/code", .open, .page) { request, context in try await codePage(kind, request, context) }
            router.on(.post, "\(base)/login/code", .open, .page) { request, context in try await submitCode(kind, request, context) }
            router.on(.get, "\(base)/login/enrol", .open, .page) { request, context in try await enrolPage(kind, request, context) }
            router.on(.post, "\(base)/login/enrol", .open, .page) { request, context in try await submitEnrolment(kind, request, context) }
            router.on(.post, "\(base)/logout", policy(for: kind), .page) { request, context in try await logout(kind, request, context) }
            router.on(.get, "\(base)/account", policy(for: kind), .page) { request, context in try await accountPage(kind, request, context) }
            router.on(.get, "\(base)/account/second-factor", policy(for: kind), .page) { request, context in
                try await accountEnrolPage(kind, request, context)
            }
            router.on(.post, "\(base)/account/second-factor", policy(for: kind), .page) { request, context in
                try await accountEnrol(kind, request, context)
            }
            router.on(.post, "\(base)/account/recovery-codes", policy(for: kind), .page) { request, context in
                try await newRecoveryCodes(kind, request, context)
            }
        }
    }

    // MARK: Password

    /// Login forms use a double-submit token: a random value in a cookie and in the form.
    func loginPage(_ kind: PrincipalKind, _ request: Request, _ context: AppRequestContext, error: String? = nil, email: String = "") throws -> Response {
        let token = SQLIdentityRepository.makeSecret()
        var response = try render(
            "login", "Sign in", context,
            LoginModel(
                heading: "\(kind.rawValue.capitalized) sign-in", action: "/\(kind.rawValue)/login", email: email, offersRegistration: kind == .agency,
                identityProviderPath: kind == .staff && services.identityProvider != nil ? "/staff/login/oidc" : nil,
                offersPassword: !(kind == .staff && services.identityProvider?.settings.only == true)),
            error: error, status: error == nil ? .ok : .unauthorized, csrf: token)
        response.setCookie(Cookie(name: Self.loginCSRFCookie, value: token, path: "/", secure: services.configuration.secureCookies, httpOnly: true, sameSite: .strict))
        return response
    }

    func login(_ kind: PrincipalKind, _ request: Request, _ context: AppRequestContext) async throws -> Response {
        let form = try await FormData.read(request, limit: 16 * 1024, expectedCSRF: request.cookies[Self.loginCSRFCookie]?.value)
        let email = form.value("email") ?? ""
        if kind == .staff, services.identityProvider?.settings.only == true {
            // CUSTOS_OIDC_ONLY: no staff password is checked, not even a right one.
            var page = try loginPage(kind, request, context, error: "Staff passwords are turned off: sign in with your organisation's account.")
            page.status = .forbidden
            return page
        }
        // Issue 10: attempts per client address, then a lock per account after wrong passwords.
        // Behind the balancer the client address comes from X-Forwarded-For (when trusted), or every
        // client would share the balancer's limit.
        if let wait = try await services.signInLimiter.admit(clientAddress(request, context), at: services.now()) {
            var page = try loginPage(kind, request, context, error: "Too many sign-in attempts from your address; try again in \(wait) seconds.", email: email)
            page.status = .tooManyRequests
            page.headers[HTTPField.Name("Retry-After")!] = String(wait)
            return page
        }
        let credentials = try await services.identity.credentials(email: email)
        if let known = credentials?.0, let until = try await services.identity.lockedUntil(principalID: known.id, at: services.now()) {
            var page = try loginPage(
                kind, request, context, error: "Too many wrong passwords for this account: sign-in is locked until \(Timestamp.format(until)) UTC.", email: email)
            page.status = .tooManyRequests
            return page
        }
        let principal = credentials.map(\.0)
        let isAuthentic = try await Passwords.authenticate(form.value("password") ?? "", against: credentials?.passwordHash)
        guard isAuthentic, let principal, principal.kind == kind else {
            if let known = credentials?.0 { _ = try await services.identity.recordFailedLogin(principalID: known.id, at: services.now()) }
            return try loginPage(kind, request, context, error: "Email or password is wrong.", email: email)
        }
        try await services.identity.recordSuccessfulLogin(principalID: principal.id)
        if kind == .agency, let registration = try await services.registrations.registration(principalID: principal.id), registration.confirmedAt == nil {
            return try loginPage(kind, request, context, error: "Confirm your address first, with the link we sent to it when you registered.", email: email)
        }
        var next = Self.home(for: kind)
        if let requested = request.uri.queryParameters.get("next")?.removingPercentEncoding, requested.hasPrefix("/\(kind.rawValue)"), !requested.contains("//") {
            next = requested
        }
        let enrolled = try await services.secondFactors.status(principalID: principal.id)?.isEnrolled ?? false
        switch services.configuration.secondFactor.afterPassword(kind: kind, enrolled: enrolled) {
        case .signedIn:
            return try await signIn(principal, next: .redirect(to: next), secondFactor: false)
        case .code:
            return try await challenge(principal, stage: .code, next: next, redirect: "/\(kind.rawValue)/login/code")
        case .enrol:
            return try await challenge(principal, stage: .enrol, next: next, redirect: "/\(kind.rawValue)/login/enrol")
        }
    }

    func challenge(_ principal: Principal, stage: SecondFactorStore.Stage, next: String, redirect: String) async throws -> Response {
        let token = try await services.secondFactors.beginChallenge(principalID: principal.id, stage: stage, nextPath: next, at: services.now())
        var response = Response.redirect(to: redirect)
        response.setCookie(Cookie(
            name: Self.challengeCookie, value: token, maxAge: Int(SecondFactorPolicy.challengeLifetime), path: "/",
            secure: services.configuration.secureCookies, httpOnly: true, sameSite: .strict))
        return response
    }

    /// Starts the session; `response` is where the browser goes (or what it sees) next.
    func signIn(_ principal: Principal, next response: Response, secondFactor: Bool) async throws -> Response {
        let (cookie, _) = try await services.identity.startSession(
            for: principal.id, at: services.now(), lifetime: services.configuration.sessionLifetime, secondFactor: secondFactor)
        var response = response
        response.setCookie(Cookie(
            name: AuthenticationMiddleware.sessionCookie, value: cookie, maxAge: Int(services.configuration.sessionLifetime), path: "/",
            secure: services.configuration.secureCookies, httpOnly: true, sameSite: .strict))
        response.setCookie(Cookie(name: Self.challengeCookie, value: "", maxAge: 0, path: "/", httpOnly: true, sameSite: .strict))
        return response
    }

    func logout(_ kind: PrincipalKind, _ request: Request, _ context: AppRequestContext) async throws -> Response {
        _ = try await FormData.read(request, limit: 4096, expectedCSRF: context.sessionCSRF)
        var viaProvider = false
        if kind == .staff, services.identityProvider != nil, let principal = context.principal {
            viaProvider = try await services.externalIdentities.isLinked(principalID: principal.id)
        }
        if let cookie = context.sessionCookie { try await services.identity.endSession(cookie: cookie) }
        // Staff signed in through the identity provider sign out there too (RP-Initiated Logout),
        // which sends the browser back to the sign-in page.
        var target = "/\(kind.rawValue)/login"
        if kind == .staff, viaProvider, let provider = services.identityProvider, let endSession = await provider.endSessionURL() { target = endSession }
        var response = Response.redirect(to: target)
        response.setCookie(Cookie(name: AuthenticationMiddleware.sessionCookie, value: "", maxAge: 0, path: "/", httpOnly: true, sameSite: .strict))
        return response
    }

    // MARK: The code

    /// The live challenge of this kind and stage, or nil (expired, or another kind's).
    func currentChallenge(_ kind: PrincipalKind, _ request: Request, stage: SecondFactorStore.Stage) async throws -> (String, SecondFactorStore.Challenge)? {
        guard let token = request.cookies[Self.challengeCookie]?.value,
            let challenge = try await services.secondFactors.challenge(token: token, at: services.now()),
            challenge.principal.kind == kind, challenge.stage == stage
        else { return nil }
        return (token, challenge)
    }

    func restartSignIn(_ kind: PrincipalKind, _ request: Request, _ context: AppRequestContext, error: String) throws -> Response {
        var response = try loginPage(kind, request, context, error: error)
        response.setCookie(Cookie(name: Self.challengeCookie, value: "", maxAge: 0, path: "/", httpOnly: true, sameSite: .strict))
        return response
    }

    func codePage(_ kind: PrincipalKind, _ request: Request, _ context: AppRequestContext, error: String? = nil) async throws -> Response {
        guard let (_, challenge) = try await currentChallenge(kind, request, stage: .code) else {
            return try restartSignIn(kind, request, context, error: "Your sign-in expired. Type your password again.")
        }
        let model = SecondFactorCodeModel(
            heading: "Second factor", action: "/\(kind.rawValue)/login/code", email: challenge.principal.email,
            demoCode: try await demoCode(for: challenge.principal.id))
        return try render("second_factor", "Second factor", context, model, error: error, status: error == nil ? .ok : .unauthorized, csrf: challenge.csrfToken)
    }

    func submitCode(_ kind: PrincipalKind, _ request: Request, _ context: AppRequestContext) async throws -> Response {
        guard let (token, challenge) = try await currentChallenge(kind, request, stage: .code) else {
            return try restartSignIn(kind, request, context, error: "Your sign-in expired. Type your password again.")
        }
        let form = try await FormData.read(request, limit: 4096, expectedCSRF: challenge.csrfToken)
        let principal = challenge.principal
        let typed = form.value("code") ?? ""
        if try await acceptsTOTP(typed, principalID: principal.id) {
            try await services.secondFactors.endChallenge(token: token)
            return try await signIn(principal, next: .redirect(to: challenge.nextPath), secondFactor: true)
        }
        if !Self.looksLikeTOTP(typed),
            let left = try await services.secondFactors.useRecoveryCode(principalID: principal.id, codeHash: RecoveryCodes.hash(typed), at: services.now())
        {
            try await services.secondFactors.endChallenge(token: token)
            let flash = "You signed in with a recovery code; \(left) left. Each works once: make new ones when few are left."
            return try await signIn(
                principal, next: .redirect(to: "/\(kind.rawValue)/account?flash=\(flash.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)"),
                secondFactor: true)
        }
        let left = try await services.secondFactors.countFailure(token: token, at: services.now())
        guard left > 0 else {
            return try restartSignIn(kind, request, context, error: "Too many wrong codes. Type your password again.")
        }
        return try await codePage(kind, request, context, error: "That code is wrong or was already used. \(left) \(left == 1 ? "try" : "tries") left.")
    }

    static func looksLikeTOTP(_ typed: String) -> Bool {
        let digits = typed.filter { !$0.isWhitespace }
        return digits.count == 6 && digits.allSatisfy { $0.isASCII && $0.isNumber }
    }

    /// A TOTP code from the principal's set-up secret, for a time step not used before; taking the
    /// step is atomic, so one code signs in once even when sent twice at the same moment.
    func acceptsTOTP(_ typed: String, principalID: UUID) async throws -> Bool {
        guard Self.looksLikeTOTP(typed), let status = try await services.secondFactors.status(principalID: principalID), status.isEnrolled,
            let secret = status.secret,
            let step = TOTP(secret: secret).verify(typed, at: services.now(), lastUsedStep: status.lastStep)
        else { return false }
        return try await services.secondFactors.claimStep(principalID: principalID, step: step)
    }

    /// On a `serve --demo` server only, the current code of the demo accounts' shared secret.
    func demoCode(for principalID: UUID) async throws -> String? {
        guard services.configuration.showsDemoCodes, let secret = try await services.secondFactors.status(principalID: principalID)?.secret,
            secret == DemoData.secondFactorSecret
        else { return nil }
        return TOTP(secret: secret).code(at: services.now())
    }

    // MARK: Setting up

    func enrolPage(_ kind: PrincipalKind, _ request: Request, _ context: AppRequestContext, error: String? = nil) async throws -> Response {
        guard let (_, challenge) = try await currentChallenge(kind, request, stage: .enrol) else {
            return try restartSignIn(kind, request, context, error: "Your sign-in expired. Type your password again.")
        }
        return try await renderEnrol(
            challenge.principal, action: "/\(kind.rawValue)/login/enrol", context, csrf: challenge.csrfToken, error: error)
    }

    func renderEnrol(_ principal: Principal, action: String, _ context: AppRequestContext, csrf: String?, error: String?) async throws -> Response {
        let secret = try await services.secondFactors.pendingSecret(principalID: principal.id, fresh: Self.randomBytes(20))
        let model = EnrolModel(
            heading: "Set up your second factor", action: action, email: principal.email, secret: Base32.encode(secret),
            uri: TOTP(secret: secret).uri(issuer: Self.totpIssuer, account: principal.email),
            isRequired: services.configuration.secondFactor.isRequired(for: principal.kind),
            demoCode: services.configuration.showsDemoCodes ? TOTP(secret: secret).code(at: services.now()) : nil)
        return try render("enrol", "Second factor", context, model, error: error, status: error == nil ? .ok : .unprocessableContent, csrf: csrf)
    }

    func submitEnrolment(_ kind: PrincipalKind, _ request: Request, _ context: AppRequestContext) async throws -> Response {
        guard let (token, challenge) = try await currentChallenge(kind, request, stage: .enrol) else {
            return try restartSignIn(kind, request, context, error: "Your sign-in expired. Type your password again.")
        }
        let form = try await FormData.read(request, limit: 4096, expectedCSRF: challenge.csrfToken)
        guard let codes = try await completeEnrolment(challenge.principal, typed: form.value("code") ?? "") else {
            let left = try await services.secondFactors.countFailure(token: token, at: services.now())
            guard left > 0 else { return try restartSignIn(kind, request, context, error: "Too many wrong codes. Type your password again.") }
            return try await enrolPage(kind, request, context, error: "That code does not match the key. Check the app's clock and type the newest code.")
        }
        try await services.secondFactors.endChallenge(token: token)
        let page = try render(
            "recovery_codes", "Recovery codes", context, RecoveryCodesModel(codes: codes, continuePath: challenge.nextPath), csrf: "")
        return try await signIn(challenge.principal, next: page, secondFactor: true)
    }

    /// Checks the first code against the secret being set up; on success the second factor is on
    /// and the new recovery codes are returned (to be shown once).
    func completeEnrolment(_ principal: Principal, typed: String) async throws -> [String]? {
        guard let status = try await services.secondFactors.status(principalID: principal.id), !status.isEnrolled, let secret = status.secret,
            let step = TOTP(secret: secret).verify(typed, at: services.now())
        else { return nil }
        let codes = RecoveryCodes.make(from: Self.randomBytes(80))
        try await services.secondFactors.enrol(
            principalID: principal.id, step: step, recoveryCodeHashes: codes.map(RecoveryCodes.hash), by: principal.email, at: services.now())
        return codes
    }

    static func randomBytes(_ count: Int) -> Data {
        SymmetricKey(size: SymmetricKeySize(bitCount: count * 8)).withUnsafeBytes { Data($0) }
    }

    // MARK: Own account

    func accountPage(_ kind: PrincipalKind, _ request: Request, _ context: AppRequestContext, error: String? = nil) async throws -> Response {
        let principal = context.principal!
        let status = try await services.secondFactors.status(principalID: principal.id)
        let model = AccountModel(
            email: principal.email, kind: kind, enrolledAt: status?.isEnrolled == true ? status?.enrolledAt : nil,
            recoveryCodesLeft: status?.recoveryCodesLeft ?? 0, isRequired: services.configuration.secondFactor.isRequired(for: kind))
        return try render(
            "account", "Your account", context, model, flash: request.uri.queryParameters.get("flash"), error: error,
            status: error == nil ? .ok : .unprocessableContent)
    }

    /// Set-up while signed in: for those the policy does not force (customers, staff where optional)
    /// and for anyone whose second factor an admin reset.
    func accountEnrolPage(_ kind: PrincipalKind, _ request: Request, _ context: AppRequestContext) async throws -> Response {
        let principal = context.principal!
        if try await services.secondFactors.status(principalID: principal.id)?.isEnrolled == true {
            return .redirect(to: "/\(kind.rawValue)/account")
        }
        return try await renderEnrol(principal, action: "/\(kind.rawValue)/account/second-factor", context, csrf: nil, error: nil)
    }

    func accountEnrol(_ kind: PrincipalKind, _ request: Request, _ context: AppRequestContext) async throws -> Response {
        let form = try await FormData.read(request, limit: 4096, expectedCSRF: context.sessionCSRF)
        let principal = context.principal!
        guard let codes = try await completeEnrolment(principal, typed: form.value("code") ?? "") else {
            return try await renderEnrol(
                principal, action: "/\(kind.rawValue)/account/second-factor", context, csrf: nil,
                error: "That code does not match the key. Check the app's clock and type the newest code.")
        }
        return try render("recovery_codes", "Recovery codes", context, RecoveryCodesModel(codes: codes, continuePath: "/\(kind.rawValue)/account"))
    }

    /// New recovery codes need a fresh code from the app, so a session left open is not enough.
    func newRecoveryCodes(_ kind: PrincipalKind, _ request: Request, _ context: AppRequestContext) async throws -> Response {
        let form = try await FormData.read(request, limit: 4096, expectedCSRF: context.sessionCSRF)
        let principal = context.principal!
        guard try await acceptsTOTP(form.value("code") ?? "", principalID: principal.id) else {
            return try await accountPage(kind, request, context, error: "That code is wrong or was already used; new recovery codes need a fresh code from the app.")
        }
        let codes = RecoveryCodes.make(from: Self.randomBytes(80))
        try await services.secondFactors.replaceRecoveryCodes(
            principalID: principal.id, hashes: codes.map(RecoveryCodes.hash), by: principal.email, at: services.now())
        return try render("recovery_codes", "Recovery codes", context, RecoveryCodesModel(codes: codes, continuePath: "/\(kind.rawValue)/account"))
    }
}
