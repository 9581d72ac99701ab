import Foundation
/// The categories of customer data a demand can ask for, from least to most intrusive.
public enum DataCategory: String, Codable, CaseIterable, Sendable, Comparable {
    /// C7: basic contact details of the customer, disclosable on a redirect or minimal process.
    case customerContact = "customer_contact"
    /// Name, address, billing and account identifiers (18 U.S.C. § 2703(c)(2) "basic subscriber information").
    case subscriberInfo = "subscriber_info"
    /// Records and metadata other than content (traffic, logs, connection records).
    case nonContent = "non_content"
    /// Stored communications and files.
    case content
    /// Platform key material. C9: never releasable, whatever any rule, role or override says.
    case encryptionKeys = "encryption_keys"

    public static func < (lhs: DataCategory, rhs: DataCategory) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }

    public var label: String {
        switch self {
        case .customerContact: "Customer contact information"
        case .subscriberInfo: "Subscriber information"
        case .nonContent: "Non-content records"
        case .content: "Content"
        case .encryptionKeys: "Encryption keys"
        }
    }
}
