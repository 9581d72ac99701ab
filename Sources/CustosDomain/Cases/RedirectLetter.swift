import Foundation

/// A tenant's designated legal contact, the one piece of customer data a redirect discloses (C7).
public struct LegalContact: Codable, Equatable, Hashable, Sendable {
    public var name: String
    public var email: String

    public init(name: String, email: String) {
        self.name = name
        self.email = email
    }
}

/// The letter that sends a requester to an enterprise customer first (C4), naming the customer's
/// legal contact (disclosed as category `customer_contact`, C7).
public enum RedirectLetter {
    /// How long the requester has to answer (approach the customer, insist, or withdraw).
    public static let answerPeriod: TimeInterval = 10 * 86_400

    public static func text(for subject: Case, contacts: [LegalContact], answerDueAt: Date, note: String?) -> String {
        var lines = [
            "Re: your demand, our case \(subject.number)",
            "",
            "The data you asked for is held on behalf of an enterprise customer, \(subject.customer?.tenantName ?? "our customer"), which can answer for itself.",
            "Our policy is to ask requesters to seek such data from the customer first. Its designated legal contact is:",
            "",
        ]
        lines += contacts.map { "  \($0.name) <\($0.email)>" }
        lines += [
            "",
            "Please tell us by \(Timestamp.format(answerDueAt)) whether you will approach the customer, insist on production by us (with your reasons), or withdraw the demand.",
            "Until then we preserve the data named in your demand and disclose nothing else.",
        ]
        if let note, !note.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { lines += ["", note] }
        return lines.joined(separator: "\n")
    }
}
