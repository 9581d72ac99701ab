import Crypto
import CustosDomain
import FluentKit
import Foundation
import MerkleLog
import SQLKit

/// The sealed vault of demand commitments (tlog.md §6.4) and what of them the public
/// legal-process log has published: each logged demand's record key (never published), its fields,
/// its root, and the log indices of its demand, disposition and opening entries.
public struct LegalProcessStore: Sendable {
    let store: CustosDatabase
    public init(store: CustosDatabase) { self.store = store }

    /// A demand's commitment, from the vault.
    public struct Record: Sendable {
        public var caseID: UUID
        public var ref: String
        public var commitment: RecordCommitment
        public var classPath: String
        public var reviewBy: String?
        public var period: String
        public var intakeIndex: UInt64
        public var demandIndex: UInt64?
        public var dispositionIndex: UInt64?
        public var openingIndex: UInt64?
        public var subjects: Int { commitment.fields.filter { $0.name.hasPrefix("subject/") }.count }
    }

    /// The commitment made at intake, before the audit entry that records it is written.
    struct Intake {
        var ref: String
        var key: Data
        var fields: [RecordCommitment.Field]
        var root: Data
    }

    static func prepareIntake(_ demand: Demand, requester: String, legalBasis: String) -> Intake {
        let key = SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }
        let ref = Hex.encode(SymmetricKey(size: .bits128).withUnsafeBytes { Data($0) })
        let fields = LegalProcessLog.demandRecord(demand, requester: requester, legalBasis: legalBasis)
        return Intake(ref: ref, key: key, fields: fields, root: RecordCommitment(key: key, fields: fields).root)
    }

    struct StoredField: Codable { var name: String; var value: String }

    static func saveIntake(_ intake: Intake, demand: Demand, caseID: UUID, intakeIndex: UInt64, at time: Date, on database: any Database) async throws {
        let row = LegalProcessRecordRow()
        row.id = caseID
        row.ref = intake.ref
        row.recordKey = intake.key.base64EncodedString()
        row.fields = try CustosJSON.string(intake.fields.map { StoredField(name: $0.name, value: $0.value) })
        row.recordRoot = intake.root.base64EncodedString()
        row.classPath = LegalProcessLog.classPath(of: demand)
        row.reviewBy = LegalProcessLog.reviewBy(demand)
        row.period = String(Timestamp.formatDay(demand.receivedAt).prefix(7))
        row.intakeIndex = Int64(intakeIndex)
        row.createdAt = time
        try await ModelStatements.insert(row, on: database)
    }

    public func record(caseID: UUID) async throws -> Record? {
        try await LegalProcessRecordRow.find(caseID, on: store.database).map { try $0.domain() }
    }

    /// Records whose entry of `kind` is not yet in the log.
    public enum Stage: String, Sendable {
        case demand = "demand_index"
        case disposition = "disposition_index"
        case opening = "opening_index"
    }

    /// Records whose `stage` entry is not yet in the log (dispositions: of closed cases only), in
    /// intake order; with `limit`, one page of them after intake index `after` (keyset paging, so
    /// a batch of any size is read in pieces).
    public func unpublished(_ stage: Stage, after: UInt64? = nil, limit: Int? = nil) async throws -> [Record] {
        var query = LegalProcessRecordRow.query(on: store.database)
        switch stage {
        case .demand: query = query.filter(\.$demandIndex == nil)
        case .disposition:
            // Only closed cases have a disposition: every open case is pending here, and reading
            // them all each batch grew with the installation's history.
            query = query.filter(\.$demandIndex != nil).filter(\.$dispositionIndex == nil)
                .join(CaseRow.self, on: \LegalProcessRecordRow.$id == \CaseRow.$id).filter(CaseRow.self, \.$state == CaseState.closed.rawValue)
        case .opening: query = query.filter(\.$dispositionIndex != nil).filter(\.$openingIndex == nil)
        }
        if let after { query = query.filter(\.$intakeIndex > Int64(after)) }
        if let limit { query = query.limit(limit) }
        return try await query.sort(\.$intakeIndex).all().map { try $0.domain() }
    }

    public func all() async throws -> [Record] {
        try await LegalProcessRecordRow.query(on: store.database).sort(\.$intakeIndex).all().map { try $0.domain() }
    }

    public enum PublishError: Error, CustomStringConvertible {
        case alreadyPublished(UUID)
        public var description: String {
            switch self { case .alreadyPublished(let id): "another publisher already logged this stage of case \(id)" }
        }
    }

    /// Appends one piece of a batch (entries of one stage) to the legal-process log and records
    /// each index, atomically; a record another publisher got to first aborts the piece. The
    /// indices are set by one statement, not one per record, so the piece holds the writer briefly.
    public func publish(_ stage: Stage, entries: [(caseID: UUID, bytes: Data)]) async throws -> [UInt64] {
        guard !entries.isEmpty else { return [] }
        let isPostgres = store.location.isPostgres
        return try await store.database.transaction { tx in
            let first = try await MerkleLogStore.append(
                .legalProcess, leafHashes: entries.map { MerkleHash.leaf($0.bytes) }, entries: entries.map(\.bytes), on: tx, isPostgres: isPostgres)
            let indices: [SQLQueryString] = entries.enumerated().map { offset, entry in
                "WHEN \(bind: entry.caseID) THEN \(bind: Int64(first) + Int64(offset))"
            }
            let updated = try await (tx as! any SQLDatabase).raw("""
                UPDATE lp_records SET \(unsafeRaw: stage.rawValue) = CASE case_id \(indices.joined(separator: " ")) END
                WHERE case_id IN (\(binds: entries.map(\.caseID))) AND \(unsafeRaw: stage.rawValue) IS NULL RETURNING case_id
                """).all().map { try $0.decode(column: "case_id", as: UUID.self) }
            if updated.count != entries.count {
                let done = Set(updated)
                throw PublishError.alreadyPublished(entries.first { !done.contains($0.caseID) }?.caseID ?? entries[0].caseID)
            }
            return (0..<UInt64(entries.count)).map { first + $0 }
        }
    }
}

final class LegalProcessRecordRow: Model, @unchecked Sendable {
    static let schema = "lp_records"
    @ID(custom: "case_id", generatedBy: .user) var id: UUID?
    @Field(key: "ref") var ref: String
    /// Base64 of K_r; the vault's secret, never published.
    @Field(key: "record_key") var recordKey: String
    @Field(key: "fields") var fields: String
    @Field(key: "record_root") var recordRoot: String
    @Field(key: "class_path") var classPath: String
    @OptionalField(key: "review_by") var reviewBy: String?
    @Field(key: "period") var period: String
    @Field(key: "intake_index") var intakeIndex: Int64
    @OptionalField(key: "demand_index") var demandIndex: Int64?
    @OptionalField(key: "disposition_index") var dispositionIndex: Int64?
    @OptionalField(key: "opening_index") var openingIndex: Int64?
    @Field(key: "created_at") var createdAt: Date
    // By hand, not by reflection (see ModelProperties.swift).
    var properties: [any AnyProperty] {
        [
            $id, $ref, $recordKey, $fields, $recordRoot, $classPath, $reviewBy, $period, $intakeIndex, $demandIndex, $dispositionIndex,
            $openingIndex, $createdAt
        ]
    }
    init() {}

    func domain() throws -> LegalProcessStore.Record {
        guard let id, let key = Data(base64Encoded: recordKey), key.count == 32 else { throw StorageError.corrupted("lp record \(ref)") }
        let fields = try CustosJSON.decode([LegalProcessStore.StoredField].self, from: self.fields)
        let commitment = RecordCommitment(key: key, fields: fields.map { RecordCommitment.Field(name: $0.name, value: $0.value) })
        guard commitment.root.base64EncodedString() == recordRoot else {
            throw StorageError.corrupted("the vault's record for case \(id) no longer matches its committed root")
        }
        return LegalProcessStore.Record(
            caseID: id, ref: ref, commitment: commitment, classPath: classPath, reviewBy: reviewBy, period: period,
            intakeIndex: UInt64(intakeIndex), demandIndex: demandIndex.map(UInt64.init), dispositionIndex: dispositionIndex.map(UInt64.init),
            openingIndex: openingIndex.map(UInt64.init))
    }
}
