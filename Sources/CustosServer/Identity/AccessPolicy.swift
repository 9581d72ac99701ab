import HTTPTypes
import CustosDomain
import Hummingbird

/// What a route demands of the caller. Every route declares one (see `SecuredRouter`); there is no
/// default, so a route cannot be reachable by accident.
public enum AccessPolicy: Equatable, Sendable, CustomStringConvertible {
    /// Anyone, signed in or not (health, login pages, the API description).
    case open
    /// Staff holding at least one of these roles; an empty set means any staff role.
    case staff(Set<StaffRole>)
    /// A user of a requesting agency (confined to its own agency's objects by the handler).
    case agency
    /// A user of a customer tenant (confined to its own tenant by the handler).
    case customer

    public var description: String {
        switch self {
        case .open: "open"
        case .staff(let roles): roles.isEmpty ? "staff" : "staff(\(roles.sorted().map(\.rawValue).joined(separator: ",")))"
        case .agency: "agency"
        case .customer: "customer"
        }
    }

    /// Whether `principal` satisfies the policy.
    public func allows(_ principal: Principal?) -> Bool {
        switch self {
        case .open: return true
        case .staff(let roles):
            guard let principal, principal.kind == .staff, !principal.roles.isEmpty else { return false }
            return roles.isEmpty || !principal.roles.isDisjoint(with: roles)
        case .agency: return principal?.kind == .agency && principal?.agencyID != nil
        case .customer: return principal?.kind == .customer && principal?.tenantID != nil
        }
    }

    /// Where a browser without a session is sent to sign in.
    var loginPath: String {
        switch self {
        case .agency: "/agency/login"
        case .customer: "/customer/login"
        default: "/staff/login"
        }
    }
}

/// JSON routes answer problems; page routes redirect to login and render error pages.
public enum RouteStyle: Sendable {
    case api
    case page
}

/// A Hummingbird router that refuses to register a route without an access policy and keeps a
/// table of every route's policy, which a test compares with the router's own route list.
public struct SecuredRouter {
    public let router: Router<AppRequestContext>
    public private(set) var policies: [String: AccessPolicy] = [:]

    public init(router: Router<AppRequestContext>) { self.router = router }

    public static func key(_ method: HTTPRequest.Method, _ path: String) -> String { "\(method.rawValue) \(path)" }

    public mutating func on(
        _ method: HTTPRequest.Method, _ path: String, _ policy: AccessPolicy, _ style: RouteStyle,
        use handler: @escaping @Sendable (Request, AppRequestContext) async throws -> Response
    ) {
        policies[Self.key(method, RouterPath(path).description)] = policy
        router.on(RouterPath(path), method: method) { request, context in
            guard policy.allows(context.principal) else {
                if context.principal == nil {
                    if style == .page {
                        return Response.redirect(to: policy.loginPath + "?next=" + (request.uri.path.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""))
                    }
                    throw Problem(.unauthorized, detail: "sign in or send an API token (Authorization: Bearer …)", extraHeaders: ["WWW-Authenticate": "Bearer"])
                }
                throw Problem(.forbidden, detail: "your account may not use \(method.rawValue) \(path) (requires \(policy))")
            }
            // A cookie-authenticated API write must carry the session's CSRF token in a header;
            // page forms are checked when their body is read (`FormReader`).
            if style == .api, method != .get, method != .head, context.sessionCSRF != nil,
                request.headers[HTTPField.Name("X-CSRF-Token")!] != context.sessionCSRF
            {
                throw Problem(.forbidden, detail: "missing or wrong X-CSRF-Token header for a session-authenticated request")
            }
            return try await handler(request, context)
        }
    }
}
