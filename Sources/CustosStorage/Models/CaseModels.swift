import CustosDomain
import FluentKit
import Foundation

final class DemandRow: Model, @unchecked Sendable {
    static let schema = "demands"
    @ID(key: .id) var id: UUID?
    @Field(key: "agency_id") var agencyID: UUID
    @Field(key: "submitted_by") var submittedBy: UUID
    @Field(key: "received_at") var receivedAt: Date
    /// Canonical JSON of the domain `Demand`.
    @Field(key: "body") var body: String
    @OptionalField(key: "idempotency_key") var idempotencyKey: String?
    /// SHA-256 of the request that created it, to tell a retry from a different request under the same key.
    @Field(key: "request_hash") var requestHash: String
    // By hand, not by reflection (see ModelProperties.swift).
    var properties: [any AnyProperty] { [$id, $agencyID, $submittedBy, $receivedAt, $body, $idempotencyKey, $requestHash] }
    init() {}
}

final class DocumentRow: Model, @unchecked Sendable {
    static let schema = "demand_documents"
    @ID(key: .id) var id: UUID?
    @Field(key: "demand_id") var demandID: UUID
    @Field(key: "filename") var filename: String
    @Field(key: "media_type") var mediaType: String
    @Field(key: "byte_count") var byteCount: Int
    @Field(key: "sha256") var sha256: String
    @Field(key: "content") var content: Data
    /// The blob holding the sealed bytes instead of `content` (an object store, M031).
    @OptionalField(key: "blob_key") var blobKey: String?
    // By hand, not by reflection (see ModelProperties.swift).
    var properties: [any AnyProperty] { [$id, $demandID, $filename, $mediaType, $byteCount, $sha256, $content, $blobKey] }
    init() {}
}

/// A document the customer sent with its objection (C8), kept with the case.
final class AttachmentRow: Model, @unchecked Sendable {
    static let schema = "case_attachments"
    @ID(key: .id) var id: UUID?
    @Field(key: "case_id") var caseID: UUID
    @Field(key: "uploaded_by") var uploadedBy: String
    @Field(key: "filename") var filename: String
    @Field(key: "media_type") var mediaType: String
    @Field(key: "byte_count") var byteCount: Int
    @Field(key: "sha256") var sha256: String
    @Field(key: "content") var content: Data
    @Field(key: "created_at") var createdAt: Date
    /// The blob holding the sealed bytes instead of `content` (an object store, M031).
    @OptionalField(key: "blob_key") var blobKey: String?
    // By hand, not by reflection (see ModelProperties.swift).
    var properties: [any AnyProperty] { [$id, $caseID, $uploadedBy, $filename, $mediaType, $byteCount, $sha256, $content, $createdAt, $blobKey] }
    init() {}
}

final class CaseRow: Model, @unchecked Sendable {
    static let schema = "cases"
    @ID(key: .id) var id: UUID?
    @Field(key: "number") var number: String
    @Field(key: "demand_id") var demandID: UUID
    @Field(key: "agency_id") var agencyID: UUID
    @OptionalField(key: "tenant_id") var tenantID: UUID?
    @Field(key: "state") var state: String
    @OptionalField(key: "outcome") var outcome: String?
    @Field(key: "is_emergency") var isEmergency: Bool
    @OptionalField(key: "due_at") var dueAt: Date?
    @Field(key: "country") var country: String
    @Field(key: "instrument") var instrument: String
    @Field(key: "opened_at") var openedAt: Date
    @Field(key: "updated_at") var updatedAt: Date
    @Field(key: "version") var version: Int
    /// Canonical JSON of the domain `Case`; the columns above are copies for filtering and sorting.
    @Field(key: "body") var body: String
    // By hand, not by reflection (see ModelProperties.swift).
    var properties: [any AnyProperty] {
        [
            $id, $number, $demandID, $agencyID, $tenantID, $state, $outcome, $isEmergency, $dueAt, $country, $instrument, $openedAt,
            $updatedAt, $version, $body
        ]
    }
    init() {}
}

final class AuditRow: Model, @unchecked Sendable {
    static let schema = "audit_entries"
    /// The entry's place in the chain and its leaf index plus one (the key since migration 012).
    @ID(custom: "sequence", generatedBy: .user) var id: Int?
    @OptionalField(key: "case_id") var caseID: UUID?
    @Field(key: "subject") var subject: String
    @Field(key: "action") var action: String
    @Field(key: "outcome") var outcome: String
    @Field(key: "actor") var actor: String
    @Field(key: "at") var at: Date
    /// Canonical JSON of the `AuditRecord`, exactly the bytes that were hashed.
    @Field(key: "body") var body: String
    @Field(key: "previous_hash") var previousHash: String
    @Field(key: "hash") var hash: String
    /// Base64 of 32 random bytes hashed into the entry's Merkle leaf (see `AuditLeaf`).
    @OptionalField(key: "nonce") var nonce: String?
    // By hand, not by reflection (see ModelProperties.swift).
    var properties: [any AnyProperty] { [$id, $caseID, $subject, $action, $outcome, $actor, $at, $body, $previousHash, $hash, $nonce] }
    init() {}
}

/// Named counters (audit sequence, case numbers per year). Updating a counter row also serialises
/// concurrent writers on PostgreSQL, which keeps the audit chain linear.
final class CounterRow: Model, @unchecked Sendable {
    static let schema = "counters"
    @ID(custom: "name", generatedBy: .user) var id: String?
    @Field(key: "value") var value: Int
    @Field(key: "text_value") var textValue: String
    // By hand, not by reflection (see ModelProperties.swift).
    var properties: [any AnyProperty] { [$id, $value, $textValue] }
    init() {}
}

final class OutboxRow: Model, @unchecked Sendable {
    static let schema = "outbox"
    @ID(key: .id) var id: UUID?
    @Field(key: "kind") var kind: String
    @OptionalField(key: "case_id") var caseID: UUID?
    @Field(key: "recipient") var recipient: String
    @Field(key: "payload") var payload: String
    @Field(key: "created_at") var createdAt: Date
    @OptionalField(key: "delivered_at") var deliveredAt: Date?
    @Field(key: "attempts") var attempts: Int
    /// `pending`, `leased`, `done` or `dead` (dead letters are shown to staff).
    @Field(key: "status") var status: String
    @OptionalField(key: "run_at") var runAt: Date?
    @OptionalField(key: "lease_until") var leaseUntil: Date?
    @OptionalField(key: "lease_owner") var leaseOwner: String?
    @OptionalField(key: "last_error") var lastError: String?
    /// Unique: the same job is never queued twice (for a notice: its delivery id).
    @OptionalField(key: "dedupe_key") var dedupeKey: String?
    // By hand, not by reflection (see ModelProperties.swift).
    var properties: [any AnyProperty] {
        [
            $id, $kind, $caseID, $recipient, $payload, $createdAt, $deliveredAt, $attempts, $status, $runAt, $leaseUntil, $leaseOwner,
            $lastError, $dedupeKey
        ]
    }
    init() {}
}

final class NoticeRow: Model, @unchecked Sendable {
    static let schema = "customer_notices"
    @ID(key: .id) var id: UUID?
    @Field(key: "case_id") var caseID: UUID
    @OptionalField(key: "tenant_id") var tenantID: UUID?
    @Field(key: "state") var state: String
    @OptionalField(key: "hold_until") var holdUntil: Date?
    @OptionalField(key: "reminder_at") var reminderAt: Date?
    @OptionalField(key: "bar") var bar: String?
    @Field(key: "created_at") var createdAt: Date
    @Field(key: "updated_at") var updatedAt: Date
    /// Canonical JSON of the domain `CustomerNotice`; the columns above are copies for queries.
    @Field(key: "body") var body: String
    // By hand, not by reflection (see ModelProperties.swift).
    var properties: [any AnyProperty] { [$id, $caseID, $tenantID, $state, $holdUntil, $reminderAt, $bar, $createdAt, $updatedAt, $body] }
    init() {}

    convenience init(_ notice: CustomerNotice) throws {
        self.init()
        id = notice.id
        try copy(from: notice)
    }

    func copy(from notice: CustomerNotice) throws {
        caseID = notice.caseID
        tenantID = notice.tenantID
        state = notice.state.rawValue
        holdUntil = notice.holdUntil
        reminderAt = notice.reminderSent ? nil : notice.reminderAt
        bar = notice.bar?.rawValue
        createdAt = notice.createdAt
        updatedAt = notice.updatedAt
        body = try CustosJSON.string(notice)
    }

    func domain() throws -> CustomerNotice { try CustosJSON.decode(CustomerNotice.self, from: body) }
}
