import FluentKit
import Foundation

/// 009: the requester's expiring, revocable access to a released package (C3).
struct M009_CreatePackageLinks: AsyncMigration {
    var name: String { "009_CreatePackageLinks" }

    func prepare(on database: any Database) async throws {
        try await database.schema("package_links")
            .id()
            .field("case_id", .uuid, .required, .references("cases", "id"))
            .field("agency_id", .uuid, .required)
            .field("created_at", .datetime, .required)
            .field("expires_at", .datetime, .required)
            .field("revoked_at", .datetime)
            .unique(on: "case_id")
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("package_links").delete()
    }
}
