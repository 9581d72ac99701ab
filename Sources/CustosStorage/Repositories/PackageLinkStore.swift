import CustosDomain
import FluentKit
import Foundation

/// Download links for released packages, each change audited in its own transaction.
public struct PackageLinkStore: Sendable {
    let store: CustosDatabase

    public init(store: CustosDatabase) { self.store = store }

    public func link(caseID: UUID) async throws -> PackageLink? {
        try await PackageLinkRow.query(on: store.database).filter(\.$caseID == caseID).first().map { $0.domain() }
    }

    /// Opens (or renews) the requester's access to the case's package until `expiresAt`.
    public func open(caseID: UUID, agencyID: UUID, at time: Date, expiresAt: Date, by actor: String) async throws -> PackageLink {
        let isPostgres = store.location.isPostgres
        return try await store.database.transaction { tx in
            let record = try await Self.open(caseID: caseID, agencyID: agencyID, at: time, expiresAt: expiresAt, actor: actor, on: tx)
            try await AuditWriter.append([record], on: tx, isPostgres: isPostgres)
            guard let row = try await PackageLinkRow.query(on: tx).filter(\.$caseID == caseID).first() else {
                throw StorageError.notFound("package link of case \(caseID)")
            }
            return row.domain()
        }
    }

    /// Writes the link inside the caller's transaction and returns its audit record (the release
    /// event's transaction appends it with the case's own entries).
    static func open(
        caseID: UUID, agencyID: UUID, at time: Date, expiresAt: Date, actor: String, on database: any Database
    ) async throws -> AuditRecord {
        let row = try await PackageLinkRow.query(on: database).filter(\.$caseID == caseID).first() ?? PackageLinkRow()
        if row.id == nil { row.id = UUID() }
        row.caseID = caseID
        row.agencyID = agencyID
        row.createdAt = time
        row.expiresAt = expiresAt
        row.revokedAt = nil
        try await row.save(on: database)
        return AuditRecord(
            caseID: caseID, subject: "case:\(caseID.uuidString.lowercased())", action: "package.link_opened", actor: actor, at: time,
            details: ["expiresAt": Timestamp.format(expiresAt)])
    }

    /// Revokes the requester's access; false when there was no open link.
    @discardableResult
    public func revoke(caseID: UUID, at time: Date, by actor: String, reason: String) async throws -> Bool {
        let isPostgres = store.location.isPostgres
        return try await store.database.transaction { tx in
            guard let row = try await PackageLinkRow.query(on: tx).filter(\.$caseID == caseID).first(), row.revokedAt == nil else { return false }
            row.revokedAt = time
            try await row.update(on: tx)
            try await AuditWriter.append([AuditRecord(
                caseID: caseID, subject: "case:\(caseID.uuidString.lowercased())", action: "package.link_revoked", actor: actor, at: time,
                details: ["reason": reason])], on: tx, isPostgres: isPostgres)
            return true
        }
    }
}

final class PackageLinkRow: Model, @unchecked Sendable {
    static let schema = "package_links"
    @ID(key: .id) var id: UUID?
    @Field(key: "case_id") var caseID: UUID
    @Field(key: "agency_id") var agencyID: UUID
    @Field(key: "created_at") var createdAt: Date
    @Field(key: "expires_at") var expiresAt: Date
    @OptionalField(key: "revoked_at") var revokedAt: Date?
    // By hand, not by reflection (see ModelProperties.swift).
    var properties: [any AnyProperty] { [$id, $caseID, $agencyID, $createdAt, $expiresAt, $revokedAt] }
    init() {}

    func domain() -> PackageLink {
        PackageLink(id: id!, caseID: caseID, agencyID: agencyID, createdAt: createdAt, expiresAt: expiresAt, revokedAt: revokedAt)
    }
}
