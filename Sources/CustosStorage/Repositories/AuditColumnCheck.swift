import CustosDomain
import FluentKit
import Foundation
import SQLKit

/// The columns `audit_entries` keeps beside the hashed `body` (`case_id`, `subject`, `action`,
/// `outcome`, `actor`, `at`) are copies for filtering: the case timeline selects by `case_id`.
/// Only the body is hashed into the chain and the Merkle log, so a copy changed in the database
/// would go unseen by the hash check. This holds every copy against the body it was taken from.
///
/// The comparison runs in the database (SQLite's and PostgreSQL's own JSON functions), one range
/// of sequences per query, and returns only the rows that differ: verification reads a million
/// entries, and parsing each body again in Swift would cost more than hashing it.
extension MerkleLogStore {
    /// A stored audit row whose columns disagree with its hashed body.
    public struct AuditColumnMismatch: Sendable, Equatable {
        public var sequence: Int
        /// The columns that differ, by their stored names (`case_id`, `subject`, ...).
        public var columns: [String]
    }

    /// The columns compared, in the order the queries return their flags.
    public static let auditCopyColumns = ["case_id", "subject", "action", "outcome", "actor", "at"]

    /// The rows with sequences in `(afterSequence, afterSequence + limit]` whose columns differ
    /// from their body. A body that is not JSON is left out here (the hash check names it).
    /// `at` agrees when the column and the body's timestamp (kept to the millisecond) lie less
    /// than a millisecond apart; the other columns must be equal.
    public func auditColumnMismatches(afterSequence: Int, limit: Int) async throws -> [AuditColumnMismatch] {
        let range: (Int, Int) = (afterSequence, afterSequence + limit)
        let rows: [any SQLRow]
        if isPostgres {
            // One parse per row (json_to_record); `json`, not `jsonb`, which refuses some text
            // that a body may hold. The body's case id is upper case (`UUID.uuidString`).
            let differs = [
                #"lower(r."caseID") IS DISTINCT FROM e.case_id::text"#, "r.subject IS DISTINCT FROM e.subject",
                "r.action IS DISTINCT FROM e.action", "r.outcome IS DISTINCT FROM e.outcome", "r.actor IS DISTINCT FROM e.actor",
                "r.at IS NULL OR abs(extract(epoch FROM (r.at::timestamptz - e.at))) >= 0.001",
            ]
            rows = try await store.sql.raw("""
                SELECT * FROM (
                    SELECT e.sequence, \(unsafeRaw: zip(differs, Self.auditCopyColumns).map { "(\($0)) AS \($1)" }.joined(separator: ", "))
                    FROM audit_entries e,
                        LATERAL json_to_record(e.body::json) AS r(action text, actor text, at text, "caseID" text, outcome text, subject text)
                    WHERE e.sequence > \(bind: range.0) AND e.sequence <= \(bind: range.1)
                ) d WHERE case_id OR subject OR action OR outcome OR actor OR at
                ORDER BY sequence
                """).all()
        } else {
            // SQLite keeps a UUID as its upper-case text and a date as seconds since 1970; it
            // caches a body's parse between the calls on it.
            let differs = """
                json_extract(body, '$.caseID') IS NOT case_id AS case_id,
                json_extract(body, '$.subject') IS NOT subject AS subject,
                json_extract(body, '$.action') IS NOT action AS action,
                json_extract(body, '$.outcome') IS NOT outcome AS outcome,
                json_extract(body, '$.actor') IS NOT actor AS actor,
                coalesce(abs(unixepoch(json_extract(body, '$.at'), 'subsec') - at) >= 0.001, 1) AS at
                """
            rows = try await store.sql.raw("""
                SELECT * FROM (
                    SELECT sequence, \(unsafeRaw: differs) FROM audit_entries
                    WHERE sequence > \(bind: range.0) AND sequence <= \(bind: range.1) AND json_valid(body)
                ) WHERE case_id OR subject OR action OR outcome OR actor OR at
                ORDER BY sequence
                """).all()
        }
        return try rows.map { row in
            AuditColumnMismatch(
                sequence: try row.decode(column: "sequence", as: Int.self),
                columns: try Self.auditCopyColumns.filter { try row.decode(column: $0, as: Bool.self) })
        }
    }
}
