import FluentKit
import Foundation

/// A copyright notice (issue 9): searchable columns, and the domain `CopyrightCase` as JSON.
final class CopyrightNoticeRow: Model, @unchecked Sendable {
    static let schema = "copyright_notices"
    @ID(key: .id) var id: UUID?
    @Field(key: "number") var number: String
    @Field(key: "state") var state: String
    @OptionalField(key: "tenant_id") var tenantID: UUID?
    @Field(key: "received_at") var receivedAt: Date
    @Field(key: "updated_at") var updatedAt: Date
    @OptionalField(key: "response_due_at") var responseDueAt: Date?
    @Field(key: "version") var version: Int
    @Field(key: "complainant_email") var complainantEmail: String
    /// SHA-256 of the complainant's link token (confirmation, status, court action).
    @Field(key: "token_hash") var tokenHash: String
    @Field(key: "body") var body: String
    // By hand, not by reflection (see ModelProperties.swift).
    var properties: [any AnyProperty] {
        [
            $id, $number, $state, $tenantID, $receivedAt, $updatedAt, $responseDueAt, $version, $complainantEmail, $tokenHash, $body
        ]
    }
    init() {}
}

/// One strike of the repeat-infringer policy (§ 512(i)(1)(A)); withdrawn when a counter-notice stood.
final class CopyrightStrikeRow: Model, @unchecked Sendable {
    static let schema = "copyright_strikes"
    @ID(key: .id) var id: UUID?
    @Field(key: "tenant_id") var tenantID: UUID
    @Field(key: "notice_id") var noticeID: UUID
    @Field(key: "at") var at: Date
    @OptionalField(key: "withdrawn_at") var withdrawnAt: Date?
    // By hand, not by reflection (see ModelProperties.swift).
    var properties: [any AnyProperty] { [$id, $tenantID, $noticeID, $at, $withdrawnAt] }
    init() {}
}

/// A customer who reached the strike threshold, and what staff decided.
final class SuspensionCaseRow: Model, @unchecked Sendable {
    static let schema = "suspension_cases"
    @ID(key: .id) var id: UUID?
    @Field(key: "tenant_id") var tenantID: UUID
    @Field(key: "opened_at") var openedAt: Date
    /// `open`, `terminated` or `kept`.
    @Field(key: "state") var state: String
    /// The numbers of the notices whose strikes opened it, comma-separated.
    @Field(key: "notices") var notices: String
    @OptionalField(key: "decided_at") var decidedAt: Date?
    @OptionalField(key: "decided_by") var decidedBy: String?
    @OptionalField(key: "note") var note: String?
    // By hand, not by reflection (see ModelProperties.swift).
    var properties: [any AnyProperty] { [$id, $tenantID, $openedAt, $state, $notices, $decidedAt, $decidedBy, $note] }
    init() {}
}

/// A host name a customer serves its content from.
final class TenantHostRow: Model, @unchecked Sendable {
    static let schema = "tenant_hosts"
    @ID(key: .id) var id: UUID?
    @Field(key: "tenant_id") var tenantID: UUID
    @Field(key: "host") var host: String
    // By hand, not by reflection (see ModelProperties.swift).
    var properties: [any AnyProperty] { [$id, $tenantID, $host] }
    init() {}
}
