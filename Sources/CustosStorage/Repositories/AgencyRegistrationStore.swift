import CustosDomain
import FluentKit
import Foundation

/// Self-registrations in the agency portal (issue 8): the account (standing `pending`), the
/// confirmation of its address, and what staff see before approving. Each step is audited in the
/// same transaction as the change.
public struct AgencyRegistrationStore: Sendable {
    let store: CustosDatabase

    public init(store: CustosDatabase) { self.store = store }

    public struct Registration: Sendable, Equatable {
        public var principal: Principal
        public var requestedAt: Date
        public var expiresAt: Date
        public var confirmedAt: Date?
        public var remoteAddress: String?
    }

    public enum Outcome: Sendable, Equatable {
        /// A new account; the token goes into the confirmation link (shown once, stored hashed).
        case registered(token: String)
        /// The address already has an account: nothing is sent (the page says the same either way).
        case accountExists
        /// A registration of this address waits for its confirmation; the first one stands.
        case awaitingConfirmation
    }

    public func register(
        _ principal: Principal, passwordHash: String, remoteAddress: String?, at time: Date
    ) async throws -> Outcome {
        let isPostgres = store.location.isPostgres
        return try await store.database.transaction { tx -> Outcome in
            let email = principal.email.lowercased()
            if let existing = try await PrincipalRow.query(on: tx).filter(\.$email == email).first(), let existingID = existing.id {
                guard let earlier = try await AgencyRegistrationRow.query(on: tx).filter(\.$principalID == existingID).first(),
                    earlier.confirmedAt == nil
                else { return .accountExists }
                guard earlier.expiresAt <= time else { return .awaitingConfirmation }
                // An expired, never-confirmed registration is removed, so the address can start anew.
                try await earlier.delete(on: tx)
                try await StandingChangeRow.query(on: tx).filter(\.$principalID == existingID).delete()
                try await existing.delete(on: tx)
            }
            let row = PrincipalRow()
            row.id = principal.id
            row.email = email
            row.displayName = principal.displayName
            row.kind = PrincipalKind.agency.rawValue
            row.roles = ""
            row.agencyID = principal.agencyID
            row.passwordHash = passwordHash
            row.isDisabled = false
            row.createdAt = time
            row.standing = RequesterStanding.pending.rawValue
            row.mayRequestEmergency = false
            row.failedLogins = 0
            try await row.create(on: tx)
            let change = StandingChangeRow()
            change.id = UUID()
            change.principalID = principal.id
            change.standing = RequesterStanding.pending.rawValue
            change.mayRequestEmergency = false
            change.reason = "registered in the agency portal; awaits confirmation of the address and staff approval"
            change.actor = email
            change.at = time
            try await change.create(on: tx)
            let token = SQLIdentityRepository.makeSecret()
            let registration = AgencyRegistrationRow()
            registration.id = UUID()
            registration.principalID = principal.id
            registration.tokenHash = SQLIdentityRepository.digest(token)
            registration.requestedAt = time
            registration.expiresAt = time.addingTimeInterval(AgencyRegistration.confirmationLifetime)
            registration.remoteAddress = remoteAddress
            try await registration.create(on: tx)
            try await AuditWriter.append([AuditRecord(
                caseID: nil, subject: "principal:\(principal.id.uuidString.lowercased())", action: "requester.registered", actor: email, at: time,
                details: [
                    "email": email, "agency": principal.agencyID?.uuidString.lowercased() ?? "", "standing": RequesterStanding.pending.rawValue,
                    "remoteAddress": remoteAddress ?? "",
                ])], on: tx, isPostgres: isPostgres)
            return .registered(token: token)
        }
    }

    /// Confirms the address behind a link's token; nil when the token is unknown, spent or expired.
    public func confirm(token: String, at time: Date) async throws -> Principal? {
        let isPostgres = store.location.isPostgres
        return try await store.database.transaction { tx -> Principal? in
            guard let row = try await AgencyRegistrationRow.query(on: tx).filter(\.$tokenHash == SQLIdentityRepository.digest(token)).first(),
                row.confirmedAt == nil, row.expiresAt > time,
                let principal = try await PrincipalRow.find(row.principalID, on: tx)
            else { return nil }
            row.confirmedAt = time
            try await row.update(on: tx)
            try await AuditWriter.append([AuditRecord(
                caseID: nil, subject: "principal:\(row.principalID.uuidString.lowercased())", action: "requester.address_confirmed",
                actor: principal.email, at: time, details: ["email": principal.email])], on: tx, isPostgres: isPostgres)
            return try principal.domain()
        }
    }

    public func registration(principalID: UUID) async throws -> Registration? {
        guard let row = try await AgencyRegistrationRow.query(on: store.database).filter(\.$principalID == principalID).first(),
            let principal = try await PrincipalRow.find(principalID, on: store.database)
        else { return nil }
        return Registration(
            principal: try principal.domain(), requestedAt: row.requestedAt, expiresAt: row.expiresAt, confirmedAt: row.confirmedAt,
            remoteAddress: row.remoteAddress)
    }

    /// Every registration by principal, for the requesters page.
    public func all() async throws -> [UUID: Registration] {
        var result: [UUID: Registration] = [:]
        let rows = try await AgencyRegistrationRow.query(on: store.database).all()
        let principals = Dictionary(
            uniqueKeysWithValues: try await PrincipalRow.query(on: store.database).filter(\.$id ~~ rows.map(\.principalID)).all().compactMap { row in row.id.map { ($0, row) } })
        for row in rows {
            guard let principal = principals[row.principalID] else { continue }
            result[row.principalID] = Registration(
                principal: try principal.domain(), requestedAt: row.requestedAt, expiresAt: row.expiresAt, confirmedAt: row.confirmedAt,
                remoteAddress: row.remoteAddress)
        }
        return result
    }
}
