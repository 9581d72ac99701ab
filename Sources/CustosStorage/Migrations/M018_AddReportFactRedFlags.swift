import FluentKit
import SQLKit

/// 018: the red flags a closed case's requester raised (issue 8), as sorted codes separated by
/// spaces, so the report counts them.
struct M018_AddReportFactRedFlags: AsyncMigration {
    var name: String { "018_AddReportFactRedFlags" }

    func prepare(on database: any Database) async throws {
        try await (database as! any SQLDatabase).raw("ALTER TABLE report_facts ADD COLUMN red_flags TEXT").run()
    }

    func revert(on database: any Database) async throws {
        try await (database as! any SQLDatabase).raw("ALTER TABLE report_facts DROP COLUMN red_flags").run()
    }
}
