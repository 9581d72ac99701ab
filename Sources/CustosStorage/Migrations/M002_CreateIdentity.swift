import Foundation
import FluentKit

/// 002: principals (staff, agency and customer users), cookie sessions and API tokens.
struct M002_CreateIdentity: AsyncMigration {
    var name: String { "002_CreateIdentity" }

    func prepare(on database: any Database) async throws {
        try await database.schema("principals")
            .id()
            .field("email", .string, .required)
            .field("display_name", .string, .required)
            .field("kind", .string, .required)
            .field("roles", .string, .required)
            .field("agency_id", .uuid, .references("agencies", "id"))
            .field("tenant_id", .uuid, .references("tenants", "id"))
            .field("password_hash", .string, .required)
            .field("is_disabled", .bool, .required)
            .field("created_at", .datetime, .required)
            .unique(on: "email")
            .create()
        try await database.schema("sessions")
            .id()
            .field("token_hash", .string, .required)
            .field("principal_id", .uuid, .required, .references("principals", "id"))
            .field("csrf_token", .string, .required)
            .field("created_at", .datetime, .required)
            .field("expires_at", .datetime, .required)
            .unique(on: "token_hash")
            .create()
        try await database.schema("api_tokens")
            .id()
            .field("principal_id", .uuid, .required, .references("principals", "id"))
            .field("token_hash", .string, .required)
            .field("label", .string, .required)
            .field("created_at", .datetime, .required)
            .field("revoked_at", .datetime)
            .unique(on: "token_hash")
            .create()
    }

    func revert(on database: any Database) async throws {
        for table in ["api_tokens", "sessions", "principals"] {
            try await database.schema(table).delete()
        }
    }
}
