import FluentKit
import SQLKit

/// 014: closed transparency-report periods (issue 7): the frozen report's canonical JSON, its
/// SHA-256, the signed note committing to it, and where its `report` entry sits in the public
/// legal-process log with the range of log entries it counts. One row per period, never rewritten.
struct M014_CreateReportPeriods: AsyncMigration {
    var name: String { "014_CreateReportPeriods" }

    func prepare(on database: any Database) async throws {
        try await (database as! any SQLDatabase).raw("""
            CREATE TABLE report_periods (period TEXT PRIMARY KEY, report_json TEXT NOT NULL, sha256 TEXT NOT NULL, note TEXT NOT NULL,
            closed_at TEXT NOT NULL, closed_by TEXT NOT NULL, log_index BIGINT NOT NULL, range_start BIGINT NOT NULL, range_end BIGINT NOT NULL)
            """).run()
    }

    func revert(on database: any Database) async throws {
        try await (database as! any SQLDatabase).raw("DROP TABLE report_periods").run()
    }
}
