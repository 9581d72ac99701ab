import FluentKit

/// 023: agency users who registered themselves in the portal (issue 8). Their address is confirmed
/// by a link sent to it (the token kept only hashed); until then they cannot sign in, and until
/// staff approve them their standing stays `pending`.
struct M023_AgencyRegistrations: AsyncMigration {
    var name: String { "023_AgencyRegistrations" }

    func prepare(on database: any Database) async throws {
        try await database.schema("agency_registrations")
            .id()
            .field("principal_id", .uuid, .required, .references("principals", "id"))
            .field("token_hash", .string, .required)
            .field("requested_at", .datetime, .required)
            .field("expires_at", .datetime, .required)
            .field("confirmed_at", .datetime)
            .field("remote_address", .string)
            .unique(on: "principal_id")
            .unique(on: "token_hash")
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("agency_registrations").delete()
    }
}
