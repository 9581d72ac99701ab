import CustosDomain
import FluentKit
import Foundation
import SQLKit

/// The packages of cases: queued builds (with their job), progress, results, and the tombstones
/// retention leaves behind. A build is claimed before it starts, so two builders (the server's
/// runner and `custos production build`) never write the same package at once.
public struct PackageStore: Sendable {
    /// The job kind the package runner leases; the payload is `<case id>:<purpose>`.
    public static let buildJob = "package.build"
    /// A builder that has not reported progress for this long is taken to have died.
    public static let staleAfter: TimeInterval = 300

    let store: CustosDatabase

    public init(store: CustosDatabase) { self.store = store }

    public func record(caseID: UUID, purpose: PackagePurpose) async throws -> PackageRecord? {
        try await PackageRow.query(on: store.database).filter(\.$caseID == caseID).filter(\.$purpose == purpose.rawValue).first()?.domain()
    }

    /// Queues a build inside the caller's transaction: the package row (reset to `queued`) and its job.
    /// The build job's payload, `<case id>:<purpose>`, and its reading.
    static func payload(caseID: UUID, purpose: PackagePurpose) -> String { "\(caseID.uuidString.lowercased()):\(purpose.rawValue)" }

    public static func buildTarget(ofPayload payload: String) -> (caseID: UUID, purpose: PackagePurpose)? {
        let parts = payload.split(separator: ":")
        guard parts.count == 2, let caseID = UUID(uuidString: String(parts[0])), let purpose = PackagePurpose(rawValue: String(parts[1])) else { return nil }
        return (caseID, purpose)
    }

    static func queue(caseID: UUID, purpose: PackagePurpose, requestedBy: String, at time: Date, on database: any Database) async throws {
        let row = try await PackageRow.query(on: database).filter(\.$caseID == caseID).filter(\.$purpose == purpose.rawValue).first() ?? PackageRow()
        if row.id == nil {
            row.id = UUID()
            row.caseID = caseID
            row.purpose = purpose.rawValue
        }
        row.reset(status: .queued, requestedBy: requestedBy, at: time)
        try await row.save(on: database)
        let job = OutboxRow()
        job.id = UUID()
        job.kind = buildJob
        job.caseID = caseID
        job.recipient = ""
        job.payload = payload(caseID: caseID, purpose: purpose)
        job.createdAt = time
        job.attempts = 0
        job.status = JobStatus.pending.rawValue
        job.runAt = time
        try await job.create(on: database)
    }

    /// Queues a build again (a failed build's retry), with an audit entry. Refused while one runs.
    public func requeue(caseID: UUID, purpose: PackagePurpose, by actor: String, at time: Date) async throws {
        let isPostgres = store.location.isPostgres
        try await store.database.transaction { tx in
            if let current = try await Self.locked(caseID: caseID, purpose: purpose, on: tx, isPostgres: isPostgres),
                current.status == PackageRecord.Status.building.rawValue, current.updatedAt > time.addingTimeInterval(-Self.staleAfter)
            {
                throw StorageError.conflict("the \(purpose.rawValue) package of case \(caseID) is being built")
            }
            try await Self.queue(caseID: caseID, purpose: purpose, requestedBy: actor, at: time, on: tx)
            try await AuditWriter.append([AuditRecord(
                caseID: caseID, subject: "case:\(caseID.uuidString.lowercased())", action: "package.queued", actor: actor, at: time,
                details: ["purpose": purpose.rawValue])], on: tx, isPostgres: isPostgres)
        }
    }

    /// Claims the build: true when this builder may go ahead (nobody else is building it now).
    public func claim(caseID: UUID, purpose: PackagePurpose, requestedBy: String, expected: Int?, at time: Date) async throws -> Bool {
        let isPostgres = store.location.isPostgres
        return try await store.database.transaction { tx in
            let row = try await Self.locked(caseID: caseID, purpose: purpose, on: tx, isPostgres: isPostgres) ?? {
                let fresh = PackageRow()
                fresh.id = UUID()
                fresh.caseID = caseID
                fresh.purpose = purpose.rawValue
                fresh.reset(status: .queued, requestedBy: requestedBy, at: time)
                return fresh
            }()
            if row.status == PackageRecord.Status.building.rawValue, row.updatedAt > time.addingTimeInterval(-Self.staleAfter) { return false }
            row.reset(status: .building, requestedBy: row.requestedBy, at: time)
            row.recordsExpected = expected
            try await row.save(on: tx)
            return true
        }
    }

    public func progress(caseID: UUID, purpose: PackagePurpose, read: Int, at time: Date) async throws {
        try await PackageRow.query(on: store.database).filter(\.$caseID == caseID).filter(\.$purpose == purpose.rawValue)
            .set(\.$recordsRead, to: read).set(\.$updatedAt, to: time).update()
    }

    /// A finished build as its record keeps it.
    public struct BuiltPackage: Sendable {
        public var caseID: UUID
        public var purpose: PackagePurpose
        public var read: Int
        public var files: Int
        public var bytes: Int
        public var manifestSHA256: String
        public var merkleRoot: String

        public init(caseID: UUID, purpose: PackagePurpose, read: Int, files: Int, bytes: Int, manifestSHA256: String, merkleRoot: String) {
            (self.caseID, self.purpose, self.read, self.files, self.bytes) = (caseID, purpose, read, files, bytes)
            (self.manifestSHA256, self.merkleRoot) = (manifestSHA256, merkleRoot)
        }
    }

    /// Marks the package built, on its own. A build finishes through
    /// `SQLCaseRepository.finishBuild`, which does this together with its audit entries and the
    /// case's transition.
    public func built(
        caseID: UUID, purpose: PackagePurpose, read: Int, files: Int, bytes: Int, manifestSHA256: String, merkleRoot: String, at time: Date
    ) async throws {
        let built = BuiltPackage(caseID: caseID, purpose: purpose, read: read, files: files, bytes: bytes, manifestSHA256: manifestSHA256, merkleRoot: merkleRoot)
        try await Self.markBuilt(built, at: time, on: store.database)
    }

    static func markBuilt(_ built: BuiltPackage, at time: Date, on database: any Database) async throws {
        try await PackageRow.query(on: database).filter(\.$caseID == built.caseID).filter(\.$purpose == built.purpose.rawValue)
            .set(\.$status, to: PackageRecord.Status.built.rawValue).set(\.$recordsRead, to: built.read).set(\.$files, to: built.files)
            .set(\.$bytes, to: built.bytes).set(\.$manifestSHA256, to: built.manifestSHA256).set(\.$merkleRoot, to: built.merkleRoot)
            .set(\.$builtAt, to: time).set(\.$updatedAt, to: time).set(\.$error, to: nil).update()
    }

    /// Production packages that are built while their case is still `collecting`: a finish that
    /// an older version saved in steps and a crash cut short (the runner moves such cases on).
    public func builtWhileCollecting() async throws -> [PackageRecord] {
        // One joined query: the runner asks on every housekeeping tick, and built packages pile up.
        try await PackageRow.query(on: store.database)
            .join(CaseRow.self, on: \PackageRow.$caseID == \CaseRow.$id).filter(CaseRow.self, \.$state == CaseState.collecting.rawValue)
            .filter(\.$purpose == PackagePurpose.production.rawValue).filter(\.$status == PackageRecord.Status.built.rawValue)
            .all().map { try $0.domain() }
    }

    public func failed(caseID: UUID, purpose: PackagePurpose, error: String, at time: Date) async throws {
        try await PackageRow.query(on: store.database).filter(\.$caseID == caseID).filter(\.$purpose == purpose.rawValue)
            .set(\.$status, to: PackageRecord.Status.failed.rawValue).set(\.$error, to: String(error.prefix(1000)))
            .set(\.$updatedAt, to: time).update()
    }

    /// Built packages whose time is up: productions `retention` after they were built, once the
    /// case is past release (never one waiting for release); preservation snapshots once their
    /// case is closed (expired, or ended without follow-up process).
    public func dueForDeletion(productionRetention: TimeInterval, at time: Date) async throws -> [PackageRecord] {
        let rows = try await PackageRow.query(on: store.database).filter(\.$status == PackageRecord.Status.built.rawValue).all()
        guard !rows.isEmpty else { return [] }
        // One query for the cases' states, not one per package.
        let states = Dictionary(
            try await CaseRow.query(on: store.database).filter(\.$id ~~ Set(rows.map(\.caseID))).field(\.$id).field(\.$state).all()
                .map { ($0.id!, $0.state) }, uniquingKeysWith: { first, _ in first })
        var due: [PackageRecord] = []
        for row in rows {
            guard let state = states[row.caseID] else { continue }
            switch PackagePurpose(rawValue: row.purpose) {
            case .production?:
                let waiting = [CaseState.collecting.rawValue, CaseState.readyForRelease.rawValue].contains(state)
                if !waiting, let builtAt = row.builtAt, builtAt.addingTimeInterval(productionRetention) <= time { due.append(row.domain()) }
            case .preservation?:
                if state == CaseState.closed.rawValue { due.append(row.domain()) }
            case nil:
                continue
            }
        }
        return due
    }

    /// Records that the package's file was deleted, with an audit tombstone naming what it was
    /// (manifest hash, Merkle root, size), so the record proves what existed and when it went.
    public func markDeleted(caseID: UUID, purpose: PackagePurpose, reason: String, by actor: String, at time: Date) async throws {
        let isPostgres = store.location.isPostgres
        try await store.database.transaction { tx in
            guard let row = try await Self.locked(caseID: caseID, purpose: purpose, on: tx, isPostgres: isPostgres),
                row.status != PackageRecord.Status.deleted.rawValue
            else { return }
            row.status = PackageRecord.Status.deleted.rawValue
            row.deletedAt = time
            row.deletionReason = reason
            row.updatedAt = time
            try await row.update(on: tx)
            try await AuditWriter.append([AuditRecord(
                caseID: caseID, subject: "case:\(caseID.uuidString.lowercased())", action: "package.deleted", actor: actor, at: time,
                details: [
                    "purpose": purpose.rawValue, "reason": reason, "manifestSHA256": row.manifestSHA256 ?? "", "merkleRoot": row.merkleRoot ?? "",
                    "bytes": row.bytes.map(String.init) ?? "", "files": row.files.map(String.init) ?? "",
                    "builtAt": row.builtAt.map(Timestamp.format) ?? "",
                ])], on: tx, isPostgres: isPostgres)
        }
    }

    static func locked(caseID: UUID, purpose: PackagePurpose, on database: any Database, isPostgres: Bool) async throws -> PackageRow? {
        if isPostgres {
            try await (database as! any SQLDatabase).raw(
                "SELECT id FROM packages WHERE case_id = \(bind: caseID) AND purpose = \(bind: purpose.rawValue) FOR UPDATE"
            ).run()
        }
        return try await PackageRow.query(on: database).filter(\.$caseID == caseID).filter(\.$purpose == purpose.rawValue).first()
    }
}

final class PackageRow: Model, @unchecked Sendable {
    static let schema = "packages"
    @ID(key: .id) var id: UUID?
    @Field(key: "case_id") var caseID: UUID
    @Field(key: "purpose") var purpose: String
    @Field(key: "status") var status: String
    @Field(key: "records_read") var recordsRead: Int
    @OptionalField(key: "records_expected") var recordsExpected: Int?
    @Field(key: "requested_by") var requestedBy: String
    @Field(key: "queued_at") var queuedAt: Date
    @Field(key: "updated_at") var updatedAt: Date
    @OptionalField(key: "built_at") var builtAt: Date?
    @OptionalField(key: "files") var files: Int?
    @OptionalField(key: "bytes") var bytes: Int?
    @OptionalField(key: "manifest_sha256") var manifestSHA256: String?
    @OptionalField(key: "merkle_root") var merkleRoot: String?
    @OptionalField(key: "error") var error: String?
    @OptionalField(key: "deleted_at") var deletedAt: Date?
    @OptionalField(key: "deletion_reason") var deletionReason: String?
    // By hand, not by reflection (see ModelProperties.swift).
    var properties: [any AnyProperty] {
        [
            $id, $caseID, $purpose, $status, $recordsRead, $recordsExpected, $requestedBy, $queuedAt, $updatedAt, $builtAt, $files, $bytes,
            $manifestSHA256, $merkleRoot, $error, $deletedAt, $deletionReason
        ]
    }
    init() {}

    func reset(status: PackageRecord.Status, requestedBy: String, at time: Date) {
        self.status = status.rawValue
        self.requestedBy = requestedBy
        recordsRead = 0
        recordsExpected = nil
        if status == .queued { queuedAt = time }
        if self.$queuedAt.value == nil { queuedAt = time }
        updatedAt = time
        builtAt = nil
        files = nil
        bytes = nil
        manifestSHA256 = nil
        merkleRoot = nil
        error = nil
        deletedAt = nil
        deletionReason = nil
    }

    func domain() -> PackageRecord {
        var record = PackageRecord(
            caseID: caseID, purpose: PackagePurpose(rawValue: purpose) ?? .production, status: PackageRecord.Status(rawValue: status) ?? .failed,
            recordsRead: recordsRead, recordsExpected: recordsExpected, requestedBy: requestedBy, queuedAt: queuedAt, updatedAt: updatedAt)
        record.builtAt = builtAt
        record.files = files
        record.bytes = bytes
        record.manifestSHA256 = manifestSHA256
        record.merkleRoot = merkleRoot
        record.error = error
        record.deletedAt = deletedAt
        record.deletionReason = deletionReason
        return record
    }
}
