import Crypto
import CustosDomain
import FluentKit
import Foundation

/// Principals, cookie sessions and API tokens. Session cookies and API tokens are stored only as
/// SHA-256 hashes, so a copy of the database gives no one a way in.
public struct SQLIdentityRepository: Sendable {
    let store: CustosDatabase

    public init(store: CustosDatabase) { self.store = store }

    public static func digest(_ secret: String) -> String {
        Hex.encode(SHA256.hash(data: Data(secret.utf8)))
    }

    /// A fresh 256-bit secret, base64url without padding.
    public static func makeSecret() -> String {
        let key = SymmetricKey(size: .bits256)
        return key.withUnsafeBytes { Data($0) }.base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    public func createPrincipal(_ principal: Principal, passwordHash: String, at time: Date) async throws {
        if try await PrincipalRow.query(on: store.database).filter(\.$email == principal.email.lowercased()).first() != nil {
            throw StorageError.conflict("a user with email \(principal.email) already exists")
        }
        let row = PrincipalRow()
        row.id = principal.id
        row.email = principal.email.lowercased()
        row.displayName = principal.displayName
        row.kind = principal.kind.rawValue
        row.roles = principal.roles.sorted().map(\.rawValue).joined(separator: ",")
        row.agencyID = principal.agencyID
        row.tenantID = principal.tenantID
        row.passwordHash = passwordHash
        row.isDisabled = false
        row.createdAt = time
        row.standing = RequesterStanding.active.rawValue
        row.mayRequestEmergency = false
        row.failedLogins = 0
        try await row.create(on: store.database)
    }

    /// Until when the principal's sign-in is locked after wrong passwords; nil when it is not.
    public func lockedUntil(principalID: UUID, at time: Date) async throws -> Date? {
        guard let until = try await PrincipalRow.find(principalID, on: store.database)?.lockedUntil, until > time else { return nil }
        return until
    }

    /// Counts a wrong password and returns the lock it causes, if any; a new lock is audited.
    public func recordFailedLogin(principalID: UUID, at time: Date) async throws -> Date? {
        let isPostgres = store.location.isPostgres
        return try await store.database.transaction { tx -> Date? in
            guard let row = try await PrincipalRow.find(principalID, on: tx) else { return nil }
            row.failedLogins += 1
            let until = LoginThrottle.lockedUntil(failures: row.failedLogins, lastFailureAt: time)
            row.lockedUntil = until
            try await row.update(on: tx)
            if let until {
                try await AuditWriter.append([AuditRecord(
                    caseID: nil, subject: "principal:\(principalID.uuidString.lowercased())", action: "principal.locked_out", actor: "system", at: time,
                    details: ["email": row.email, "failures": String(row.failedLogins), "until": Timestamp.format(until)])], on: tx, isPostgres: isPostgres)
            }
            return until
        }
    }

    /// A correct password: the count of wrong ones starts again.
    public func recordSuccessfulLogin(principalID: UUID) async throws {
        try await PrincipalRow.query(on: store.database).filter(\.$id == principalID).set(\.$failedLogins, to: 0).set(\.$lockedUntil, to: nil).update()
    }

    /// Every agency user, by e-mail (the requesters page).
    public func agencyUsers() async throws -> [Principal] {
        try await PrincipalRow.query(on: store.database).filter(\.$kind == PrincipalKind.agency.rawValue).sort(\.$email).all().map { try $0.domain() }
    }

    /// The agency users in a standing (the blocklisted ones go on the shared blocklist).
    public func principals(standing: RequesterStanding) async throws -> [Principal] {
        try await PrincipalRow.query(on: store.database).filter(\.$standing == standing.rawValue).sort(\.$email).all().map { try $0.domain() }
    }

    /// A requester's standing, emergency permission and their history (issue 8).
    public func requesterStatus(principalID: UUID) async throws -> RequesterStatus? {
        guard let facts = try await requesterFacts(principalID: principalID) else { return nil }
        let history = try await StandingChangeRow.query(on: store.database).filter(\.$principalID == principalID).sort(\.$at).all().map { change in
            StandingChange(
                standing: RequesterStanding(rawValue: change.standing) ?? .suspended, mayRequestEmergency: change.mayRequestEmergency,
                reason: change.reason, by: change.actor, at: change.at)
        }
        return RequesterStatus(standing: facts.standing, mayRequestEmergency: facts.mayRequestEmergency, history: history)
    }

    /// Sets a requester's standing and emergency permission, keeping the change with its reason
    /// and an audit entry, in one transaction.
    public func setStanding(
        principalID: UUID, _ standing: RequesterStanding, mayRequestEmergency: Bool, reason: String, by actor: String, at time: Date
    ) async throws {
        let isPostgres = store.location.isPostgres
        try await store.database.transaction { tx in
            guard let row = try await PrincipalRow.find(principalID, on: tx) else { throw StorageError.notFound("user \(principalID)") }
            guard row.kind == PrincipalKind.agency.rawValue else { throw StorageError.conflict("\(row.email) is not an agency user; standing applies to requesters") }
            if let registration = try await AgencyRegistrationRow.query(on: tx).filter(\.$principalID == principalID).first(),
                let refusal = AgencyRegistration.approvalRefusal(standing, addressConfirmed: registration.confirmedAt != nil)
            {
                throw StorageError.conflict("\(row.email): \(refusal)")
            }
            let before = "\(row.standing), emergency \(row.mayRequestEmergency ? "allowed" : "not allowed")"
            row.standing = standing.rawValue
            row.mayRequestEmergency = mayRequestEmergency
            try await row.update(on: tx)
            let change = StandingChangeRow()
            change.id = UUID()
            change.principalID = principalID
            change.standing = standing.rawValue
            change.mayRequestEmergency = mayRequestEmergency
            change.reason = reason
            change.actor = actor
            change.at = time
            try await change.create(on: tx)
            try await AuditWriter.append([AuditRecord(
                caseID: nil, subject: "principal:\(principalID.uuidString.lowercased())", action: "requester.standing_changed", actor: actor, at: time,
                details: [
                    "email": row.email, "standing": standing.rawValue, "emergency": mayRequestEmergency ? "allowed" : "not allowed", "before": before,
                    "reason": reason,
                ])], on: tx, isPostgres: isPostgres)
        }
    }

    /// What intake needs to know of a requester (issue 8): its standing and emergency permission,
    /// and the account dates its red flags look at.
    public struct RequesterFacts: Sendable, Equatable {
        public var standing: RequesterStanding
        public var mayRequestEmergency: Bool
        /// When the account was created (a red flag while recent).
        public var registeredAt: Date
        /// When its password was last reset (a red flag while recent).
        public var credentialsResetAt: Date?
    }

    /// A requester's facts in one plain statement, where `requesterStatus` also reads the history
    /// of standing changes.
    public func requesterFacts(principalID: UUID) async throws -> RequesterFacts? {
        guard let row = try await ModelStatements.find(PrincipalRow.self, id: principalID, on: store.database) else { return nil }
        return RequesterFacts(
            // An unreadable standing bars the requester rather than trusting it.
            standing: RequesterStanding(rawValue: row.standing) ?? .suspended, mayRequestEmergency: row.mayRequestEmergency,
            registeredAt: row.createdAt, credentialsResetAt: row.credentialsResetAt)
    }

    /// Sets a new password: every session of the principal ends, the reset time is kept (a red flag
    /// on its demands while recent), and an audit entry names who reset it, in one transaction.
    public func resetPassword(principalID: UUID, passwordHash: String, by actor: String, at time: Date) async throws {
        let isPostgres = store.location.isPostgres
        try await store.database.transaction { tx in
            guard let row = try await PrincipalRow.find(principalID, on: tx) else { throw StorageError.notFound("user \(principalID)") }
            row.passwordHash = passwordHash
            row.credentialsResetAt = time
            try await row.update(on: tx)
            try await SessionRow.query(on: tx).filter(\.$principalID == principalID).delete()
            try await AuditWriter.append([AuditRecord(
                caseID: nil, subject: "principal:\(principalID.uuidString.lowercased())", action: "principal.password_reset", actor: actor, at: time,
                details: ["email": row.email, "sessionsEnded": "all"])], on: tx, isPostgres: isPostgres)
        }
    }

    /// The principal and its password hash, for login. Disabled principals are not returned.
    public func credentials(email: String) async throws -> (Principal, passwordHash: String)? {
        guard
            let row = try await PrincipalRow.query(on: store.database).filter(\.$email == email.lowercased())
                .filter(\.$isDisabled == false).first()
        else { return nil }
        return (try row.domain(), row.passwordHash)
    }

    public func findPrincipal(email: String) async throws -> Principal? {
        try await PrincipalRow.query(on: store.database).filter(\.$email == email.lowercased()).first()?.domain()
    }

    public func findPrincipal(id: UUID) async throws -> Principal? {
        guard let row = try await PrincipalRow.find(id, on: store.database), !row.isDisabled else { return nil }
        return try row.domain()
    }

    // MARK: Sessions

    public struct Session: Sendable, Equatable {
        public var principal: Principal
        public var csrfToken: String
        public var expiresAt: Date
        /// The session began with a second factor.
        public var secondFactor: Bool
    }

    /// Starts a session and returns the cookie value (shown once, stored only hashed).
    public func startSession(
        for principalID: UUID, at time: Date, lifetime: TimeInterval, secondFactor: Bool = false
    ) async throws -> (cookie: String, csrf: String) {
        let cookie = Self.makeSecret()
        let row = SessionRow()
        row.id = UUID()
        row.tokenHash = Self.digest(cookie)
        row.principalID = principalID
        row.csrfToken = Self.makeSecret()
        row.createdAt = time
        row.expiresAt = time.addingTimeInterval(lifetime)
        row.secondFactor = secondFactor
        try await row.create(on: store.database)
        return (cookie, row.csrfToken)
    }

    /// The live session for a cookie value; expired sessions are treated as absent.
    public func session(cookie: String, at time: Date) async throws -> Session? {
        guard
            let row = try await SessionRow.query(on: store.database).filter(\.$tokenHash == Self.digest(cookie)).first(),
            row.expiresAt > time,
            let principal = try await findPrincipal(id: row.principalID)
        else { return nil }
        return Session(principal: principal, csrfToken: row.csrfToken, expiresAt: row.expiresAt, secondFactor: row.secondFactor)
    }

    public func endSession(cookie: String) async throws {
        try await SessionRow.query(on: store.database).filter(\.$tokenHash == Self.digest(cookie)).delete()
    }

    /// Removes expired sessions (a periodic job).
    public func purgeExpiredSessions(at time: Date) async throws {
        try await SessionRow.query(on: store.database).filter(\.$expiresAt <= time).delete()
    }

    // MARK: API tokens

    /// Issues an API token and returns it; it is stored only as a hash and cannot be shown again.
    public func issueToken(for principalID: UUID, label: String, at time: Date) async throws -> (id: UUID, token: String) {
        let token = "cst_" + Self.makeSecret()
        let row = APITokenRow()
        row.id = UUID()
        row.principalID = principalID
        row.tokenHash = Self.digest(token)
        row.label = label
        row.createdAt = time
        try await row.create(on: store.database)
        return (row.id!, token)
    }

    /// The principal of an unrevoked API token, unless disabled. Every API request asks, so it is
    /// one plain statement (the token joined to its principal) rather than two fluent-kit queries.
    public func principal(forToken token: String) async throws -> Principal? {
        try await ModelStatements.rows(PrincipalRow.self, selectedBy: """
            SELECT p.* FROM api_tokens t JOIN principals p ON p.id = t.principal_id
            WHERE t.token_hash = \(bind: Self.digest(token)) AND t.revoked_at IS NULL AND p.is_disabled = \(bind: false)
            LIMIT 1
            """, on: store.database).first?.domain()
    }

    public func revokeToken(id: UUID, at time: Date) async throws {
        guard let row = try await APITokenRow.find(id, on: store.database) else {
            throw StorageError.notFound("no API token \(id)")
        }
        row.revokedAt = time
        try await row.update(on: store.database)
    }
}
