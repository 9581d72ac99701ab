import FluentKit
import SQLKit

/// 013: the transparency report's facts (issue 7): one row per closed case or imported historical
/// case, with only what the report counts. Times are milliseconds since 1970 and flags 0/1 so the
/// report's GROUP BY runs the same on both databases. The last six columns are the case details
/// (`ReportCaseDetails`), empty for imported history (`has_details` 0).
struct M013_CreateReportFacts: AsyncMigration {
    var name: String { "013_CreateReportFacts" }

    func prepare(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        try await sql.raw("""
            CREATE TABLE report_facts (id TEXT PRIMARY KEY, received_ms BIGINT NOT NULL, country TEXT NOT NULL, section TEXT NOT NULL,
            instrument TEXT NOT NULL, tenant_kind TEXT NOT NULL, accounts INTEGER NOT NULL, outcome TEXT NOT NULL,
            is_preservation INTEGER NOT NULL, is_national_security INTEGER NOT NULL, source TEXT NOT NULL, recorded_ms BIGINT NOT NULL,
            has_details INTEGER NOT NULL, nondisclosure TEXT, notice TEXT, challenge TEXT, emergency_failed INTEGER NOT NULL,
            cloud_act INTEGER NOT NULL, tenant_id TEXT)
            """).run()
        try await sql.raw("CREATE INDEX report_facts_received_idx ON report_facts (received_ms)").run()
    }

    func revert(on database: any Database) async throws {
        try await (database as! any SQLDatabase).raw("DROP TABLE report_facts").run()
    }
}
