import CustosDomain
import FluentKit
import Foundation

/// A generated closed case (`custos demo load --scale`): the demand, the case as closed, and the
/// report fact the case's closing yields.
public struct ScaleCase: Sendable {
    public var demand: Demand
    public var closed: Case
    public var fact: ReportFact

    public init(demand: Demand, closed: Case, fact: ReportFact) {
        self.demand = demand
        self.closed = closed
        self.fact = fact
    }
}

/// Writes generated closed cases in bulk: the demand and case rows the console reads, the report
/// facts the transparency report counts, and per batch one audit entry saying these cases were
/// generated (they have no history of their own, and the audit log must not pretend they do).
public struct ScaleCaseStore: Sendable {
    let store: CustosDatabase
    public init(store: CustosDatabase) { self.store = store }

    static let demandColumns = ["id", "agency_id", "submitted_by", "received_at", "body", "idempotency_key", "request_hash"]
    static let caseColumns = [
        "id", "number", "demand_id", "agency_id", "tenant_id", "state", "outcome", "is_emergency", "due_at", "country", "instrument", "opened_at",
        "updated_at", "version", "body",
    ]

    /// Takes `count` case numbers of `time`'s year from the same counter intake uses, so generated
    /// and real cases never share a number.
    public func reserveCaseNumbers(_ count: Int, at time: Date) async throws -> [String] {
        let isPostgres = store.location.isPostgres
        return try await store.database.transaction { tx in
            let counter = try await Counters.lock(SQLCaseRepository.caseNumberCounter, on: tx, isPostgres: isPostgres)
            let year = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: time).year!
            if counter.textValue != String(year) {
                counter.textValue = String(year)
                counter.value = 0
            }
            let first = counter.value + 1
            counter.value += count
            try await counter.update(on: tx)
            return (first..<(first + count)).map { CaseIntake.caseNumber(year: year, sequence: $0) }
        }
    }

    /// The rows of one batch, encoded ahead of the write so encoding can run beside the database.
    public struct EncodedBatch: Sendable {
        var demands: [BulkValue]
        var cases: [BulkValue]
        var facts: [ReportFact]
        var first: String
        var last: String
    }

    public static func encode(_ batch: [ScaleCase]) throws -> EncodedBatch {
        let encoder = CustosJSON.makeEncoder()
        var demands: [BulkValue] = []
        var cases: [BulkValue] = []
        demands.reserveCapacity(batch.count * demandColumns.count)
        cases.reserveCapacity(batch.count * caseColumns.count)
        for item in batch {
            let demand = item.demand
            let closed = item.closed
            demands += [
                .uuid(demand.id), .uuid(demand.agencyID), .uuid(demand.submittedBy), .date(demand.receivedAt),
                .text(String(decoding: try encoder.encode(demand), as: UTF8.self)), .null, .text("generated:\(demand.id.uuidString.lowercased())"),
            ]
            cases += [
                .uuid(closed.id), .text(closed.number), .uuid(closed.demandID), .uuid(closed.agencyID), closed.customer.map { .uuid($0.tenantID) } ?? .null,
                .text(closed.state.rawValue), closed.outcome.map { .text($0.rawValue) } ?? .null, .bool(closed.isEmergency),
                closed.dueAt.map { .date($0) } ?? .null, .text(closed.country), .text(closed.instrument.rawValue), .date(closed.openedAt),
                .date(closed.updatedAt), .integer(Int64(closed.version)), .text(String(decoding: try encoder.encode(closed), as: UTF8.self)),
            ]
        }
        return EncodedBatch(
            demands: demands, cases: cases, facts: batch.map(\.fact), first: batch.first?.closed.number ?? "", last: batch.last?.closed.number ?? "")
    }

    /// Writes one batch in one transaction with its audit entry.
    public func insert(_ batch: EncodedBatch, by actor: String, at time: Date) async throws {
        guard !batch.facts.isEmpty else { return }
        let isPostgres = store.location.isPostgres
        try await store.database.transaction { tx in
            try await BulkInsert.run(into: "demands", columns: Self.demandColumns, values: batch.demands, on: tx)
            try await BulkInsert.run(into: "cases", columns: Self.caseColumns, values: batch.cases, on: tx)
            try await ReportFactStore.insert(batch.facts, source: "generated", at: time, on: tx)
            try await AuditWriter.append([AuditRecord(
                caseID: nil, subject: "demo:scale", action: "demo.cases_generated", actor: actor, at: time,
                details: ["cases": "\(batch.facts.count)", "first": batch.first, "last": batch.last])], on: tx, isPostgres: isPostgres)
        }
    }
}
