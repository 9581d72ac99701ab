import CustosDomain
import Hummingbird

/// Per-request state: who is signed in and how (bearer token or cookie session).
public struct AppRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public var principal: Principal?
    /// The session's CSRF token when the request came with a session cookie.
    public var sessionCSRF: String?
    public var sessionCookie: String?
    /// How the principal signed in: a token, or a session with or without a second factor.
    public var credential: SubmissionCredential?
    /// The peer's address, for download logs.
    public var remoteAddress: String?

    public init(source: Source) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress?.ipAddress
    }

    /// Bodies are read explicitly with the configured limit (`AppConfiguration.maxRequestBytes`).
    public var maxUploadSize: Int { Int.max }
}
