import FluentKit
import Foundation

/// 008: a tenant's own webhook endpoint for customer notices (C5), set by the provider's admin.
/// The signing secret is stored as is: Custos must sign with it, so it cannot be hashed.
struct M008_CreateTenantWebhooks: AsyncMigration {
    var name: String { "008_CreateTenantWebhooks" }

    func prepare(on database: any Database) async throws {
        try await database.schema("tenant_webhooks")
            .id()
            .field("tenant_id", .uuid, .required, .references("tenants", "id"))
            .field("url", .string, .required)
            .field("secret", .string, .required)
            .field("created_at", .datetime, .required)
            .unique(on: "tenant_id")
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("tenant_webhooks").delete()
    }
}
