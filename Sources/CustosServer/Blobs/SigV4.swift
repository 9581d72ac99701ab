import Crypto
import CustosDomain
import Foundation

/// AWS Signature Version 4 for S3 requests in the Authorization header ("Authenticating Requests:
/// Using the Authorization Header", Amazon S3 API reference; checked against that page's example
/// signatures in `S3BlobStoreTests`). Written by hand: no package available here (Soto is not
/// among them) signs S3 requests, and it is a few HMACs over a canonical form.
public struct SigV4: Sendable {
    public var accessKeyID: String
    public var secretAccessKey: String
    public var region: String
    public var sessionToken: String?
    public var service = "s3"

    public init(accessKeyID: String, secretAccessKey: String, region: String, sessionToken: String? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.region = region
        self.sessionToken = sessionToken
    }

    /// The SHA-256 of an empty body, and the marker for a body not hashed (sent over TLS, or to a local store).
    public static let emptyPayload = Hex.encode(SHA256.hash(data: Data()))
    public static let unsignedPayload = "UNSIGNED-PAYLOAD"

    /// The headers to send with a request: `headers` plus `host`, `x-amz-date`,
    /// `x-amz-content-sha256` (and `x-amz-security-token`) and `authorization`.
    /// - Parameters:
    ///   - path: the URI path as sent, already percent-encoded (`S3BlobStore.encodePath`).
    ///   - query: the query's names and values, not encoded.
    public func sign(
        method: String, host: String, path: String, query: [(String, String)] = [], headers: [String: String] = [:],
        payloadHash: String, at time: Date
    ) -> [String: String] {
        let stamp = Self.stamp(time)
        let day = String(stamp.prefix(8))
        var all = [String: String]()
        for (name, value) in headers { all[name.lowercased()] = value.trimmingCharacters(in: .whitespaces) }
        all["host"] = host
        all["x-amz-date"] = stamp
        all["x-amz-content-sha256"] = payloadHash
        if let sessionToken { all["x-amz-security-token"] = sessionToken }
        let names = all.keys.sorted()
        let canonicalQuery = query.map { (Self.encode($0.0), Self.encode($0.1)) }.sorted { $0 < $1 }.map { "\($0.0)=\($0.1)" }.joined(separator: "&")
        let canonical = [
            method, path, canonicalQuery, names.map { "\($0):\(all[$0]!)\n" }.joined(), names.joined(separator: ";"), payloadHash,
        ].joined(separator: "\n")
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let toSign = ["AWS4-HMAC-SHA256", stamp, scope, Hex.encode(SHA256.hash(data: Data(canonical.utf8)))].joined(separator: "\n")
        var key = SymmetricKey(data: Data("AWS4\(secretAccessKey)".utf8))
        for part in [day, region, service, "aws4_request"] {
            key = SymmetricKey(data: Data(HMAC<SHA256>.authenticationCode(for: Data(part.utf8), using: key)))
        }
        let signature = Hex.encode(HMAC<SHA256>.authenticationCode(for: Data(toSign.utf8), using: key))
        all["authorization"] = "AWS4-HMAC-SHA256 Credential=\(accessKeyID)/\(scope), SignedHeaders=\(names.joined(separator: ";")), Signature=\(signature)"
        return all
    }

    /// `yyyyMMdd'T'HHmmss'Z'` in UTC.
    static func stamp(_ time: Date) -> String {
        let parts = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: time)
        return String(format: "%04d%02d%02dT%02d%02d%02dZ", parts.year!, parts.month!, parts.day!, parts.hour!, parts.minute!, parts.second!)
    }

    /// RFC 3986 percent-encoding of everything but the unreserved characters, as SigV4 wants.
    public static func encode(_ text: String, keepingSlash: Bool = false) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.append(Character(UnicodeScalar(byte)))
            case UInt8(ascii: "/") where keepingSlash:
                out.append("/")
            default:
                out.append(String(format: "%%%02X", byte))
            }
        }
        return out
    }
}
