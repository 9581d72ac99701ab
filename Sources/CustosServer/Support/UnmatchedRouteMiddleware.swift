import Hummingbird
import HTTPTypes
import Synchronization

/// What the router answers when no route matches: a path it serves with other methods gets
/// 405 with `Allow` (RFC 9110 § 15.5.6), any other path 404 — both as problem bodies, where the
/// router alone would answer an empty 404. Hummingbird has no 405 of its own, so the route table (`SecuredRouter.policies`) is matched
/// here, after every route is added.
final class KnownRoutes: Sendable {
    private let patterns = Mutex<[(method: String, segments: [Substring])]>([])

    /// Takes the route table once routing is complete (`buildRouter`).
    func record(_ policyKeys: some Sequence<String>) {
        let parsed = policyKeys.compactMap { key -> (String, [Substring])? in
            let parts = key.split(separator: " ", maxSplits: 1)
            guard parts.count == 2 else { return nil }
            return (String(parts[0]), parts[1].split(separator: "/"))
        }
        patterns.withLock { $0 = parsed }
    }

    /// The methods routed for `path`, sorted; empty when the path is unknown.
    func methods(for path: String) -> [String] {
        let segments = path.split(separator: "/")
        let found = patterns.withLock { table in
            table.filter { Self.matches($0.segments, segments) }.map(\.method)
        }
        return Set(found).sorted()
    }

    /// A route pattern (as `RouterPath` prints it) against a path: `{name}` (or `{name}.ext`, the
    /// literal ending then must match), `:name` and `*` take one segment, `**` the rest.
    static func matches(_ pattern: [Substring], _ segments: [Substring]) -> Bool {
        for (index, part) in pattern.enumerated() {
            if part == "**" { return true }
            guard index < segments.count else { return false }
            let segment = segments[index]
            if part.hasPrefix("{"), let close = part.firstIndex(of: "}") {
                guard segment.hasSuffix(part[part.index(after: close)...]) else { return false }
            } else if !(part.hasPrefix(":") || part == "*" || part == segment) {
                return false
            }
        }
        return pattern.count == segments.count
    }
}

struct UnmatchedRouteMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let routes: KnownRoutes

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            let allowed = routes.methods(for: request.uri.path)
            guard !allowed.isEmpty else { throw Problem(.notFound, detail: "nothing is served at \(request.uri.path)") }
            throw Problem(
                .methodNotAllowed, detail: "\(request.method.rawValue) is not allowed here; allowed: \(allowed.joined(separator: ", "))",
                extraHeaders: ["Allow": allowed.joined(separator: ", ")])
        }
    }
}
