import FluentKit
import Foundation
import SQLKit

/// 006: customer notices (C5), and the outbox grows into a leased job queue: status, when to run,
/// who holds the lease until when, the last error, and a unique key so a job is queued once.
struct M006_CreateNoticesAndJobs: AsyncMigration {
    var name: String { "006_CreateNoticesAndJobs" }

    func prepare(on database: any Database) async throws {
        try await database.schema("customer_notices")
            .id()
            .field("case_id", .uuid, .required)
            .field("tenant_id", .uuid)
            .field("state", .string, .required)
            .field("hold_until", .datetime)
            .field("reminder_at", .datetime)
            .field("created_at", .datetime, .required)
            .field("updated_at", .datetime, .required)
            .field("body", .string, .required)
            .unique(on: "case_id")
            .create()
        // One column per statement: SQLite adds columns one ALTER TABLE at a time.
        try await database.schema("outbox").field("status", .string, .required, .sql(.default("pending"))).update()
        for (name, type) in [("run_at", DatabaseSchema.DataType.datetime), ("lease_until", .datetime), ("lease_owner", .string), ("last_error", .string), ("dedupe_key", .string)] {
            try await database.schema("outbox").field(FieldKey(stringLiteral: name), type).update()
        }
        let sql = database as! any SQLDatabase
        try await sql.raw("CREATE UNIQUE INDEX outbox_dedupe_idx ON outbox (dedupe_key)").run()
        try await sql.raw("CREATE INDEX outbox_due_idx ON outbox (status, run_at)").run()
        try await sql.raw("CREATE INDEX notices_hold_idx ON customer_notices (state, hold_until)").run()
        try await sql.raw("CREATE INDEX notices_tenant_idx ON customer_notices (tenant_id, state)").run()
    }

    func revert(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        try await sql.raw("DROP INDEX notices_tenant_idx").run()
        try await sql.raw("DROP INDEX notices_hold_idx").run()
        try await sql.raw("DROP INDEX outbox_due_idx").run()
        try await sql.raw("DROP INDEX outbox_dedupe_idx").run()
        for name in ["dedupe_key", "last_error", "lease_owner", "lease_until", "run_at", "status"] {
            try await database.schema("outbox").deleteField(FieldKey(stringLiteral: name)).update()
        }
        try await database.schema("customer_notices").delete()
    }
}
