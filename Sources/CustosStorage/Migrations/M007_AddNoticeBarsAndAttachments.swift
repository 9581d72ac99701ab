import FluentKit
import Foundation
import SQLKit

/// 007: the kind of bar each notice was planned under (so indefinite bars can be counted after
/// they lift), and documents the customer sends with an objection (C8).
struct M007_AddNoticeBarsAndAttachments: AsyncMigration {
    var name: String { "007_AddNoticeBarsAndAttachments" }

    func prepare(on database: any Database) async throws {
        try await database.schema("customer_notices").field("bar", .string).update()
        try await database.schema("case_attachments")
            .id()
            .field("case_id", .uuid, .required, .references("cases", "id"))
            .field("uploaded_by", .string, .required)
            .field("filename", .string, .required)
            .field("media_type", .string, .required)
            .field("byte_count", .int, .required)
            .field("sha256", .string, .required)
            .field("content", .data, .required)
            .field("created_at", .datetime, .required)
            .create()
        let sql = database as! any SQLDatabase
        try await sql.raw("CREATE INDEX case_attachments_case_idx ON case_attachments (case_id)").run()
        try await sql.raw("CREATE INDEX notices_bar_idx ON customer_notices (bar, created_at)").run()
    }

    func revert(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        try await sql.raw("DROP INDEX notices_bar_idx").run()
        try await sql.raw("DROP INDEX case_attachments_case_idx").run()
        try await database.schema("case_attachments").delete()
        try await database.schema("customer_notices").deleteField("bar").update()
    }
}
