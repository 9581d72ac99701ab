import FluentKit
import SQLKit

/// 026: an index on the blocklist's values, so an incoming demand looks up only the few entries
/// its sender could match (`BlocklistStore.entries(matching:)`) instead of reading the whole list,
/// which grows with every feed the installation takes.
struct M026_BlocklistValueIndex: AsyncMigration {
    var name: String { "026_BlocklistValueIndex" }

    func prepare(on database: any Database) async throws {
        try await (database as! any SQLDatabase).create(index: "blocklist_entries_value").on("blocklist_entries").column("value").run()
    }

    func revert(on database: any Database) async throws {
        try await (database as! any SQLDatabase).drop(index: "blocklist_entries_value").run()
    }
}
