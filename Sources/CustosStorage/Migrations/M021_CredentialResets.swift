import FluentKit

/// 021: when a principal's password was last reset (issue 8): a requester whose credentials were
/// reset recently raises a red flag, since a takeover often starts with a reset.
struct M021_CredentialResets: AsyncMigration {
    var name: String { "021_CredentialResets" }

    func prepare(on database: any Database) async throws {
        try await database.schema("principals").field("credentials_reset_at", .datetime).update()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("principals").deleteField("credentials_reset_at").update()
    }
}
