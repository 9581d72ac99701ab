import HTTPTypes
import CustosDomain
import CustosStorage
import Foundation
import Hummingbird

/// Finds out who is calling: a bearer API token (stored hashed) or a session cookie (stored
/// hashed, expiring). An unknown or revoked token is refused outright; no credentials means anonymous.
struct AuthenticationMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    static let sessionCookie = "custos_session"

    let identity: SQLIdentityRepository
    let now: @Sendable () -> Date

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        // The metrics scraper's bearer token is no API token: `/metrics` checks it itself.
        if request.uri.path == MetricsRoutes.path { return try await next(request, context) }
        if let authorization = request.headers[.authorization] {
            guard authorization.lowercased().hasPrefix("bearer ") else {
                throw Problem(.unauthorized, detail: "only Bearer tokens are accepted", extraHeaders: ["WWW-Authenticate": "Bearer"])
            }
            let token = String(authorization.dropFirst(7)).trimmingCharacters(in: .whitespaces)
            guard let principal = try await identity.principal(forToken: token) else {
                throw Problem(.unauthorized, detail: "the API token is unknown or revoked", extraHeaders: ["WWW-Authenticate": "Bearer"])
            }
            context.principal = principal
            context.credential = .apiToken
        } else if let cookie = request.cookies[Self.sessionCookie]?.value,
            let session = try await identity.session(cookie: cookie, at: now())
        {
            context.principal = session.principal
            context.sessionCSRF = session.csrfToken
            context.sessionCookie = cookie
            context.credential = session.secondFactor ? .secondFactor : .passwordOnly
        }
        return try await next(request, context)
    }
}

/// Security headers on every response; no external assets are ever loaded, no script runs, no
/// page may be framed, and behind TLS (an https public URL) browsers are told to stay on it.
struct SecurityHeadersMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    /// Set when the server is reached over TLS (issue 10: HSTS when TLS is on).
    var strictTransport = false

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as any HTTPResponseError {
            // Problems (4xx and 5xx) carry the same headers as pages: they are rendered here, not later.
            response = try error.response(from: request, context: context)
        }
        response.headers[HTTPField.Name("Content-Security-Policy")!] = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; frame-ancestors 'none'"
        response.headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        response.headers[HTTPField.Name("X-Frame-Options")!] = "DENY"
        response.headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        if strictTransport { response.headers[HTTPField.Name("Strict-Transport-Security")!] = "max-age=31536000; includeSubDomains" }
        return response
    }
}
