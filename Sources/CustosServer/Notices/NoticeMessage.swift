import CustosDomain
import Foundation

/// What a customer is told (C5): what was demanded, by whom, how to answer, and a copy of the
/// demand. Every channel sends this one message: the webhook as JSON, email as text with attachments.
public struct NoticeMessage: Encodable, Sendable {
    public struct DemandFacts: Encodable, Sendable {
        public var instrument: String
        public var jurisdiction: String
        public var issuingAuthority: String
        public var caseReference: String
        public var receivedAt: Date
        public var categories: [String]
    }

    /// A copy of one demand document; JSON carries the bytes as `base64`.
    public struct Copy: Encodable, Sendable {
        public var filename: String
        public var mediaType: String
        public var sha256: String
        public var bytes: Data

        enum CodingKeys: String, CodingKey {
            case filename, mediaType, sha256
            case bytes = "base64"
        }
    }

    public var type = "customer_notice"
    /// Stable across retries and channels; email carries it as the `Message-ID`.
    public var deliveryId: String
    public var noticeId: UUID
    public var caseNumber: String
    public var tenant: String?
    public var recipients: [String]
    public var message: String
    /// Where the customer reads the demand and answers (consent, object, answer directly).
    public var portalURL: String
    public var answerBy: Date?
    public var demand: DemandFacts
    public var documents: [Copy]

    /// The email subject: names the case, never the customer's data.
    public var subject: String { "Legal demand concerning your account: case \(caseNumber)" }

    /// The plain-text body of the email.
    public var text: String {
        var lines = [
            "Hello,",
            "",
            message,
            "",
            "Demand",
            "  Case:              \(caseNumber)",
            "  Instrument:        \(demand.instrument)",
            "  Jurisdiction:      \(demand.jurisdiction)",
            "  Issued by:         \(demand.issuingAuthority)",
            "  Their reference:   \(demand.caseReference)",
            "  Received:          \(Timestamp.format(demand.receivedAt))",
            "  Data asked for:    \(demand.categories.joined(separator: ", "))",
        ]
        if let answerBy { lines.append("  Please answer by: \(Timestamp.format(answerBy))") }
        lines += [
            "",
            "A copy of the demand is attached (\(documents.count) document\(documents.count == 1 ? "" : "s"); SHA-256 of each below).",
        ]
        lines += documents.map { "  \($0.filename)  \($0.sha256)" }
        lines += [
            "",
            "Read the demand and answer in the customer portal: \(portalURL)",
            "There you can consent, object (with your reasons and documents), or tell us you will answer the requester directly.",
            "",
            "Notice id: \(deliveryId)",
        ]
        return lines.joined(separator: "\n")
    }
}
