import FluentKit

/// 025: consecutive wrong passwords per principal and the lock they caused (issue 10, `LoginThrottle`).
struct M025_LoginThrottle: AsyncMigration {
    var name: String { "025_LoginThrottle" }

    func prepare(on database: any Database) async throws {
        try await database.schema("principals").field("failed_logins", .int, .required, .sql(.default(0))).update()
        try await database.schema("principals").field("locked_until", .datetime).update()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("principals").deleteField("locked_until").update()
        try await database.schema("principals").deleteField("failed_logins").update()
    }
}
