import Foundation
import FluentKit
import SQLKit

/// 004: indexes for the staff queue, agency listings and case timelines.
struct M004_AddIndexes: AsyncMigration {
    var name: String { "004_AddIndexes" }

    static let indexes: [(name: String, table: String, columns: String)] = [
        ("cases_state_due_idx", "cases", "state, is_emergency, due_at"),
        ("cases_agency_idx", "cases", "agency_id"),
        ("demands_agency_idx", "demands", "agency_id"),
        ("audit_case_idx", "audit_entries", "case_id, sequence"),
        ("outbox_pending_idx", "outbox", "delivered_at, created_at"),
        ("sessions_expiry_idx", "sessions", "expires_at"),
    ]

    func prepare(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        for index in Self.indexes {
            try await sql.raw("CREATE INDEX \(unsafeRaw: index.name) ON \(unsafeRaw: index.table) (\(unsafeRaw: index.columns))").run()
        }
    }

    func revert(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        for index in Self.indexes {
            try await sql.raw("DROP INDEX \(unsafeRaw: index.name)").run()
        }
    }
}
