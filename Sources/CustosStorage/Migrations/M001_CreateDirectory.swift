import Foundation
import FluentKit

/// 001: agencies, tenants and their accounts, contacts and services.
struct M001_CreateDirectory: AsyncMigration {
    var name: String { "001_CreateDirectory" }

    func prepare(on database: any Database) async throws {
        try await database.schema("agencies")
            .id()
            .field("name", .string, .required)
            .field("country", .string, .required)
            .field("kind", .string, .required)
            .unique(on: "name")
            .create()
        try await database.schema("tenants")
            .id()
            .field("name", .string, .required)
            .field("kind", .string, .required)
            .field("country", .string)
            .unique(on: "name")
            .create()
        try await database.schema("customer_services")
            .id()
            .field("tenant_id", .uuid, .required, .references("tenants", "id"))
            .field("name", .string, .required)
            .field("is_unlinked", .bool, .required)
            .create()
        try await database.schema("customer_accounts")
            .id()
            .field("tenant_id", .uuid, .required, .references("tenants", "id"))
            .field("account_id", .string, .required)
            .field("email", .string)
            .field("username", .string)
            .field("service_id", .uuid, .references("customer_services", "id"))
            .unique(on: "account_id")
            .create()
        try await database.schema("customer_contacts")
            .id()
            .field("tenant_id", .uuid, .required, .references("tenants", "id"))
            .field("name", .string, .required)
            .field("email", .string, .required)
            .create()
    }

    func revert(on database: any Database) async throws {
        for table in ["customer_contacts", "customer_accounts", "customer_services", "tenants", "agencies"] {
            try await database.schema(table).delete()
        }
    }
}
