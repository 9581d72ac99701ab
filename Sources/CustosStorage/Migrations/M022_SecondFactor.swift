import FluentKit
import SQLKit

/// 022: the second factor (issue 8). Each principal may hold a TOTP secret (set up once the first
/// code from it is typed correctly) and the last time step used, so no code is accepted twice
/// (RFC 6238 §5.2). Recovery codes are kept only as hashes. A sign-in between the password and the
/// code is a short-lived login challenge, never a session.
struct M022_SecondFactor: AsyncMigration {
    var name: String { "022_SecondFactor" }

    func prepare(on database: any Database) async throws {
        try await database.schema("principals").field("totp_secret", .string).update()
        try await database.schema("principals").field("totp_enrolled_at", .datetime).update()
        try await database.schema("principals").field("totp_last_step", .int64).update()
        try await database.schema("principals").field("totp_claim", .uuid).update()
        // Whether a session began with a second factor: recorded on each demand it submits.
        try await database.schema("sessions").field("second_factor", .bool, .required, .sql(.default(false))).update()
        try await database.schema("recovery_codes")
            .id()
            .field("principal_id", .uuid, .required, .references("principals", "id"))
            .field("code_hash", .string, .required)
            .field("created_at", .datetime, .required)
            .field("used_at", .datetime)
            .field("used_claim", .uuid)
            .create()
        try await (database as! any SQLDatabase).raw("CREATE INDEX recovery_codes_principal_idx ON recovery_codes (principal_id, code_hash)").run()
        try await database.schema("login_challenges")
            .id()
            .field("token_hash", .string, .required)
            .field("principal_id", .uuid, .required, .references("principals", "id"))
            .field("stage", .string, .required)
            .field("csrf_token", .string, .required)
            .field("next_path", .string, .required)
            .field("attempts", .int, .required)
            .field("created_at", .datetime, .required)
            .field("expires_at", .datetime, .required)
            .unique(on: "token_hash")
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("login_challenges").delete()
        try await database.schema("recovery_codes").delete()
        try await database.schema("sessions").deleteField("second_factor").update()
        for field in ["totp_claim", "totp_last_step", "totp_enrolled_at", "totp_secret"] {
            try await database.schema("principals").deleteField(FieldKey(stringLiteral: field)).update()
        }
    }
}
