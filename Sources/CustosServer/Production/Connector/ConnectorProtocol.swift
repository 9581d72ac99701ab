import Crypto
import CustosDomain
import Foundation

/// The collection connector protocol (`/openapi.yaml`, tag `connector`): how Custos asks a
/// provider's own systems for the records of one approved scope.
///
/// Custos `POST`s a `CollectionRequest` to `CUSTOS_CONNECTOR_URL`, signed with its package signing
/// key (Ed25519, public at `/.well-known/custos/signing-key.pem`): the `Custos-Signature` header
/// is the base64 signature over `custos-collect/1\n` followed by the exact body bytes (the prefix
/// keeps a collection request from ever passing for a signed manifest). The connector answers
/// `application/x-ndjson`, one `ConnectorRecord` per line, with the bytes inline (`data`, base64)
/// or as a `blob` on the connector's own origin that Custos fetches with a signed `GET`.
/// Whatever comes back is checked against the plan again; a connector cannot widen a package.
public enum ConnectorProtocol {
    public static let format = "custos-collect/1"
    public static let signatureHeader = "Custos-Signature"
    public static let keyIDHeader = "Custos-Key-Id"
    public static let requestIDHeader = "Custos-Request-Id"
    /// How long a signed collection request is valid; connectors refuse older ones.
    public static let validity: TimeInterval = 300

    /// The scope Custos asks for.
    public struct CollectionRequest: Codable, Equatable, Sendable {
        public var format: String
        public var requestId: UUID
        public var caseId: UUID
        public var caseNumber: String
        public var purpose: PackagePurpose
        public var accounts: [String]
        public var categories: [DataCategory]
        public var window: DateWindow?
        public var issuedAt: Date
        public var expiresAt: Date

        public init(plan: CollectionPlan, purpose: PackagePurpose, requestId: UUID, at time: Date) {
            format = ConnectorProtocol.format
            self.requestId = requestId
            caseId = plan.caseID
            caseNumber = plan.caseNumber
            self.purpose = purpose
            accounts = plan.accounts
            categories = plan.categories
            window = plan.window
            issuedAt = time
            expiresAt = time.addingTimeInterval(ConnectorProtocol.validity)
        }
    }

    /// One line of the connector's answer.
    public struct ConnectorRecord: Codable, Equatable, Sendable {
        public struct Blob: Codable, Equatable, Sendable {
            /// An absolute URL on the connector's origin.
            public var url: String
            /// Lower-case hex SHA-256 of the bytes; checked when given.
            public var sha256: String?
            public var size: Int?

            public init(url: String, sha256: String?, size: Int?) {
                self.url = url
                self.sha256 = sha256
                self.size = size
            }
        }

        public var account: String
        public var category: String
        public var timestamp: Date
        public var mediaType: String
        /// The connector's own id for the record (kept in the manifest).
        public var id: String?
        /// The bytes, base64; or
        public var data: String?
        /// a reference to fetch them from.
        public var blob: Blob?

        public init(account: String, category: String, timestamp: Date, mediaType: String, id: String?, data: String?, blob: Blob?) {
            self.account = account
            self.category = category
            self.timestamp = timestamp
            self.mediaType = mediaType
            self.id = id
            self.data = data
            self.blob = blob
        }
    }

    /// The bytes the collection request's signature covers.
    public static func signedBytes(ofRequestBody body: Data) -> Data {
        Data("\(format)\n".utf8) + body
    }

    /// The bytes a blob fetch's signature covers: the request id and the exact URL.
    public static func signedBytes(ofBlob url: String, requestID: UUID) -> Data {
        Data("custos-blob/1\n\(requestID.uuidString.lowercased())\n\(url)".utf8)
    }

    /// Checks a signature made by `ConnectorSource` (what a connector does on every request).
    public static func isValid(signature: String, over bytes: Data, key: Curve25519.Signing.PublicKey) -> Bool {
        guard let raw = Data(base64Encoded: signature) else { return false }
        return key.isValidSignature(raw, for: bytes)
    }
}

public struct ConnectorError: Error, CustomStringConvertible, Equatable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
