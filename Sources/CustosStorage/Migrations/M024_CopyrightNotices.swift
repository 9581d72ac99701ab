import FluentKit
import SQLKit

/// 024: copyright notices (issue 9, 17 U.S.C. § 512): each notice with its state and the whole
/// case as JSON; the strikes of the repeat-infringer policy; suspension cases opened when a
/// customer reaches the threshold; and the hosts each customer serves, which route a notice's
/// URLs to the customer hosting them.
struct M024_CopyrightNotices: AsyncMigration {
    var name: String { "024_CopyrightNotices" }

    func prepare(on database: any Database) async throws {
        try await database.schema("copyright_notices")
            .id()
            .field("number", .string, .required)
            .field("state", .string, .required)
            .field("tenant_id", .uuid, .references("tenants", "id"))
            .field("received_at", .datetime, .required)
            .field("updated_at", .datetime, .required)
            .field("response_due_at", .datetime)
            .field("version", .int, .required)
            .field("complainant_email", .string, .required)
            .field("token_hash", .string, .required)
            .field("body", .string, .required)
            .unique(on: "number")
            .unique(on: "token_hash")
            .create()
        try await database.schema("copyright_strikes")
            .id()
            .field("tenant_id", .uuid, .required, .references("tenants", "id"))
            .field("notice_id", .uuid, .required, .references("copyright_notices", "id"))
            .field("at", .datetime, .required)
            .field("withdrawn_at", .datetime)
            .unique(on: "notice_id")
            .create()
        try await database.schema("suspension_cases")
            .id()
            .field("tenant_id", .uuid, .required, .references("tenants", "id"))
            .field("opened_at", .datetime, .required)
            .field("state", .string, .required)
            .field("notices", .string, .required)
            .field("decided_at", .datetime)
            .field("decided_by", .string)
            .field("note", .string)
            .create()
        try await database.schema("tenant_hosts")
            .id()
            .field("tenant_id", .uuid, .required, .references("tenants", "id"))
            .field("host", .string, .required)
            .unique(on: "host")
            .create()
        let sql = database as! any SQLDatabase
        try await sql.raw("CREATE INDEX copyright_notices_state_idx ON copyright_notices (state, response_due_at)").run()
        try await sql.raw("CREATE INDEX copyright_strikes_tenant_idx ON copyright_strikes (tenant_id, at)").run()
    }

    func revert(on database: any Database) async throws {
        for table in ["tenant_hosts", "suspension_cases", "copyright_strikes", "copyright_notices"] {
            try await database.schema(table).delete()
        }
    }
}
