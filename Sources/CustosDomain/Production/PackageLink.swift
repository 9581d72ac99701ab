import Foundation

/// The requester's access to one released package (C3): only through its own login, only until
/// the link expires (default 14 days), and never after staff revoke it.
public struct PackageLink: Equatable, Sendable {
    public var id: UUID
    public var caseID: UUID
    public var agencyID: UUID
    public var createdAt: Date
    public var expiresAt: Date
    public var revokedAt: Date?

    public init(id: UUID, caseID: UUID, agencyID: UUID, createdAt: Date, expiresAt: Date, revokedAt: Date? = nil) {
        self.id = id
        self.caseID = caseID
        self.agencyID = agencyID
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.revokedAt = revokedAt
    }

    /// Why the link cannot be used at `time`, or nil when it can.
    public func refusal(at time: Date) -> String? {
        if let revokedAt { return "the download was revoked at \(Timestamp.format(revokedAt))" }
        if time >= expiresAt { return "the download expired at \(Timestamp.format(expiresAt))" }
        return nil
    }
}
