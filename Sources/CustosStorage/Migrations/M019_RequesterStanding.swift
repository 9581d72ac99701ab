import FluentKit
import SQLKit

/// 019: requester standing (issue 8). Each principal has a standing (`active` for every account
/// created before, as they were all created by staff) and an emergency permission (off: deny
/// unless allowed), and every change is kept with who made it and why.
struct M019_RequesterStanding: AsyncMigration {
    var name: String { "019_RequesterStanding" }

    func prepare(on database: any Database) async throws {
        try await database.schema("principals").field("standing", .string, .required, .sql(.default("active"))).update()
        try await database.schema("principals").field("may_request_emergency", .bool, .required, .sql(.default(false))).update()
        try await database.schema("standing_changes")
            .id()
            .field("principal_id", .uuid, .required, .references("principals", "id"))
            .field("standing", .string, .required)
            .field("may_request_emergency", .bool, .required)
            .field("reason", .string, .required)
            .field("actor", .string, .required)
            .field("at", .datetime, .required)
            .create()
        try await (database as! any SQLDatabase).raw("CREATE INDEX standing_changes_principal_idx ON standing_changes (principal_id, at)").run()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("standing_changes").delete()
        try await database.schema("principals").deleteField("may_request_emergency").update()
        try await database.schema("principals").deleteField("standing").update()
    }
}
