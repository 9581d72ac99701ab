import Foundation
/// The provider's internal roles. A role allows; absence denies (deny by default).
public enum StaffRole: String, Codable, CaseIterable, Sendable, Comparable {
    /// Registers and verifies incoming demands.
    case intake
    /// Weighs the legal assessment, asks the agency, redirects, rejects, challenges.
    case reviewer
    /// Approves disclosure scope and release; two different approvers are always needed.
    case approver
    /// Runs collection against customer data and hands over packages.
    case custodian
    /// Reads everything, changes nothing.
    case auditor
    /// Manages users and configuration; has no say over cases.
    case admin

    public static func < (lhs: StaffRole, rhs: StaffRole) -> Bool { lhs.rawValue < rhs.rawValue }
}
