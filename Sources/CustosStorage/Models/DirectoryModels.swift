import FluentKit
import Foundation

// Fluent row types. They are `@unchecked Sendable` because fluent-kit requires reference types;
// they never leave CustosStorage: repositories convert them to domain values.

final class AgencyRow: Model, @unchecked Sendable {
    static let schema = "agencies"
    @ID(key: .id) var id: UUID?
    @Field(key: "name") var name: String
    @Field(key: "country") var country: String
    @Field(key: "kind") var kind: String
    /// Official e-mail domains, lower-case, separated by spaces.
    @Field(key: "domains") var domains: String
    /// JSON array of `AgencyPhone`.
    @Field(key: "phones") var phones: String
    // By hand, not by reflection (see ModelProperties.swift).
    var properties: [any AnyProperty] { [$id, $name, $country, $kind, $domains, $phones] }
    init() {}
}

final class TenantRow: Model, @unchecked Sendable {
    static let schema = "tenants"
    @ID(key: .id) var id: UUID?
    @Field(key: "name") var name: String
    @Field(key: "kind") var kind: String
    @OptionalField(key: "country") var country: String?
    @OptionalField(key: "residence") var residence: String?
    @OptionalField(key: "data_location") var dataLocation: String?
    // By hand, not by reflection (see ModelProperties.swift).
    var properties: [any AnyProperty] { [$id, $name, $kind, $country, $residence, $dataLocation] }
    init() {}
}

final class AccountRow: Model, @unchecked Sendable {
    static let schema = "customer_accounts"
    @ID(key: .id) var id: UUID?
    @Field(key: "tenant_id") var tenantID: UUID
    @Field(key: "account_id") var accountID: String
    @OptionalField(key: "email") var email: String?
    @OptionalField(key: "username") var username: String?
    @OptionalField(key: "service_id") var serviceID: UUID?
    // By hand, not by reflection (see ModelProperties.swift).
    var properties: [any AnyProperty] { [$id, $tenantID, $accountID, $email, $username, $serviceID] }
    init() {}
}

final class ContactRow: Model, @unchecked Sendable {
    static let schema = "customer_contacts"
    @ID(key: .id) var id: UUID?
    @Field(key: "tenant_id") var tenantID: UUID
    @Field(key: "name") var name: String
    @Field(key: "email") var email: String
    // By hand, not by reflection (see ModelProperties.swift).
    var properties: [any AnyProperty] { [$id, $tenantID, $name, $email] }
    init() {}
}

final class ServiceRow: Model, @unchecked Sendable {
    static let schema = "customer_services"
    @ID(key: .id) var id: UUID?
    @Field(key: "tenant_id") var tenantID: UUID
    @Field(key: "name") var name: String
    @Field(key: "is_unlinked") var isUnlinked: Bool
    // By hand, not by reflection (see ModelProperties.swift).
    var properties: [any AnyProperty] { [$id, $tenantID, $name, $isUnlinked] }
    init() {}
}

final class PrincipalRow: Model, @unchecked Sendable {
    static let schema = "principals"
    @ID(key: .id) var id: UUID?
    @Field(key: "email") var email: String
    @Field(key: "display_name") var displayName: String
    @Field(key: "kind") var kind: String
    /// Comma-separated staff roles.
    @Field(key: "roles") var roles: String
    @OptionalField(key: "agency_id") var agencyID: UUID?
    @OptionalField(key: "tenant_id") var tenantID: UUID?
    @Field(key: "password_hash") var passwordHash: String
    @Field(key: "is_disabled") var isDisabled: Bool
    @Field(key: "created_at") var createdAt: Date
    /// `RequesterStanding` (issue 8); staff and customers stay `active`.
    @Field(key: "standing") var standing: String
    @Field(key: "may_request_emergency") var mayRequestEmergency: Bool
    /// When the password was last reset (a red flag while recent).
    @OptionalField(key: "credentials_reset_at") var credentialsResetAt: Date?
    /// The TOTP secret (base32); set up only once `totp_enrolled_at` is set (issue 8).
    @OptionalField(key: "totp_secret") var totpSecret: String?
    @OptionalField(key: "totp_enrolled_at") var totpEnrolledAt: Date?
    /// The last time step a code was accepted for; no step at or before it is accepted again.
    @OptionalField(key: "totp_last_step") var totpLastStep: Int64?
    /// Who won the last race to use a step (a conditional update writes it, a read confirms it).
    @OptionalField(key: "totp_claim") var totpClaim: UUID?
    /// Wrong passwords in a row, and the lock they caused (`LoginThrottle`).
    @Field(key: "failed_logins") var failedLogins: Int
    @OptionalField(key: "locked_until") var lockedUntil: Date?
    // By hand, not by reflection (see ModelProperties.swift).
    var properties: [any AnyProperty] {
        [
            $id, $email, $displayName, $kind, $roles, $agencyID, $tenantID, $passwordHash, $isDisabled, $createdAt, $standing,
            $mayRequestEmergency, $credentialsResetAt, $totpSecret, $totpEnrolledAt, $totpLastStep, $totpClaim, $failedLogins, $lockedUntil
        ]
    }
    init() {}
}

/// A one-time recovery code, kept only as a hash (issue 8).
final class RecoveryCodeRow: Model, @unchecked Sendable {
    static let schema = "recovery_codes"
    @ID(key: .id) var id: UUID?
    @Field(key: "principal_id") var principalID: UUID
    @Field(key: "code_hash") var codeHash: String
    @Field(key: "created_at") var createdAt: Date
    @OptionalField(key: "used_at") var usedAt: Date?
    @OptionalField(key: "used_claim") var usedClaim: UUID?
    // By hand, not by reflection (see ModelProperties.swift).
    var properties: [any AnyProperty] { [$id, $principalID, $codeHash, $createdAt, $usedAt, $usedClaim] }
    init() {}
}

/// A sign-in between a correct password and the second factor: not a session, and it opens no page
/// but the code or set-up form.
final class LoginChallengeRow: Model, @unchecked Sendable {
    static let schema = "login_challenges"
    @ID(key: .id) var id: UUID?
    /// SHA-256 of the cookie value.
    @Field(key: "token_hash") var tokenHash: String
    @Field(key: "principal_id") var principalID: UUID
    @Field(key: "stage") var stage: String
    @Field(key: "csrf_token") var csrfToken: String
    @Field(key: "next_path") var nextPath: String
    @Field(key: "attempts") var attempts: Int
    @Field(key: "created_at") var createdAt: Date
    @Field(key: "expires_at") var expiresAt: Date
    // By hand, not by reflection (see ModelProperties.swift).
    var properties: [any AnyProperty] { [$id, $tokenHash, $principalID, $stage, $csrfToken, $nextPath, $attempts, $createdAt, $expiresAt] }
    init() {}
}

/// One change of a requester's standing or emergency permission (issue 8).
final class StandingChangeRow: Model, @unchecked Sendable {
    static let schema = "standing_changes"
    @ID(key: .id) var id: UUID?
    @Field(key: "principal_id") var principalID: UUID
    @Field(key: "standing") var standing: String
    @Field(key: "may_request_emergency") var mayRequestEmergency: Bool
    @Field(key: "reason") var reason: String
    @Field(key: "actor") var actor: String
    @Field(key: "at") var at: Date
    // By hand, not by reflection (see ModelProperties.swift).
    var properties: [any AnyProperty] { [$id, $principalID, $standing, $mayRequestEmergency, $reason, $actor, $at] }
    init() {}
}

final class SessionRow: Model, @unchecked Sendable {
    static let schema = "sessions"
    @ID(key: .id) var id: UUID?
    /// SHA-256 of the cookie value; the cookie itself is never stored.
    @Field(key: "token_hash") var tokenHash: String
    @Field(key: "principal_id") var principalID: UUID
    @Field(key: "csrf_token") var csrfToken: String
    @Field(key: "created_at") var createdAt: Date
    @Field(key: "expires_at") var expiresAt: Date
    /// The session began with a second factor (issue 8).
    @Field(key: "second_factor") var secondFactor: Bool
    // By hand, not by reflection (see ModelProperties.swift).
    var properties: [any AnyProperty] { [$id, $tokenHash, $principalID, $csrfToken, $createdAt, $expiresAt, $secondFactor] }
    init() {}
}

final class APITokenRow: Model, @unchecked Sendable {
    static let schema = "api_tokens"
    @ID(key: .id) var id: UUID?
    @Field(key: "principal_id") var principalID: UUID
    /// SHA-256 of the token; the token is shown once and never stored.
    @Field(key: "token_hash") var tokenHash: String
    @Field(key: "label") var label: String
    @Field(key: "created_at") var createdAt: Date
    @OptionalField(key: "revoked_at") var revokedAt: Date?
    // By hand, not by reflection (see ModelProperties.swift).
    var properties: [any AnyProperty] { [$id, $principalID, $tokenHash, $label, $createdAt, $revokedAt] }
    init() {}
}

/// A tenant's webhook endpoint for customer notices.
final class TenantWebhookRow: Model, @unchecked Sendable {
    static let schema = "tenant_webhooks"
    @ID(key: .id) var id: UUID?
    @Field(key: "tenant_id") var tenantID: UUID
    @Field(key: "url") var url: String
    @Field(key: "secret") var secret: String
    @Field(key: "created_at") var createdAt: Date
    // By hand, not by reflection (see ModelProperties.swift).
    var properties: [any AnyProperty] { [$id, $tenantID, $url, $secret, $createdAt] }
    init() {}
}

/// One blocklisted address or domain, local or from another installation's feed (issue 8).
final class BlocklistRow: Model, @unchecked Sendable {
    static let schema = "blocklist_entries"
    @ID(key: .id) var id: UUID?
    @Field(key: "source") var source: String
    @Field(key: "kind") var kind: String
    @Field(key: "value") var value: String
    @Field(key: "hashed") var hashed: Bool
    @Field(key: "reason") var reason: String
    @Field(key: "added_by") var addedBy: String
    @Field(key: "added_at") var addedAt: Date
    // By hand, not by reflection (see ModelProperties.swift).
    var properties: [any AnyProperty] { [$id, $source, $kind, $value, $hashed, $reason, $addedBy, $addedAt] }
    init() {}
}

/// A self-registration in the agency portal and the confirmation of its address (issue 8).
final class AgencyRegistrationRow: Model, @unchecked Sendable {
    static let schema = "agency_registrations"
    @ID(key: .id) var id: UUID?
    @Field(key: "principal_id") var principalID: UUID
    /// SHA-256 of the confirmation link's token.
    @Field(key: "token_hash") var tokenHash: String
    @Field(key: "requested_at") var requestedAt: Date
    @Field(key: "expires_at") var expiresAt: Date
    @OptionalField(key: "confirmed_at") var confirmedAt: Date?
    @OptionalField(key: "remote_address") var remoteAddress: String?
    // By hand, not by reflection (see ModelProperties.swift).
    var properties: [any AnyProperty] { [$id, $principalID, $tokenHash, $requestedAt, $expiresAt, $confirmedAt, $remoteAddress] }
    init() {}
}
