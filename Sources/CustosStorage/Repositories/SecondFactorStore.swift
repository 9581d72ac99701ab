import CustosDomain
import FluentKit
import Foundation

/// Second factors (issue 8): TOTP secrets, recovery codes and the login challenges between a
/// password and its code. Every change of a second factor is audited in the same transaction.
public struct SecondFactorStore: Sendable {
    let store: CustosDatabase

    public init(store: CustosDatabase) { self.store = store }

    public struct Status: Sendable, Equatable {
        /// Set once the first code from the secret was typed correctly.
        public var enrolledAt: Date?
        public var secret: Data?
        public var lastStep: Int64?
        public var recoveryCodesLeft: Int
        public var isEnrolled: Bool { enrolledAt != nil && secret != nil }
    }

    public func status(principalID: UUID) async throws -> Status? {
        guard let row = try await PrincipalRow.find(principalID, on: store.database) else { return nil }
        let left = try await RecoveryCodeRow.query(on: store.database).filter(\.$principalID == principalID).filter(\.$usedAt == nil).count()
        return Status(
            enrolledAt: row.totpEnrolledAt, secret: try row.totpSecret.map(store.sealer.openText).flatMap(Base32.decode), lastStep: row.totpLastStep,
            recoveryCodesLeft: left)
    }

    /// The secret being set up: the one already offered (so reloading the page keeps what the app
    /// was given), or `fresh` stored now. Refused once a second factor is set up: that needs a reset.
    public func pendingSecret(principalID: UUID, fresh: Data) async throws -> Data {
        guard let row = try await PrincipalRow.find(principalID, on: store.database) else { throw StorageError.notFound("user \(principalID)") }
        guard row.totpEnrolledAt == nil else { throw StorageError.conflict("\(row.email) already has a second factor; an admin must reset it first") }
        if let existing = try row.totpSecret.map(store.sealer.openText).flatMap(Base32.decode), !existing.isEmpty { return existing }
        row.totpSecret = try store.sealer.sealText(Base32.encode(fresh))
        try await row.update(on: store.database)
        return fresh
    }

    /// Completes set-up with the step of the first correct code and the new recovery codes' hashes.
    public func enrol(principalID: UUID, step: Int64, recoveryCodeHashes: [String], by actor: String, at time: Date) async throws {
        let isPostgres = store.location.isPostgres
        try await store.database.transaction { tx in
            guard let row = try await PrincipalRow.find(principalID, on: tx) else { throw StorageError.notFound("user \(principalID)") }
            guard row.totpEnrolledAt == nil, row.totpSecret != nil else { throw StorageError.conflict("\(row.email) has no second factor being set up") }
            row.totpEnrolledAt = time
            row.totpLastStep = step
            try await row.update(on: tx)
            try await Self.replaceCodes(principalID: principalID, hashes: recoveryCodeHashes, at: time, on: tx)
            try await AuditWriter.append([AuditRecord(
                caseID: nil, subject: Self.subject(principalID), action: "principal.second_factor_enrolled", actor: actor, at: time,
                details: ["email": row.email, "method": "totp", "recoveryCodes": String(recoveryCodeHashes.count)])], on: tx, isPostgres: isPostgres)
        }
    }

    /// Takes a time step for a sign-in. True for exactly one caller per step, and only when the
    /// step is later than every step used before (RFC 6238 §5.2: a code is accepted once). The
    /// conditional update is atomic on both databases; reading the claim back tells who won.
    public func claimStep(principalID: UUID, step: Int64) async throws -> Bool {
        let claim = UUID()
        try await PrincipalRow.query(on: store.database).filter(\.$id == principalID).filter(\.$totpEnrolledAt != nil)
            .group(.or) { $0.filter(\.$totpLastStep == nil).filter(\.$totpLastStep < step) }
            .set(\.$totpLastStep, to: step).set(\.$totpClaim, to: claim).update()
        return try await PrincipalRow.find(principalID, on: store.database)?.totpClaim == claim
    }

    /// Uses a recovery code once. Returns the number of codes left, or nil when the code is wrong
    /// or was used already. Audited, since a recovery code means the device was lost (or stolen).
    public func useRecoveryCode(principalID: UUID, codeHash: String, at time: Date) async throws -> Int? {
        let isPostgres = store.location.isPostgres
        return try await store.database.transaction { tx -> Int? in
            let claim = UUID()
            try await RecoveryCodeRow.query(on: tx).filter(\.$principalID == principalID).filter(\.$codeHash == codeHash).filter(\.$usedAt == nil)
                .set(\.$usedAt, to: time).set(\.$usedClaim, to: claim).update()
            guard try await RecoveryCodeRow.query(on: tx).filter(\.$usedClaim == claim).first() != nil else { return nil }
            let left = try await RecoveryCodeRow.query(on: tx).filter(\.$principalID == principalID).filter(\.$usedAt == nil).count()
            let email = try await PrincipalRow.find(principalID, on: tx)?.email ?? ""
            try await AuditWriter.append([AuditRecord(
                caseID: nil, subject: Self.subject(principalID), action: "principal.recovery_code_used", actor: email, at: time,
                details: ["email": email, "codesLeft": String(left)])], on: tx, isPostgres: isPostgres)
            return left
        }
    }

    /// New recovery codes; every earlier one stops working.
    public func replaceRecoveryCodes(principalID: UUID, hashes: [String], by actor: String, at time: Date) async throws {
        let isPostgres = store.location.isPostgres
        try await store.database.transaction { tx in
            guard let row = try await PrincipalRow.find(principalID, on: tx), row.totpEnrolledAt != nil else {
                throw StorageError.conflict("recovery codes need a second factor that is set up")
            }
            try await Self.replaceCodes(principalID: principalID, hashes: hashes, at: time, on: tx)
            try await AuditWriter.append([AuditRecord(
                caseID: nil, subject: Self.subject(principalID), action: "principal.recovery_codes_replaced", actor: actor, at: time,
                details: ["email": row.email, "recoveryCodes": String(hashes.count)])], on: tx, isPostgres: isPostgres)
        }
    }

    /// An admin's reset for a lost device: the secret and recovery codes are removed, every session
    /// and sign-in in progress ends, and the reset time is kept, so the user's demands carry the
    /// recent-reset red flag for a while (a takeover often starts with a reset).
    public func reset(principalID: UUID, reason: String, by actor: String, at time: Date) async throws {
        let isPostgres = store.location.isPostgres
        try await store.database.transaction { tx in
            guard let row = try await PrincipalRow.find(principalID, on: tx) else { throw StorageError.notFound("user \(principalID)") }
            row.totpSecret = nil
            row.totpEnrolledAt = nil
            row.totpLastStep = nil
            row.credentialsResetAt = time
            try await row.update(on: tx)
            try await RecoveryCodeRow.query(on: tx).filter(\.$principalID == principalID).delete()
            try await SessionRow.query(on: tx).filter(\.$principalID == principalID).delete()
            try await LoginChallengeRow.query(on: tx).filter(\.$principalID == principalID).delete()
            try await AuditWriter.append([AuditRecord(
                caseID: nil, subject: Self.subject(principalID), action: "principal.second_factor_reset", actor: actor, at: time,
                details: ["email": row.email, "reason": reason, "sessionsEnded": "all"])], on: tx, isPostgres: isPostgres)
        }
    }

    static func replaceCodes(principalID: UUID, hashes: [String], at time: Date, on database: any Database) async throws {
        try await RecoveryCodeRow.query(on: database).filter(\.$principalID == principalID).delete()
        for hash in hashes {
            let code = RecoveryCodeRow()
            code.id = UUID()
            code.principalID = principalID
            code.codeHash = hash
            code.createdAt = time
            try await code.create(on: database)
        }
    }

    static func subject(_ id: UUID) -> String { "principal:\(id.uuidString.lowercased())" }

    // MARK: Login challenges

    public enum Stage: String, Sendable {
        /// The code (or a recovery code) is asked for.
        case code
        /// A required second factor is set up first.
        case enrol
    }

    public struct Challenge: Sendable, Equatable {
        public var principal: Principal
        public var stage: Stage
        public var csrfToken: String
        public var nextPath: String
        public var attempts: Int
    }

    /// Starts the step after a correct password; returns the cookie value (stored only hashed).
    public func beginChallenge(principalID: UUID, stage: Stage, nextPath: String, at time: Date) async throws -> String {
        try await LoginChallengeRow.query(on: store.database).filter(\.$expiresAt <= time).delete()
        let token = SQLIdentityRepository.makeSecret()
        let row = LoginChallengeRow()
        row.id = UUID()
        row.tokenHash = SQLIdentityRepository.digest(token)
        row.principalID = principalID
        row.stage = stage.rawValue
        row.csrfToken = SQLIdentityRepository.makeSecret()
        row.nextPath = nextPath
        row.attempts = 0
        row.createdAt = time
        row.expiresAt = time.addingTimeInterval(SecondFactorPolicy.challengeLifetime)
        try await row.create(on: store.database)
        return token
    }

    /// The live challenge for a cookie value, for an enabled principal; nil otherwise.
    public func challenge(token: String, at time: Date) async throws -> Challenge? {
        guard
            let row = try await LoginChallengeRow.query(on: store.database).filter(\.$tokenHash == SQLIdentityRepository.digest(token)).first(),
            row.expiresAt > time, let stage = Stage(rawValue: row.stage),
            let principal = try await SQLIdentityRepository(store: store).findPrincipal(id: row.principalID)
        else { return nil }
        return Challenge(principal: principal, stage: stage, csrfToken: row.csrfToken, nextPath: row.nextPath, attempts: row.attempts)
    }

    /// Counts a wrong code and returns how many tries are left; at none the challenge ends (the
    /// password must be typed again) and the audit log says so.
    public func countFailure(token: String, at time: Date) async throws -> Int {
        let isPostgres = store.location.isPostgres
        return try await store.database.transaction { tx -> Int in
            guard let row = try await LoginChallengeRow.query(on: tx).filter(\.$tokenHash == SQLIdentityRepository.digest(token)).first() else { return 0 }
            row.attempts += 1
            let left = SecondFactorPolicy.attemptsPerSignIn - row.attempts
            guard left <= 0 else {
                try await row.update(on: tx)
                return left
            }
            try await row.delete(on: tx)
            let email = try await PrincipalRow.find(row.principalID, on: tx)?.email ?? ""
            try await AuditWriter.append([AuditRecord(
                caseID: nil, subject: Self.subject(row.principalID), action: "principal.second_factor_failed", actor: email, at: time,
                details: ["email": email, "wrongCodes": String(row.attempts)])], on: tx, isPostgres: isPostgres)
            return 0
        }
    }

    public func endChallenge(token: String) async throws {
        try await LoginChallengeRow.query(on: store.database).filter(\.$tokenHash == SQLIdentityRepository.digest(token)).delete()
    }
}
