import Foundation

/// The categories of customer data a demand can ask for, from least to most intrusive.
///
/// The split follows the lines the law draws (legal-rules.md §1.2, §2.2, §5): a subpoena reaches
/// basic subscriber information but not other records; location over seven days needs a warrant
/// (Carpenter); EU identification data (IP + time) may be ordered by a prosecutor while traffic
/// data may not; German access codes need a court. The transparency report folds them into
/// content and non-content (`isContent`).
public enum DataCategory: String, Codable, CaseIterable, Sendable, Comparable {
    /// C7: basic contact details of the customer, disclosable on a redirect or minimal process.
    case customerContact = "customer_contact"
    /// Name, address, billing and account identifiers (18 U.S.C. § 2703(c)(2) "basic subscriber
    /// information"; Reg. (EU) 2023/1543 Art. 3(9) subscriber data; StPO § 100j Bestandsdaten).
    case subscriberInfo = "subscriber_info"
    /// An IP address and time requested only to identify the user (Reg. (EU) 2023/1543 Art. 3(10);
    /// in the US a "temporarily assigned network address", § 2703(c)(2)(E)).
    case identificationData = "identification_data"
    /// Domain registration data (Budapest Second Protocol Art. 6).
    case domainRegistration = "domain_registration"
    /// Records and metadata other than content: traffic data, logs, headers, connection records.
    case nonContent = "non_content"
    /// Location history, including cell-site location (Carpenter v. United States, 2018).
    case locationHistory = "location_history"
    /// Passwords, PINs and other access-protection data (StPO § 100j(1) S. 2; excluded from EU subscriber data).
    case accessCredentials = "access_credentials"
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
        case .identificationData: "Identification data (IP and time)"
        case .domainRegistration: "Domain registration data"
        case .nonContent: "Non-content records"
        case .locationHistory: "Location history"
        case .accessCredentials: "Access credentials"
        case .content: "Content"
        case .encryptionKeys: "Encryption keys"
        }
    }

    /// How the transparency report counts a disclosure of this category (C1).
    public var isContent: Bool { self == .content }
}
