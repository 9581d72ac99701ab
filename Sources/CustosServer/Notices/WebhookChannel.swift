import AsyncHTTPClient
import Crypto
import CustosDomain
import Foundation
import NIOCore

/// One delivery: a stable id (the same on every retry and on every channel) and the message.
public struct NoticeDelivery: Sendable {
    public var id: String
    public var message: NoticeMessage

    public init(message: NoticeMessage) {
        self.id = message.deliveryId
        self.message = message
    }
}

/// Where notices go. A channel throws when the receiver did not accept the delivery; it returns
/// a short receipt (what the receiver answered) that the notice's history keeps.
public protocol NoticeChannel: Sendable {
    /// Names the channel in the notice's history and keeps a channel that delivered from repeating.
    var name: String { get }
    /// Whether this channel can carry this notice at all (email needs a recipient address).
    func carries(_ delivery: NoticeDelivery) -> Bool
    func deliver(_ delivery: NoticeDelivery, at time: Date) async throws -> String
}

extension NoticeChannel {
    public func carries(_ delivery: NoticeDelivery) -> Bool { true }
}

public struct DeliveryError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Webhooks signed per the Standard Webhooks scheme: `webhook-id`, `webhook-timestamp` (Unix
/// seconds) and `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`. The id is
/// the notice's delivery id, so a receiver that saw it before can drop a repeat.
public struct WebhookChannel: NoticeChannel {
    /// `webhook` for the provider's own endpoint, `tenant_webhook` for a tenant's.
    public let name: String
    public let url: String
    let key: SymmetricKey
    let timeout: TimeAmount

    /// - Parameter secret: `whsec_<base64>` as Standard Webhooks issues them, or any other text used as is.
    public init(url: String, secret: String, name: String = "webhook", timeout: TimeAmount = .seconds(10)) {
        self.name = name
        self.url = url
        self.key = SymmetricKey(data: Self.keyBytes(secret))
        self.timeout = timeout
    }

    /// A new `whsec_` secret: 32 random bytes, base64, as Standard Webhooks issues them.
    public static func newSecret() -> String {
        "whsec_" + SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }.base64EncodedString()
    }

    static func keyBytes(_ secret: String) -> Data {
        if secret.hasPrefix("whsec_"), let decoded = Data(base64Encoded: String(secret.dropFirst(6))) { return decoded }
        return Data(secret.utf8)
    }

    /// The `webhook-signature` value for a message.
    public static func signature(id: String, timestamp: Int, body: Data, secret: String) -> String {
        signature(id: id, timestamp: timestamp, body: body, key: SymmetricKey(data: keyBytes(secret)))
    }

    static func signature(id: String, timestamp: Int, body: Data, key: SymmetricKey) -> String {
        var signed = Data("\(id).\(timestamp).".utf8)
        signed.append(body)
        return "v1," + Data(HMAC<SHA256>.authenticationCode(for: signed, using: key)).base64EncodedString()
    }

    public func deliver(_ delivery: NoticeDelivery, at time: Date) async throws -> String {
        let body = try CustosJSON.makeEncoder().encode(delivery.message)
        let timestamp = Int(time.timeIntervalSince1970)
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/json")
        request.headers.add(name: "webhook-id", value: delivery.id)
        request.headers.add(name: "webhook-timestamp", value: String(timestamp))
        request.headers.add(name: "webhook-signature", value: Self.signature(id: delivery.id, timestamp: timestamp, body: body, key: key))
        request.body = .bytes(ByteBuffer(data: body))
        let response = try await HTTPClient.shared.execute(request, timeout: timeout)
        guard (200..<300).contains(response.status.code) else {
            throw DeliveryError("webhook \(url) answered HTTP \(response.status.code)")
        }
        return "HTTP \(response.status.code) from \(url)"
    }
}
