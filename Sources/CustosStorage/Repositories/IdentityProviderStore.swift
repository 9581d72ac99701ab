import CustosDomain
import FluentKit
import Foundation
import SQLKit

/// Staff sign-in through the provider's identity provider (issue 28, part 4): the sign-ins begun
/// (state, nonce and PKCE verifier, taken once) and the staff accounts an issuer's subjects are.
public struct IdentityProviderStore: Sendable {
    let store: CustosDatabase
    public init(store: CustosDatabase) { self.store = store }

    /// What a sign-in must come back with.
    public struct Pending: Sendable, Equatable {
        public var nonce: String
        public var codeVerifier: String
        public var nextPath: String
        public init(nonce: String, codeVerifier: String, nextPath: String) {
            self.nonce = nonce
            self.codeVerifier = codeVerifier
            self.nextPath = nextPath
        }
    }

    /// Records a sign-in begun; `state` is stored only hashed (it is a bearer value in a URL).
    public func begin(state: String, _ pending: Pending, expires: Date, at time: Date) async throws {
        let sql = store.sql
        try await sql.raw("DELETE FROM oidc_sign_ins WHERE expires_ms < \(bind: Keyring.milliseconds(time))").run()
        try await sql.raw("""
            INSERT INTO oidc_sign_ins (state_hash, nonce, code_verifier, next_path, expires_ms)
            VALUES (\(bind: SQLIdentityRepository.digest(state)), \(bind: pending.nonce), \(bind: pending.codeVerifier), \(bind: pending.nextPath), \(bind: Keyring.milliseconds(expires)))
            """).run()
    }

    /// Takes the sign-in begun with `state`, once: nil when unknown, already used or expired.
    public func take(state: String, at time: Date) async throws -> Pending? {
        let row = try await store.sql.raw("""
            DELETE FROM oidc_sign_ins WHERE state_hash = \(bind: SQLIdentityRepository.digest(state))
            RETURNING nonce, code_verifier, next_path, expires_ms
            """).first()
        guard let row, try row.decode(column: "expires_ms", as: Int64.self) > Keyring.milliseconds(time) else { return nil }
        return Pending(
            nonce: try row.decode(column: "nonce", as: String.self), codeVerifier: try row.decode(column: "code_verifier", as: String.self),
            nextPath: try row.decode(column: "next_path", as: String.self))
    }

    /// Who signed in, as the identity provider vouches for them.
    public struct Person: Sendable, Equatable {
        public var issuer: String
        public var subject: String
        public var email: String
        public var displayName: String
        public var roles: Set<StaffRole>
        /// The values of the mapped claim, for the audit entry.
        public var groups: [String]
        public init(issuer: String, subject: String, email: String, displayName: String, roles: Set<StaffRole>, groups: [String]) {
            self.issuer = issuer
            self.subject = subject
            self.email = email
            self.displayName = displayName
            self.roles = roles
            self.groups = groups
        }
    }

    /// The staff principal `person` is, in one transaction with its audit entries: the account
    /// linked to the issuer's subject, else the staff account with that address (linked now), else
    /// a new one without a password. Its roles become the ones the mapping gives (the identity
    /// provider's directory decides); a change is audited with both sets.
    public func signIn(_ person: Person, at time: Date) async throws -> Principal {
        let isPostgres = store.location.isPostgres
        return try await store.database.transaction { tx in
            let sql = tx as! any SQLDatabase
            var audit: [AuditRecord] = []
            let linked = try await sql.raw("SELECT principal_id FROM external_identities WHERE issuer = \(bind: person.issuer) AND subject = \(bind: person.subject)")
                .first()?.decode(column: "principal_id", as: UUID.self)
            var row: PrincipalRow
            if let linked, let found = try await PrincipalRow.find(linked, on: tx) {
                row = found
            } else {
                if let found = try await PrincipalRow.query(on: tx).filter(\.$email == person.email.lowercased()).first() {
                    guard found.kind == PrincipalKind.staff.rawValue else {
                        throw StorageError.conflict("\(person.email) belongs to a \(found.kind) account, not a staff account")
                    }
                    row = found
                } else {
                    row = PrincipalRow()
                    row.id = UUID()
                    row.email = person.email.lowercased()
                    row.displayName = person.displayName
                    row.kind = PrincipalKind.staff.rawValue
                    row.roles = ""
                    // No password: this account signs in through the identity provider only.
                    row.passwordHash = ""
                    row.isDisabled = false
                    row.createdAt = time
                    row.standing = RequesterStanding.active.rawValue
                    row.mayRequestEmergency = false
                    row.failedLogins = 0
                    try await row.create(on: tx)
                    audit.append(AuditRecord(
                        caseID: nil, subject: "principal:\(row.id!.uuidString.lowercased())", action: "identity.staff_created", actor: "identity provider", at: time,
                        details: ["email": row.email, "issuer": person.issuer, "subject": person.subject]))
                }
                try await sql.raw("""
                    INSERT INTO external_identities (issuer, subject, principal_id, linked_ms)
                    VALUES (\(bind: person.issuer), \(bind: person.subject), \(bind: row.id!), \(bind: Keyring.milliseconds(time)))
                    """).run()
            }
            guard !row.isDisabled else { throw StorageError.conflict("the account \(row.email) is disabled in Custos") }
            let roles = person.roles.sorted().map(\.rawValue).joined(separator: ",")
            let principalSubject = "principal:\(row.id!.uuidString.lowercased())"
            if row.roles != roles {
                audit.append(AuditRecord(
                    caseID: nil, subject: principalSubject, action: "identity.roles_changed", actor: "identity provider", at: time,
                    details: ["email": row.email, "from": row.roles, "to": roles, "groups": person.groups.joined(separator: ",")]))
                row.roles = roles
                try await row.update(on: tx)
            }
            audit.append(AuditRecord(
                caseID: nil, subject: principalSubject, action: "identity.signed_in", actor: row.email, at: time,
                details: ["via": "openid connect", "issuer": person.issuer, "subject": person.subject, "roles": roles]))
            try await AuditWriter.append(audit, on: tx, isPostgres: isPostgres)
            return try row.domain()
        }
    }

    /// Whether the principal signs in through an identity provider (its sign-out goes there too).
    public func isLinked(principalID: UUID) async throws -> Bool {
        try await store.sql.raw("SELECT 1 AS linked FROM external_identities WHERE principal_id = \(bind: principalID)").first() != nil
    }
}
