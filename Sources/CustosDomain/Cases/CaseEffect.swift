import Foundation

/// A message to the requesting agency, delivered from the transactional outbox.
public struct AgencyMessage: Codable, Equatable, Sendable {
    public var agencyID: UUID
    public var caseID: UUID
    public var subject: String
    public var body: String

    public init(agencyID: UUID, caseID: UUID, subject: String, body: String) {
        self.agencyID = agencyID
        self.caseID = caseID
        self.subject = subject
        self.body = body
    }
}

/// What an accepted event asks storage to persist in the same transaction as the new case state.
public enum CaseEffect: Equatable, Sendable {
    case audit(AuditRecord)
    case notifyAgency(AgencyMessage)
    /// C5: the case was accepted for handling; plan its customer notice (storage adds the recipients).
    case planCustomerNotice(Case)
    /// E9: the emergency is over; notices held for it may go out.
    case emergencyEnded(caseID: UUID)
    /// C3: the package was released; open the requester's expiring download in the same transaction.
    case openPackageLink(caseID: UUID, agencyID: UUID)
    /// Collection started (production) or a preservation began: queue the package build in the
    /// same transaction, so a crash never loses it.
    case buildPackage(caseID: UUID, purpose: PackagePurpose, requestedBy: String)
}

/// Why the workflow turned an event down. Every refusal carries a reason a person can act on.
public struct WorkflowRefusal: Error, Equatable, Sendable {
    public enum Code: String, Codable, Sendable {
        /// `closed` accepts no event.
        case caseClosed = "case_closed"
        /// The actor's role does not allow this event.
        case notPermitted = "not_permitted"
        /// The event does not apply in the case's current state.
        case wrongState = "wrong_state"
        /// A guard (two-person rule, C9 keys, C4 redirect, missing reason …) failed.
        case guardFailed = "guard_failed"
    }

    public var code: Code
    public var reason: String

    public init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }
}
