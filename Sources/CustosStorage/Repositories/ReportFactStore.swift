import CustosDomain
import FluentKit
import Foundation
import MerkleLog
import SQLKit
import SQLiteNIO

/// The report's facts: written when a case closes (in its transaction) and by the historical
/// import; read per period by `custos report build`.
public struct ReportFactStore: Sendable {
    let store: CustosDatabase
    public init(store: CustosDatabase) { self.store = store }

    static let columns = [
        "id", "received_ms", "country", "section", "instrument", "tenant_kind", "accounts", "outcome", "is_preservation",
        "is_national_security", "source", "recorded_ms", "has_details", "nondisclosure", "notice", "challenge", "emergency_failed", "cloud_act", "tenant_id",
        "ack_ms", "effect_ms", "dsa_category", "dsa_order", "red_flags",
    ]

    static func milliseconds(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded()) }

    /// A fact imported earlier under the same id says something else: nothing is imported.
    public struct Conflict: Error, CustomStringConvertible {
        public let id: String
        public var description: String { "id \"\(id)\" was imported before with different values; nothing was imported" }
    }

    public struct ImportResult: Sendable, Equatable {
        public var inserted: Int
        public var unchanged: Int

        public init(inserted: Int, unchanged: Int) {
            self.inserted = inserted
            self.unchanged = unchanged
        }
    }

    /// Imports facts in one transaction, idempotent by id: a fact already stored with the same
    /// values is left alone, one stored with other values stops the whole import. One audit
    /// entry records the file's hash and the counts.
    public func importFacts(_ facts: [ReportFact], fileSHA256: String, by actor: String, at time: Date) async throws -> ImportResult {
        let isPostgres = store.location.isPostgres
        return try await store.database.transaction { tx in
            let sql = tx as! any SQLDatabase
            var existing: [String: ReportFact] = [:]
            for chunk in stride(from: 0, to: facts.count, by: 500) {
                let ids = facts[chunk..<min(chunk + 500, facts.count)].map { $0.id as any Encodable & Sendable }
                for row in try await sql.raw("SELECT * FROM report_facts WHERE id IN (\(binds: ids))").all() {
                    let fact = try Self.fact(from: row)
                    existing[fact.id] = fact
                }
            }
            var fresh: [ReportFact] = []
            for fact in facts {
                guard let stored = existing[fact.id] else {
                    fresh.append(fact)
                    continue
                }
                guard stored == fact else { throw Conflict(id: fact.id) }
            }
            try await Self.insert(fresh, source: "import", at: time, on: tx)
            let result = ImportResult(inserted: fresh.count, unchanged: facts.count - fresh.count)
            try await AuditWriter.append([AuditRecord(
                caseID: nil, subject: "report:facts", action: "report.imported", actor: actor, at: time,
                details: ["sha256": fileSHA256, "lines": "\(facts.count)", "inserted": "\(result.inserted)", "unchanged": "\(result.unchanged)"])],
                on: tx, isPostgres: isPostgres)
            return result
        }
    }

    /// Stores facts inside the caller's transaction.
    static func insert(_ facts: [ReportFact], source: String, at time: Date, on database: any Database) async throws {
        guard !facts.isEmpty else { return }
        let recorded = Int64((time.timeIntervalSince1970 * 1000).rounded())
        var values: [BulkValue] = []
        values.reserveCapacity(facts.count * columns.count)
        for fact in facts {
            let details: [BulkValue] = [
                .integer(fact.details == nil ? 0 : 1), fact.details?.nonDisclosure.map { .text($0.rawValue) } ?? .null,
                fact.details?.notice.map { .text($0.rawValue) } ?? .null, fact.details?.challenge.map { .text($0.rawValue) } ?? .null,
                .integer(fact.details?.emergencyVerificationFailed == true ? 1 : 0), .integer(fact.details?.cloudAct == true ? 1 : 0),
            ]
            let times: [BulkValue] = [
                fact.acknowledgedAt.map { .integer(milliseconds($0)) } ?? .null, fact.effectAt.map { .integer(milliseconds($0)) } ?? .null,
                fact.dsaCategory.map { .text($0) } ?? .null, .integer(fact.isDSAOrder ? 1 : 0), fact.details?.redFlags.map { .text($0) } ?? .null,
            ]
            values.append(contentsOf: [
                .text(fact.id), .integer(milliseconds(fact.receivedAt)), .text(fact.country),
                .text(fact.section.rawValue), .text(fact.instrument), .text(fact.tenantKind.rawValue), .integer(Int64(fact.accounts)),
                .text(fact.outcome.rawValue), .integer(fact.isPreservation ? 1 : 0), .integer(fact.isNationalSecurity ? 1 : 0), .text(source),
                .integer(recorded),
            ])
            values.append(contentsOf: details)
            values.append(fact.tenantID.map { .text($0) } ?? .null)
            values.append(contentsOf: times)
        }
        try await BulkInsert.run(into: "report_facts", columns: columns, values: values, on: database)
    }

    /// Everything the report counts of the period's facts (`ReportCounts`).
    ///
    /// On SQLite this is one pass over the period's range of the time-ordered table, each row
    /// folded into a `ReportTally` on the connection's thread: SQLite's own GROUP BY sorts every row
    /// of the period on 13 columns first, which for a million facts costs several times the scan
    /// (BENCHMARKS.md, issue 7). PostgreSQL aggregates with hashing itself, so it runs the queries.
    public func counts(in period: ReportPeriod) async throws -> ReportCounts {
        guard let sqlite = store.database as? any SQLiteDatabase else {
            let affected = try await affected(in: period)
            return ReportCounts(
                groups: try await groups(in: period), accountsSpecified: affected.accounts, tenantsAffected: affected.tenants,
                dsaTimings: try await dsaTimings(in: period))
        }
        let tally = try await SQLiteDirect.fold("""
            SELECT country, section, instrument, tenant_kind, outcome, is_preservation, is_national_security, has_details, nondisclosure, notice,
            challenge, emergency_failed, cloud_act, red_flags, accounts, tenant_id, dsa_order, dsa_category, received_ms, ack_ms, effect_ms
            FROM report_facts WHERE received_ms >= ? AND received_ms < ?
            """, [.integer(Int(Self.milliseconds(period.start))), .integer(Int(Self.milliseconds(period.end)))], on: sqlite, into: ReportTally()
        ) { tally, row in
            func text(_ column: String) -> String? { row.column(column)?.string }
            func flag(_ column: String) -> Bool { (row.column(column)?.integer ?? 0) != 0 }
            guard let country = text("country"), let section = text("section").flatMap(ReportSection.init(rawValue:)),
                let instrument = text("instrument"), let kind = text("tenant_kind").flatMap(TenantKind.init(rawValue:)),
                let outcome = text("outcome").flatMap(ReportOutcome.init(rawValue:)), let accounts = row.column("accounts")?.integer,
                let received = row.column("received_ms")?.integer
            else { throw StorageError.corrupted("unreadable report facts") }
            let details: ReportCaseDetails? =
                flag("has_details")
                ? ReportCaseDetails(
                    nonDisclosure: text("nondisclosure").flatMap(ReportCaseDetails.NonDisclosure.init(rawValue:)),
                    notice: text("notice").flatMap(ReportCaseDetails.Notice.init(rawValue:)),
                    challenge: text("challenge").flatMap(ReportCaseDetails.Challenge.init(rawValue:)),
                    emergencyVerificationFailed: flag("emergency_failed"), cloudAct: flag("cloud_act"), redFlags: text("red_flags")) : nil
            let group = ReportGroup(
                country: country, section: section, instrument: instrument, tenantKind: kind, outcome: outcome, isPreservation: flag("is_preservation"),
                isNationalSecurity: flag("is_national_security"), details: details, requests: 0, accounts: 0)
            var timing: DSAOrders.Timing?
            if flag("dsa_order") {
                timing = DSAOrders.Timing(
                    country: country, category: text("dsa_category") ?? "",
                    receiptHours: row.column("ack_ms")?.integer.map { DSAOrders.receiptHours(milliseconds: Int64($0 - received)) } ?? -1,
                    effectHours: row.column("effect_ms")?.integer.map { DSAOrders.effectHours(milliseconds: Int64($0 - received)) } ?? -1, orders: 0)
            }
            tally.add(group, accounts: Int(accounts), tenantID: text("tenant_id"), dsa: timing)
        }
        return tally.counts
    }

    /// Every fact of demands received in the period.
    public func facts(in period: ReportPeriod) async throws -> [ReportFact] {
        let from = Int64((period.start.timeIntervalSince1970 * 1000).rounded())
        let to = Int64((period.end.timeIntervalSince1970 * 1000).rounded())
        return try await store.sql.raw("""
            SELECT * FROM report_facts WHERE received_ms >= \(bind: from) AND received_ms < \(bind: to) ORDER BY received_ms, id
            """).all().map(Self.fact(from:))
    }

    /// The period's facts counted by everything the report distinguishes: one GROUP BY over the
    /// received-time index, so memory is bounded by the number of groups, not of facts.
    public func groups(in period: ReportPeriod) async throws -> [ReportGroup] {
        let from = Int64((period.start.timeIntervalSince1970 * 1000).rounded())
        let to = Int64((period.end.timeIntervalSince1970 * 1000).rounded())
        return try await store.sql.raw("""
            SELECT country, section, instrument, tenant_kind, outcome, is_preservation, is_national_security, has_details, nondisclosure,
            notice, challenge, emergency_failed, cloud_act, red_flags, count(*) AS requests, sum(accounts) AS accounts FROM report_facts
            WHERE received_ms >= \(bind: from) AND received_ms < \(bind: to)
            GROUP BY country, section, instrument, tenant_kind, outcome, is_preservation, is_national_security, has_details, nondisclosure,
            notice, challenge, emergency_failed, cloud_act, red_flags
            """).all().map { row in
            func text(_ column: String) throws -> String { try row.decode(column: column, as: String.self) }
            guard let section = ReportSection(rawValue: try text("section")), let kind = TenantKind(rawValue: try text("tenant_kind")),
                let outcome = ReportOutcome(rawValue: try text("outcome"))
            else { throw StorageError.corrupted("unreadable report facts for \(try text("country"))") }
            return ReportGroup(
                country: try text("country"), section: section, instrument: try text("instrument"), tenantKind: kind, outcome: outcome,
                isPreservation: try row.decode(column: "is_preservation", as: Int.self) != 0,
                isNationalSecurity: try row.decode(column: "is_national_security", as: Int.self) != 0, details: try Self.details(from: row),
                requests: try row.decode(column: "requests", as: Int.self), accounts: try row.decode(column: "accounts", as: Int.self))
        }
    }

    /// A closed period, as frozen.
    public struct ClosedPeriod: Sendable, Equatable {
        public var period: String
        /// The report's canonical JSON, exactly as hashed and signed.
        public var reportJSON: String
        public var sha256: String
        /// The signed note (c2sp.org/signed-note) committing to the hash.
        public var note: String
        public var closedAt: String
        public var closedBy: String

        public init(period: String, reportJSON: String, sha256: String, note: String, closedAt: String, closedBy: String) {
            self.period = period
            self.reportJSON = reportJSON
            self.sha256 = sha256
            self.note = note
            self.closedAt = closedAt
            self.closedBy = closedBy
        }
    }

    /// The period is closed already; a closed report is never replaced.
    public struct AlreadyClosed: Error, CustomStringConvertible {
        public let period: String
        public var description: String { "period \(period) was closed before; a closed report is never replaced" }
    }

    /// Freezes a period's report in one transaction with its audit entry and its `report` entry
    /// in the public legal-process log (tlog.md §6.5), which counts the log's entries since the
    /// previous report's range ended, up to the log's size now. Returns the report entry's index.
    @discardableResult
    public func close(
        _ closed: ClosedPeriod, period: ReportPeriod, nationalSecurity: (bands: [String], commitment: Data)? = nil, at time: Date
    ) async throws -> (logIndex: UInt64, start: UInt64, end: UInt64) {
        let isPostgres = store.location.isPostgres
        return try await store.database.transaction { tx in
            let sql = tx as! any SQLDatabase
            if try await sql.raw("SELECT period FROM report_periods WHERE period = \(bind: closed.period)").first() != nil {
                throw AlreadyClosed(period: closed.period)
            }
            let previous = try await sql.raw("SELECT log_index, range_end FROM report_periods ORDER BY range_end DESC, log_index DESC").first()
            let start = UInt64(try previous?.decode(column: "range_end", as: Int64.self) ?? 0)
            var log = try await LogAppend.begin(.legalProcess, on: tx, isPostgres: isPostgres)
            let end = log.first
            let entries = try await sql.raw("""
                SELECT data FROM log_entries WHERE log = \(bind: TransparencyLog.legalProcess.storageID) AND idx >= \(bind: Int64(start))
                AND idx < \(bind: Int64(end)) ORDER BY idx
                """).all().map { try LegalProcessLog.parse(try $0.decode(column: "data", as: Data.self)) }
            let entry = LegalProcessLog.reportEntry(
                period: period, start: start, end: end, previous: try previous.map { UInt64(try $0.decode(column: "log_index", as: Int64.self)) },
                entries: entries, nationalSecurity: nationalSecurity
            ).bytes
            try await BulkInsert.run(into: "log_nodes", columns: LogAppend.nodeColumns, values: log.add(leafHashes: [MerkleHash.leaf(entry)]), on: tx)
            try await BulkInsert.run(
                into: "log_entries", columns: ["log", "idx", "data"],
                values: [.integer(Int64(TransparencyLog.legalProcess.storageID)), .integer(Int64(end)), .blob(Array(entry))], on: tx)
            try await log.finish(on: tx)
            try await sql.raw("""
                INSERT INTO report_periods (period, report_json, sha256, note, closed_at, closed_by, log_index, range_start, range_end)
                VALUES (\(bind: closed.period), \(bind: closed.reportJSON), \(bind: closed.sha256), \(bind: closed.note), \(bind: closed.closedAt),
                \(bind: closed.closedBy), \(bind: Int64(end)), \(bind: Int64(start)), \(bind: Int64(end)))
                """).run()
            try await AuditWriter.append([AuditRecord(
                caseID: nil, subject: "report:\(closed.period)", action: "report.closed", actor: closed.closedBy, at: time,
                details: ["sha256": closed.sha256, "lptl-index": "\(end)", "range": "\(start) \(end)"])], on: tx, isPostgres: isPostgres)
            return (end, start, end)
        }
    }

    /// Where a closed period's `report` entry sits in the legal-process log and what it counts.
    public func reportLogPlacement(_ period: String) async throws -> (logIndex: UInt64, start: UInt64, end: UInt64, previous: UInt64?)? {
        guard let row = try await store.sql.raw("SELECT log_index, range_start, range_end FROM report_periods WHERE period = \(bind: period)").first()
        else { return nil }
        let start = try row.decode(column: "range_start", as: Int64.self)
        let previous = try await store.sql.raw("""
            SELECT log_index FROM report_periods WHERE range_end = \(bind: start) AND log_index < \(bind: try row.decode(column: "log_index", as: Int64.self))
            ORDER BY log_index DESC
            """).first().map { UInt64(try $0.decode(column: "log_index", as: Int64.self)) }
        return (
            UInt64(try row.decode(column: "log_index", as: Int64.self)), UInt64(start), UInt64(try row.decode(column: "range_end", as: Int64.self)),
            previous
        )
    }

    public func closedPeriod(_ period: String) async throws -> ClosedPeriod? {
        guard let row = try await store.sql.raw("SELECT * FROM report_periods WHERE period = \(bind: period)").first() else { return nil }
        return ClosedPeriod(
            period: try row.decode(column: "period", as: String.self), reportJSON: try row.decode(column: "report_json", as: String.self),
            sha256: try row.decode(column: "sha256", as: String.self), note: try row.decode(column: "note", as: String.self),
            closedAt: try row.decode(column: "closed_at", as: String.self), closedBy: try row.decode(column: "closed_by", as: String.self))
    }

    /// Accounts specified and distinct customers named in the period (national-security process
    /// left out), for the share of customers affected.
    public func affected(in period: ReportPeriod) async throws -> (accounts: Int, tenants: Int) {
        let from = Int64((period.start.timeIntervalSince1970 * 1000).rounded())
        let to = Int64((period.end.timeIntervalSince1970 * 1000).rounded())
        let row = try await store.sql.raw("""
            SELECT sum(accounts) AS accounts, count(DISTINCT tenant_id) AS tenants FROM report_facts
            WHERE received_ms >= \(bind: from) AND received_ms < \(bind: to) AND is_national_security = 0
            """).first()
        return (try row?.decode(column: "accounts", as: Int?.self) ?? 0, try row?.decode(column: "tenants", as: Int?.self) ?? 0)
    }

    /// The period's DSA orders to provide information, counted by Member State, category and the
    /// two times in whole hours (`DSAOrders.receiptHours` and `.effectHours`, written again here in
    /// SQL so the database counts them): the medians come from these counts, never from per-order
    /// rows in memory.
    public func dsaTimings(in period: ReportPeriod) async throws -> [DSAOrders.Timing] {
        let from = Self.milliseconds(period.start)
        let to = Self.milliseconds(period.end)
        return try await store.sql.raw("""
            SELECT country, coalesce(dsa_category, '') AS category,
            CASE WHEN ack_ms IS NULL THEN -1 WHEN ack_ms - received_ms <= 3600000 THEN 0 ELSE (ack_ms - received_ms + 1800000) / 3600000 END AS receipt_h,
            CASE WHEN effect_ms IS NULL THEN -1 WHEN effect_ms < received_ms THEN 0 ELSE (effect_ms - received_ms + 1800000) / 3600000 END AS effect_h,
            count(*) AS orders FROM report_facts
            WHERE received_ms >= \(bind: from) AND received_ms < \(bind: to) AND dsa_order = 1
            GROUP BY country, coalesce(dsa_category, ''), receipt_h, effect_h
            """).all().map { row in
            DSAOrders.Timing(
                country: try row.decode(column: "country", as: String.self), category: try row.decode(column: "category", as: String.self),
                receiptHours: try row.decode(column: "receipt_h", as: Int64.self), effectHours: try row.decode(column: "effect_h", as: Int64.self),
                orders: try row.decode(column: "orders", as: Int.self))
        }
    }

    /// National-security process received in the period, counted by instrument: orders and the
    /// selectors (accounts) they target. Only ever published as § 1874 bands.
    public func nationalSecurityCounts(in period: ReportPeriod) async throws -> NationalSecurityCounts {
        var counts = NationalSecurityCounts()
        for row in try await store.sql.raw("""
            SELECT instrument, count(*) AS orders, sum(accounts) AS selectors FROM report_facts
            WHERE received_ms >= \(bind: Self.milliseconds(period.start)) AND received_ms < \(bind: Self.milliseconds(period.end))
            AND is_national_security = 1 GROUP BY instrument
            """).all() {
            counts.add(
                instrument: try row.decode(column: "instrument", as: String.self), orders: try row.decode(column: "orders", as: Int.self),
                selectors: try row.decode(column: "selectors", as: Int.self))
        }
        return counts
    }

    /// The ids of the national-security process received in the period: what the report's
    /// `ns-commitment` commits to (tlog.md §6.7). `letters`: only NSLs (true), only FISA orders
    /// (false), or both (nil).
    public func nationalSecurityIDs(in period: ReportPeriod, letters: Bool? = nil) async throws -> [String] {
        let nsl = LegalInstrument.usNSL.rawValue
        let kind: SQLQueryString =
            switch letters {
            case .some(true): "AND instrument = \(bind: nsl)"
            case .some(false): "AND instrument <> \(bind: nsl)"
            case .none: ""
            }
        return try await store.sql.raw("""
            SELECT id FROM report_facts WHERE received_ms >= \(bind: Self.milliseconds(period.start))
            AND received_ms < \(bind: Self.milliseconds(period.end)) AND is_national_security = 1 \(kind)
            """).all().map { try $0.decode(column: "id", as: String.self) }
    }

    public func count() async throws -> Int {
        try await store.sql.raw("SELECT count(*) AS n FROM report_facts").first()!.decode(column: "n", as: Int.self)
    }

    static func fact(from row: any SQLRow) throws -> ReportFact {
        func text(_ column: String) throws -> String { try row.decode(column: column, as: String.self) }
        func date(_ column: String) throws -> Date? {
            try row.decode(column: column, as: Int64?.self).map { Date(timeIntervalSince1970: Double($0) / 1000) }
        }
        guard let section = ReportSection(rawValue: try text("section")), let kind = TenantKind(rawValue: try text("tenant_kind")),
            let outcome = ReportOutcome(rawValue: try text("outcome"))
        else { throw StorageError.corrupted("unreadable report fact \(try text("id"))") }
        return ReportFact(
            id: try text("id"), receivedAt: Date(timeIntervalSince1970: Double(try row.decode(column: "received_ms", as: Int64.self)) / 1000),
            country: try text("country"), section: section, instrument: try text("instrument"), tenantKind: kind,
            accounts: try row.decode(column: "accounts", as: Int.self), outcome: outcome,
            isPreservation: try row.decode(column: "is_preservation", as: Int.self) != 0,
            isNationalSecurity: try row.decode(column: "is_national_security", as: Int.self) != 0, details: try details(from: row),
            tenantID: try row.decode(column: "tenant_id", as: String?.self), acknowledgedAt: try date("ack_ms"), effectAt: try date("effect_ms"),
            dsaCategory: try row.decode(column: "dsa_category", as: String?.self))
    }

    static func details(from row: any SQLRow) throws -> ReportCaseDetails? {
        guard try row.decode(column: "has_details", as: Int.self) != 0 else { return nil }
        return ReportCaseDetails(
            nonDisclosure: try row.decode(column: "nondisclosure", as: String?.self).flatMap(ReportCaseDetails.NonDisclosure.init(rawValue:)),
            notice: try row.decode(column: "notice", as: String?.self).flatMap(ReportCaseDetails.Notice.init(rawValue:)),
            challenge: try row.decode(column: "challenge", as: String?.self).flatMap(ReportCaseDetails.Challenge.init(rawValue:)),
            emergencyVerificationFailed: try row.decode(column: "emergency_failed", as: Int.self) != 0,
            cloudAct: try row.decode(column: "cloud_act", as: Int.self) != 0, redFlags: try row.decode(column: "red_flags", as: String?.self))
    }
}
