import FluentKit
import SQLKit

/// 017: the agency directory (issue 8): each agency's official e-mail domains and its independently
/// sourced telephone numbers, the only numbers a verification callback may use (legal-rules.md §6.3
/// E2). Domains are a space-separated lower-case list; numbers a JSON array of `AgencyPhone`.
struct M017_AgencyDirectory: AsyncMigration {
    var name: String { "017_AgencyDirectory" }

    func prepare(on database: any Database) async throws {
        try await database.schema("agencies").field("domains", .string, .required, .sql(.default(""))).update()
        try await database.schema("agencies").field("phones", .string, .required, .sql(.default("[]"))).update()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("agencies").deleteField("phones").update()
        try await database.schema("agencies").deleteField("domains").update()
    }
}
