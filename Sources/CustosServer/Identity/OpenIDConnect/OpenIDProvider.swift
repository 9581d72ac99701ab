import AsyncHTTPClient
import Crypto
import CustosDomain
import Foundation
import JWTKit
import NIOCore
import NIOHTTP1

/// Custos as an OpenID Connect relying party for staff sign-in (issue 28, part 4): the
/// authorization code flow with PKCE (OpenID Connect Core 1.0 §3.1, RFC 7636 S256), the
/// provider's metadata from discovery (OpenID Connect Discovery 1.0 §4), its signing keys from
/// its JWKS (jwt-kit verifies the JWS), and every ID-token check of Core §3.1.3.7 made here, each
/// with its own message: issuer, audience (and `azp`), expiry, issue time, nonce. Metadata and
/// keys are fetched on first use, not at start, so Custos starts while the provider is down; an
/// unknown key id fetches the JWKS again once (the provider rotated its keys).
public actor OpenIDProvider {
    public struct Settings: Sendable {
        public var issuer: String
        public var clientID: String
        public var clientSecret: String
        /// Where the provider sends the browser back: `<CUSTOS_PUBLIC_URL>/staff/login/oidc/callback`.
        public var redirectURI: String
        public var scopes: String
        /// Clock skew allowed on `exp` and `iat`.
        public var leeway: TimeInterval
        public var roles: IdentityProviderRoles
        /// Local staff passwords are off: staff sign in here only.
        public var only: Bool
        /// Where the provider sends the browser after its sign-out: `<CUSTOS_PUBLIC_URL>/staff/login`.
        public var postLogoutURI: String
    }

    /// The parts of the provider's metadata Custos uses.
    struct Metadata: Decodable, Sendable {
        var issuer: String
        var authorization_endpoint: String
        var token_endpoint: String
        var jwks_uri: String
        var userinfo_endpoint: String?
        var end_session_endpoint: String?
    }

    /// The standard claims checked; the role claim is read from the raw payload (its name is set by the mapping).
    struct IDTokenClaims: JWTPayload {
        var iss: String
        var sub: String
        var aud: AudienceClaim
        var exp: Double
        var iat: Double?
        var nonce: String?
        var azp: String?
        var email: String?
        var email_verified: Bool?
        var name: String?
        var amr: [String]?
        /// jwt-kit checks the signature; the claims are checked by `OpenIDProvider.check`, one message each.
        func verify(using algorithm: some JWTAlgorithm) async throws {}
    }

    /// Who the provider says signed in, after every check.
    public struct Identity: Sendable, Equatable {
        public var subject: String
        public var email: String?
        public var emailVerified: Bool?
        public var name: String?
        /// The values of the role mapping's claim.
        public var groups: [String]
        /// The provider reported a second factor (`amr`, RFC 8176: mfa, otp, hwk, swk, fpt…).
        public var multiFactor: Bool
    }

    public let settings: Settings
    let client: HTTPClient
    private var metadata: Metadata?
    private var keys: JWTKeyCollection?

    public init(settings: Settings, client: HTTPClient = .shared) {
        self.settings = settings
        self.client = client
    }

    // MARK: The flow

    /// The provider's metadata, fetched once; its `issuer` must be the one configured (Discovery §4.3).
    func discovered() async throws -> Metadata {
        if let metadata { return metadata }
        let url = (settings.issuer.hasSuffix("/") ? String(settings.issuer.dropLast()) : settings.issuer) + "/.well-known/openid-configuration"
        let body = try await get(url)
        let found: Metadata
        do {
            found = try JSONDecoder().decode(Metadata.self, from: body)
        } catch {
            throw OIDCRefusal("the identity provider's metadata at \(url) cannot be read: \(error)")
        }
        guard found.issuer == settings.issuer else {
            throw OIDCRefusal("the identity provider at \(url) calls itself \(found.issuer), not \(settings.issuer) (CUSTOS_OIDC_ISSUER)")
        }
        metadata = found
        return found
    }

    /// Where to send the browser to sign in.
    public func authorizationURL(state: String, nonce: String, codeVerifier: String) async throws -> String {
        let metadata = try await discovered()
        var components = URLComponents(string: metadata.authorization_endpoint)!
        components.queryItems = (components.queryItems ?? []) + [
            URLQueryItem(name: "response_type", value: "code"), URLQueryItem(name: "client_id", value: settings.clientID),
            URLQueryItem(name: "redirect_uri", value: settings.redirectURI), URLQueryItem(name: "scope", value: settings.scopes),
            URLQueryItem(name: "state", value: state), URLQueryItem(name: "nonce", value: nonce),
            URLQueryItem(name: "code_challenge", value: Self.codeChallenge(codeVerifier)), URLQueryItem(name: "code_challenge_method", value: "S256"),
        ]
        // `+` in a query is a space to some servers: encode it.
        components.percentEncodedQuery = components.percentEncodedQuery?.replacingOccurrences(of: "+", with: "%2B")
        return components.string!
    }

    /// RFC 7636 §4.2: BASE64URL(SHA256(verifier)).
    public static func codeChallenge(_ verifier: String) -> String {
        base64URL(Data(SHA256.hash(data: Data(verifier.utf8))))
    }

    static func base64URL(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    /// Trades the code for tokens at the token endpoint (client_secret_basic, RFC 6749 §2.3.1),
    /// checks the ID token and returns who signed in.
    public func signIn(code: String, codeVerifier: String, nonce: String, at time: Date) async throws -> Identity {
        let metadata = try await discovered()
        var request = HTTPClientRequest(url: metadata.token_endpoint)
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/x-www-form-urlencoded")
        request.headers.add(name: "accept", value: "application/json")
        let credentials = "\(Self.formEncode(settings.clientID)):\(Self.formEncode(settings.clientSecret))"
        request.headers.add(name: "authorization", value: "Basic " + Data(credentials.utf8).base64EncodedString())
        let form = [
            ("grant_type", "authorization_code"), ("code", code), ("redirect_uri", settings.redirectURI), ("code_verifier", codeVerifier),
            ("client_id", settings.clientID),
        ].map { "\($0.0)=\(Self.formEncode($0.1))" }.joined(separator: "&")
        request.body = .bytes(ByteBuffer(string: form))
        let (status, body) = try await send(request, what: "the token endpoint")
        let answer = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:]
        guard status == .ok, let idToken = answer["id_token"] as? String else {
            let error = [answer["error"] as? String, answer["error_description"] as? String].compactMap { $0 }.joined(separator: ": ")
            throw OIDCRefusal("the identity provider's token endpoint answered \(status.code)\(error.isEmpty ? "" : " (\(error))") and no ID token")
        }
        var identity = try await verify(idToken: idToken, nonce: nonce, at: time)
        // The role claim may be left out of the ID token and given at the userinfo endpoint (Core §5.3).
        if identity.groups.isEmpty, let userinfo = metadata.userinfo_endpoint, let accessToken = answer["access_token"] as? String {
            var info = HTTPClientRequest(url: userinfo)
            info.headers.add(name: "authorization", value: "Bearer \(accessToken)")
            let (infoStatus, infoBody) = try await send(info, what: "the userinfo endpoint")
            if infoStatus == .ok, let claims = (try? JSONSerialization.jsonObject(with: infoBody)) as? [String: Any], claims["sub"] as? String == identity.subject {
                identity.groups = IdentityProviderRoles.values(claims[settings.roles.claim])
            }
        }
        return identity
    }

    /// Checks an ID token (Core §3.1.3.7): signature by a key of the provider's JWKS, issuer,
    /// audience, expiry, issue time and nonce. Each failure says which.
    public func verify(idToken: String, nonce: String, at time: Date) async throws -> Identity {
        let claims: IDTokenClaims
        do {
            claims = try await keyCollection(refresh: false).verify(idToken, as: IDTokenClaims.self)
        } catch let error as JWTError where error.errorType == .missingKIDHeader || "\(error)".contains("kid") {
            // A key id not in the keys fetched: the provider rotated; fetch them again, once.
            do {
                claims = try await keyCollection(refresh: true).verify(idToken, as: IDTokenClaims.self)
            } catch {
                throw OIDCRefusal("the ID token's signature does not verify with the identity provider's keys: \(error)")
            }
        } catch {
            throw OIDCRefusal("the ID token's signature does not verify with the identity provider's keys: \(error)")
        }
        try check(claims, nonce: nonce, at: time)
        let payload = Self.payload(of: idToken)
        return Identity(
            subject: claims.sub, email: claims.email, emailVerified: claims.email_verified, name: claims.name,
            groups: IdentityProviderRoles.values(payload[settings.roles.claim]),
            multiFactor: !(Set(claims.amr ?? []).isDisjoint(with: ["mfa", "otp", "hwk", "swk", "fpt", "face", "iris", "sms"])))
    }

    func check(_ claims: IDTokenClaims, nonce: String, at time: Date) throws {
        guard claims.iss == settings.issuer else { throw OIDCRefusal("the ID token was issued by \(claims.iss), not \(settings.issuer)") }
        guard claims.aud.value.contains(settings.clientID) else {
            throw OIDCRefusal("the ID token is for \(claims.aud.value.joined(separator: ", ")), not for this installation (\(settings.clientID)): wrong audience")
        }
        if claims.aud.value.count > 1 || claims.azp != nil, claims.azp != settings.clientID {
            throw OIDCRefusal("the ID token was issued to \(claims.azp ?? "no authorized party"), not to \(settings.clientID)")
        }
        let now = time.timeIntervalSince1970
        guard claims.exp + settings.leeway > now else {
            throw OIDCRefusal("the ID token expired at \(Timestamp.format(Date(timeIntervalSince1970: claims.exp))) UTC")
        }
        if let iat = claims.iat, iat - settings.leeway > now {
            throw OIDCRefusal("the ID token says it was issued at \(Timestamp.format(Date(timeIntervalSince1970: iat))) UTC, in the future")
        }
        guard let said = claims.nonce, Self.sameSecret(said, nonce) else {
            throw OIDCRefusal("the ID token's nonce is not the one this sign-in sent (a replayed or foreign token)")
        }
    }

    /// Where the browser signs out at the provider too (RP-Initiated Logout 1.0), if it offers that.
    public func endSessionURL() async -> String? {
        guard let endpoint = (try? await discovered())?.end_session_endpoint, var components = URLComponents(string: endpoint) else { return nil }
        components.queryItems = (components.queryItems ?? []) + [
            URLQueryItem(name: "client_id", value: settings.clientID), URLQueryItem(name: "post_logout_redirect_uri", value: settings.postLogoutURI),
        ]
        return components.string
    }

    // MARK: Plumbing

    func keyCollection(refresh: Bool) async throws -> JWTKeyCollection {
        if let keys, !refresh { return keys }
        let metadata = try await discovered()
        let body = try await get(metadata.jwks_uri)
        let fresh = JWTKeyCollection()
        do {
            try await fresh.add(jwksJSON: String(decoding: body, as: UTF8.self))
        } catch {
            throw OIDCRefusal("the identity provider's keys at \(metadata.jwks_uri) cannot be read: \(error)")
        }
        keys = fresh
        return fresh
    }

    func get(_ url: String) async throws -> Data {
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "accept", value: "application/json")
        let (status, body) = try await send(request, what: url)
        guard status == .ok else { throw OIDCRefusal("the identity provider answered \(status.code) at \(url)") }
        return body
    }

    func send(_ request: HTTPClientRequest, what: String) async throws -> (HTTPResponseStatus, Data) {
        do {
            let response = try await client.execute(request, timeout: .seconds(10))
            let body = try await response.body.collect(upTo: 1 << 20)
            return (response.status, Data(buffer: body))
        } catch let refusal as OIDCRefusal {
            throw refusal
        } catch {
            throw OIDCRefusal("the identity provider does not answer at \(what): \(error)")
        }
    }

    /// The JSON payload of a JWS already verified, for the claim the role mapping names.
    static func payload(of token: String) -> [String: Any] {
        let parts = token.split(separator: ".")
        guard parts.count == 3 else { return [:] }
        var text = parts[1].replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while text.count % 4 != 0 { text += "=" }
        guard let data = Data(base64Encoded: text) else { return [:] }
        return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
    }

    /// application/x-www-form-urlencoded, as RFC 6749 §2.3.1 wants for the client's credentials too.
    static func formEncode(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }

    static func sameSecret(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        return zip(x, y).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }
}

/// Why a sign-in through the identity provider did not happen; the message is shown and audited.
public struct OIDCRefusal: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
