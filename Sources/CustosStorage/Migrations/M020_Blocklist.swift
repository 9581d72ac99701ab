import FluentKit
import SQLKit

/// 020: the requester blocklist (issue 8): compromised addresses and domains added here
/// (`source` = `local`) or received from another installation's signed feed (`source` = the feed
/// key's name, whose entries a newer feed from the same key replaces).
struct M020_Blocklist: AsyncMigration {
    var name: String { "020_Blocklist" }

    func prepare(on database: any Database) async throws {
        try await database.schema("blocklist_entries")
            .id()
            .field("source", .string, .required)
            .field("kind", .string, .required)
            .field("value", .string, .required)
            .field("hashed", .bool, .required)
            .field("reason", .string, .required)
            .field("added_by", .string, .required)
            .field("added_at", .datetime, .required)
            .unique(on: "source", "kind", "value", "hashed")
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("blocklist_entries").delete()
    }
}
