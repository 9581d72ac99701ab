import Foundation

/// Where one package of a case stands: queued, being built (with progress), built, failed, or
/// deleted under the retention policy (the record stays as the tombstone).
public struct PackageRecord: Equatable, Sendable {
    public enum Status: String, Codable, CaseIterable, Sendable {
        case queued, building, built, failed, deleted
    }

    public var caseID: UUID
    public var purpose: PackagePurpose
    public var status: Status
    public var recordsRead: Int
    /// What the source expects to return, when it can tell (progress bars).
    public var recordsExpected: Int?
    public var requestedBy: String
    public var queuedAt: Date
    public var updatedAt: Date
    public var builtAt: Date?
    public var files: Int?
    public var bytes: Int?
    public var manifestSHA256: String?
    public var merkleRoot: String?
    public var error: String?
    public var deletedAt: Date?
    public var deletionReason: String?

    public init(
        caseID: UUID, purpose: PackagePurpose, status: Status, recordsRead: Int = 0, recordsExpected: Int? = nil, requestedBy: String,
        queuedAt: Date, updatedAt: Date
    ) {
        self.caseID = caseID
        self.purpose = purpose
        self.status = status
        self.recordsRead = recordsRead
        self.recordsExpected = recordsExpected
        self.requestedBy = requestedBy
        self.queuedAt = queuedAt
        self.updatedAt = updatedAt
    }

    /// Percentage read, when the source told how many records to expect.
    public var percent: Int? {
        guard let expected = recordsExpected, expected > 0 else { return nil }
        return min(100, recordsRead * 100 / expected)
    }
}
