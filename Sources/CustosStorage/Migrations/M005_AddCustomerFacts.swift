import FluentKit
import Foundation

/// 005: where a tenant resides and keeps its data, which the rulebook needs for GDPR Art. 48 and
/// CLOUD Act § 2703(h) checks. Both are optional: an unknown fact never satisfies a rule.
struct M005_AddCustomerFacts: AsyncMigration {
    var name: String { "005_AddCustomerFacts" }

    func prepare(on database: any Database) async throws {
        try await database.schema("tenants").field("residence", .string).update()
        try await database.schema("tenants").field("data_location", .string).update()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("tenants").deleteField("data_location").update()
        try await database.schema("tenants").deleteField("residence").update()
    }
}
