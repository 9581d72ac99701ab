import Foundation

/// What happened, to what, by whom, when — before storage gives it a place in the chain.
public struct AuditRecord: Codable, Equatable, Sendable {
    /// `accepted` for a change that happened, `refused` for an attempt the rules turned down,
    /// `read` for access to customer data or demand documents.
    public enum Outcome: String, Codable, Sendable {
        case accepted
        case refused
        case read
    }

    public var caseID: UUID?
    /// What the entry is about, e.g. `case:<uuid>`, `demand:<uuid>`, `principal:<uuid>`.
    public var subject: String
    /// Dotted action name, e.g. `case.approve_scope`, `demand.received`, `document.downloaded`.
    public var action: String
    public var outcome: Outcome
    public var actor: String
    public var at: Date
    public var details: [String: String]

    public init(
        caseID: UUID?, subject: String, action: String, outcome: Outcome = .accepted, actor: String, at: Date,
        details: [String: String] = [:]
    ) {
        self.caseID = caseID
        self.subject = subject
        self.action = action
        self.outcome = outcome
        self.actor = actor
        self.at = at
        self.details = details
    }
}

/// An audit record in its place in the append-only, hash-chained trail.
public struct AuditEntry: Codable, Equatable, Sendable {
    public var sequence: Int
    public var record: AuditRecord
    /// Hex SHA-256 of the previous entry (64 zeros for the first).
    public var previousHash: String
    /// Hex SHA-256 of this entry's canonical bytes.
    public var hash: String

    public init(sequence: Int, record: AuditRecord, previousHash: String, hash: String) {
        self.sequence = sequence
        self.record = record
        self.previousHash = previousHash
        self.hash = hash
    }
}
