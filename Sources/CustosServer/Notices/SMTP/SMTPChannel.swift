import Foundation

/// Customer notices by email to the tenant's notice contacts (consumers: the account's address),
/// sent through the provider's SMTP relay with the demand attached.
public struct SMTPChannel: NoticeChannel {
    public let name = "email"
    let client: SMTPClient

    public init(settings: SMTPSettings) throws {
        client = try SMTPClient(settings: settings)
    }

    public func carries(_ delivery: NoticeDelivery) -> Bool { !delivery.message.recipients.isEmpty }

    public func deliver(_ delivery: NoticeDelivery, at time: Date) async throws -> String {
        let message = try NoticeEmail.compose(delivery.message, from: client.settings.from, at: time)
        let reply = try await client.send(message, from: client.settings.from, to: delivery.message.recipients)
        return "to \(delivery.message.recipients.joined(separator: ", ")): \(reply)"
    }
}
