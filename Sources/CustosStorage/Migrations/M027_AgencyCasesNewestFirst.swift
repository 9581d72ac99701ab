import FluentKit
import SQLKit

/// 027: an agency's cases by when they opened, so "your demands" reads one page, newest first,
/// instead of sorting (and once decoding) every case the agency ever filed
/// (`SQLCaseRepository.listDemands`). It replaces the index on the agency alone, whose queries
/// the new one serves by its first column.
struct M027_AgencyCasesNewestFirst: AsyncMigration {
    var name: String { "027_AgencyCasesNewestFirst" }

    func prepare(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        try await sql.create(index: "cases_agency_opened_idx").on("cases").column("agency_id").column("opened_at").column("id").run()
        try await sql.drop(index: "cases_agency_idx").run()
    }

    func revert(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        try await sql.create(index: "cases_agency_idx").on("cases").column("agency_id").run()
        try await sql.drop(index: "cases_agency_opened_idx").run()
    }
}
