import Foundation

/// Why a package of customer records is assembled. Both kinds go through the same collection plan
/// and scope check; only a production can ever reach a requester.
public enum PackagePurpose: String, Codable, CaseIterable, Sendable {
    /// The approved disclosure, released through an expiring link (C2, C3).
    case production
    /// A frozen snapshot for a preservation demand: kept, never disclosed, deleted at expiry
    /// (18 U.S.C. § 2703(f); Reg. (EU) 2023/1543 Art. 11).
    case preservation

    /// The case state in which a package of this purpose is built (and may be built again).
    public var buildState: CaseState {
        switch self {
        case .production: .collecting
        case .preservation: .preserving
        }
    }

    /// The event that queues the build.
    public var startingEvent: CaseEvent.Kind {
        switch self {
        case .production: .startCollection
        case .preservation: .beginPreservation
        }
    }
}

/// Inputs of the workflow that a provider configures (the workflow itself reads no settings).
public struct WorkflowPolicy: Equatable, Sendable {
    /// E8: how long after an emergency release the follow-up legal process is due, when no rule
    /// sets a date (Reg. (EU) 2023/1543 Art. 4(5) does for unvalidated emergency EPOCs: 48 hours).
    public var emergencyFollowUp: TimeInterval

    public init(emergencyFollowUp: TimeInterval = 30 * 86_400) {
        self.emergencyFollowUp = emergencyFollowUp
    }

    public static let standard = WorkflowPolicy()

    /// The checks an emergency release needs on top of the two approvals and a confirmed
    /// directory callback (`record_callback`, legal-rules.md §6.3 E2): the supervisor's
    /// confirmation of the emergency, a `record_check` whose latest result passed.
    public static let emergencyReleaseChecks = ["supervisor_confirmation"]

    /// What an emergency may disclose without escalation (legal-rules.md §6.3 E6: data relating to
    /// the emergency, usually subscriber information, recent IP addresses and location).
    public static let emergencyDefaultScope: [DataCategory] = [.subscriberInfo, .identificationData, .locationHistory]
    /// The check legal on-call records to allow more than that in one emergency (E6, E7).
    public static let emergencyScopeEscalation = "emergency_scope_escalation"
}
