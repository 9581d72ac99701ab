import FluentKit
import Foundation

/// 010: one row per package of a case (production or preservation snapshot): build progress,
/// what was built, and the tombstone once retention deleted it.
struct M010_CreatePackages: AsyncMigration {
    var name: String { "010_CreatePackages" }

    func prepare(on database: any Database) async throws {
        try await database.schema("packages")
            .id()
            .field("case_id", .uuid, .required, .references("cases", "id"))
            .field("purpose", .string, .required)
            .field("status", .string, .required)
            .field("records_read", .int, .required)
            .field("records_expected", .int)
            .field("requested_by", .string, .required)
            .field("queued_at", .datetime, .required)
            .field("updated_at", .datetime, .required)
            .field("built_at", .datetime)
            .field("files", .int)
            .field("bytes", .int64)
            .field("manifest_sha256", .string)
            .field("merkle_root", .string)
            .field("error", .string)
            .field("deleted_at", .datetime)
            .field("deletion_reason", .string)
            .unique(on: "case_id", "purpose")
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("packages").delete()
    }
}
