import FluentKit

/// 030: staff sign-in through the provider's OpenID Connect provider (issue 28, part 4).
/// - `oidc_sign_ins`: each sign-in begun, by its `state` (RFC 6749 §10.12), with the nonce
///   (OpenID Connect Core §3.1.2.1) and the PKCE verifier (RFC 7636) it must come back with; in the
///   database so that the callback may reach any instance; taken once, and only for ten minutes;
/// - `external_identities`: which principal an issuer's subject is (the `sub` never changes, an
///   address may).
struct M030_IdentityProvider: AsyncMigration {
    var name: String { "030_IdentityProvider" }

    func prepare(on database: any Database) async throws {
        try await database.schema("oidc_sign_ins")
            .field("state_hash", .string, .identifier(auto: false))
            .field("nonce", .string, .required)
            .field("code_verifier", .string, .required)
            .field("next_path", .string, .required)
            .field("expires_ms", .int64, .required)
            .create()
        try await database.schema("external_identities")
            .field("issuer", .string, .required)
            .field("subject", .string, .required)
            .field("principal_id", .uuid, .required, .references("principals", "id"))
            .field("linked_ms", .int64, .required)
            .compositeIdentifier(over: "issuer", "subject")
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("external_identities").delete()
        try await database.schema("oidc_sign_ins").delete()
    }
}
