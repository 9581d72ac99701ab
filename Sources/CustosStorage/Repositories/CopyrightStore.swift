import CustosDomain
import FluentKit
import Foundation
import SQLKit

/// Copyright notices, strikes and suspension cases (issue 9). Every change of a notice is stored
/// with its audit entry, the mail it causes (queued in the outbox) and any strike or suspension
/// case, in one transaction.
public struct CopyrightStore: Sendable {
    let store: CustosDatabase
    static let counter = "copyright_notice_number"
    /// Outbox kind of a copyright mail; its payload is a `CopyrightMail`.
    public static let mailJob = "copyright.mail"

    public init(store: CustosDatabase) { self.store = store }

    /// A message ready for the mailer.
    public struct CopyrightMail: Codable, Equatable, Sendable {
        public var to: [String]
        public var subject: String
        public var text: String
        public var notice: String

        public init(to: [String], subject: String, text: String, notice: String) {
            self.to = to
            self.subject = subject
            self.text = text
            self.notice = notice
        }
    }

    public struct Suspension: Equatable, Sendable {
        public var id: UUID
        public var tenantID: UUID
        public var openedAt: Date
        public var state: String
        public var notices: [String]
        public var decidedAt: Date?
        public var decidedBy: String?
        public var note: String?
    }

    static func subject(_ id: UUID) -> String { "copyright:\(id.uuidString.lowercased())" }

    // MARK: Hosts

    /// Records that `tenantID` serves content from `host`; a notice's URL on it, or on a subdomain, is routed there.
    public func addHost(_ host: String, tenantID: UUID, by actor: String, at time: Date) async throws {
        let host = host.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: ". "))
        let isPostgres = store.location.isPostgres
        try await store.database.transaction { tx in
            if try await TenantHostRow.query(on: tx).filter(\.$host == host).first() != nil {
                throw StorageError.conflict("\(host) is already a customer's host")
            }
            let row = TenantHostRow()
            row.id = UUID()
            row.tenantID = tenantID
            row.host = host
            try await row.create(on: tx)
            try await AuditWriter.append([AuditRecord(
                caseID: nil, subject: "tenant:\(tenantID.uuidString.lowercased())", action: "tenant.host_added", actor: actor, at: time,
                details: ["host": host])], on: tx, isPostgres: isPostgres)
        }
    }

    /// The customer hosting most of `urls` (by host or parent host), if any.
    public func tenant(hosting urls: [String]) async throws -> UUID? {
        let hosts = try await TenantHostRow.query(on: store.database).all()
        var votes: [UUID: Int] = [:]
        for text in urls {
            guard let host = URL(string: text.trimmingCharacters(in: .whitespaces))?.host?.lowercased() else { continue }
            if let match = hosts.first(where: { host == $0.host || host.hasSuffix("." + $0.host) }) { votes[match.tenantID, default: 0] += 1 }
        }
        return votes.max { $0.value < $1.value }?.key
    }

    public func hosts(tenantID: UUID) async throws -> [String] {
        try await TenantHostRow.query(on: store.database).filter(\.$tenantID == tenantID).sort(\.$host).all().map(\.host)
    }

    // MARK: Notices

    /// Stores a new notice (awaiting its sender's confirmation) with its number, the hash of the
    /// sender's link token, the confirmation mail and the audit entry.
    public func receive(_ text: CopyrightNoticeText, tokenHash: String, confirmation: @escaping @Sendable (String) -> CopyrightMail, at time: Date) async throws -> CopyrightCase {
        let isPostgres = store.location.isPostgres
        return try await store.database.transaction { tx -> CopyrightCase in
            let counter = try await Counters.lock(Self.counter, on: tx, isPostgres: isPostgres)
            let year = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: time).year!
            if counter.textValue != String(year) {
                counter.textValue = String(year)
                counter.value = 0
            }
            counter.value += 1
            try await counter.update(on: tx)
            let notice = CopyrightCase(id: UUID(), number: String(format: "DMCA-%04d-%05d", year, counter.value), text: text, receivedAt: time)
            let row = CopyrightNoticeRow()
            row.id = notice.id
            row.tokenHash = tokenHash
            row.complainantEmail = text.complainant.email.lowercased()
            try Self.copy(notice, into: row, at: time)
            try await row.create(on: tx)
            try await Self.queue([confirmation(notice.number)], noticeID: notice.id, at: time, on: tx)
            try await AuditWriter.append([AuditRecord(
                caseID: nil, subject: Self.subject(notice.id), action: "copyright.received", actor: text.complainant.email.lowercased(), at: time,
                details: ["number": notice.number, "urls": text.infringingURLs.joined(separator: " ")])], on: tx, isPostgres: isPostgres)
            return notice
        }
    }

    static func copy(_ notice: CopyrightCase, into row: CopyrightNoticeRow, at time: Date) throws {
        row.number = notice.number
        row.state = notice.state.rawValue
        row.tenantID = notice.tenantID
        row.receivedAt = notice.receivedAt
        row.updatedAt = time
        row.responseDueAt = notice.state == .withCustomer ? notice.responseDueAt : nil
        row.version = notice.version
        row.body = try CustosJSON.string(notice)
    }

    static func queue(_ mails: [CopyrightMail], noticeID: UUID, at time: Date, on database: any Database) async throws {
        for mail in mails where !mail.to.isEmpty {
            let job = OutboxRow()
            job.id = UUID()
            job.kind = mailJob
            job.recipient = mail.to.joined(separator: ",")
            job.payload = try CustosJSON.string(mail)
            job.createdAt = time
            job.attempts = 0
            job.status = JobStatus.pending.rawValue
            job.runAt = time
            try await job.create(on: database)
        }
    }

    public func find(id: UUID) async throws -> CopyrightCase? {
        try await CopyrightNoticeRow.find(id, on: store.database).map { try CustosJSON.decode(CopyrightCase.self, from: $0.body) }
    }

    public func find(token: String) async throws -> CopyrightCase? {
        try await CopyrightNoticeRow.query(on: store.database).filter(\.$tokenHash == SQLIdentityRepository.digest(token)).first()
            .map { try CustosJSON.decode(CopyrightCase.self, from: $0.body) }
    }

    /// Notices, newest first; of one customer when `tenantID` is given.
    public func list(tenantID: UUID? = nil, states: [CopyrightCase.State]? = nil, limit: Int = 500) async throws -> [CopyrightCase] {
        var query = CopyrightNoticeRow.query(on: store.database)
        if let tenantID { query = query.filter(\.$tenantID == tenantID) }
        if let states { query = query.filter(\.$state ~~ states.map(\.rawValue)) }
        return try await query.sort(\.$receivedAt, .descending).limit(limit).all().map { try CustosJSON.decode(CopyrightCase.self, from: $0.body) }
    }

    /// Notices received in [from, to), oldest first (the report and the Lumen export).
    public func received(from: Date, to: Date) async throws -> [CopyrightCase] {
        try await CopyrightNoticeRow.query(on: store.database).filter(\.$receivedAt >= from).filter(\.$receivedAt < to).sort(\.$receivedAt).all()
            .map { try CustosJSON.decode(CopyrightCase.self, from: $0.body) }
    }

    /// What the transparency report counts for a period: notices received before its end (any of
    /// their steps may fall in it), every strike and every suspension case.
    public func figures(in period: ReportPeriod) async throws -> CopyrightFigures {
        let cases = try await CopyrightNoticeRow.query(on: store.database).filter(\.$receivedAt < period.end).all()
            .map { try CustosJSON.decode(CopyrightCase.self, from: $0.body) }
        let strikes = try await CopyrightStrikeRow.query(on: store.database).filter(\.$at < period.end).all()
            .map { CopyrightFigures.Strike(at: $0.at, withdrawnAt: $0.withdrawnAt) }
        let suspensions = try await SuspensionCaseRow.query(on: store.database).filter(\.$openedAt < period.end).all()
            .map { CopyrightFigures.Suspension(openedAt: $0.openedAt, decidedAt: $0.decidedAt, terminated: $0.state == "terminated") }
        return CopyrightFigures(cases: cases, strikes: strikes, suspensions: suspensions, in: period)
    }

    /// Notices whose customer did not answer by `time`.
    public func unanswered(at time: Date) async throws -> [UUID] {
        try await CopyrightNoticeRow.query(on: store.database).filter(\.$state == CopyrightCase.State.withCustomer.rawValue)
            .filter(\.$responseDueAt <= time).all().compactMap(\.id)
    }

    public struct Applied: Equatable, Sendable {
        public var notice: CopyrightCase
        /// A suspension case this change opened.
        public var suspension: Suspension?
    }

    /// Applies `change` to the stored notice (read and written in one transaction, so two changes
    /// never interleave), storing the result with its audit entry, its mail, and its strike; a strike
    /// that reaches `policy`'s threshold opens a suspension case (one open case per customer).
    public func apply(
        noticeID: UUID, action: String, by actor: String, at time: Date, policy: RepeatInfringerPolicy,
        _ change: @escaping @Sendable (CopyrightCase) throws -> (outcome: CopyrightWorkflow.Outcome, mails: [CopyrightMail], suspensionMail: (@Sendable (Suspension) -> CopyrightMail)?)
    ) async throws -> Applied {
        let isPostgres = store.location.isPostgres
        return try await store.database.transaction { tx -> Applied in
            if isPostgres {
                try await (tx as! any SQLDatabase).raw("SELECT id FROM copyright_notices WHERE id = \(bind: noticeID) FOR UPDATE").run()
            }
            guard let row = try await CopyrightNoticeRow.find(noticeID, on: tx) else { throw StorageError.notFound("copyright notice \(noticeID)") }
            let current = try CustosJSON.decode(CopyrightCase.self, from: row.body)
            let (outcome, mails, suspensionMail) = try change(current)
            try Self.copy(outcome.next, into: row, at: time)
            try await row.update(on: tx)
            try await Self.queue(mails, noticeID: noticeID, at: time, on: tx)
            var audits = [AuditRecord(
                caseID: nil, subject: Self.subject(noticeID), action: action, actor: actor, at: time,
                details: outcome.auditDetails.merging(["number": current.number]) { $1 })]
            var opened: Suspension?
            if let tenantID = outcome.next.tenantID {
                if outcome.strike, try await CopyrightStrikeRow.query(on: tx).filter(\.$noticeID == noticeID).first() == nil {
                    let strike = CopyrightStrikeRow()
                    strike.id = UUID()
                    strike.tenantID = tenantID
                    strike.noticeID = noticeID
                    strike.at = time
                    try await strike.create(on: tx)
                    audits.append(AuditRecord(
                        caseID: nil, subject: "tenant:\(tenantID.uuidString.lowercased())", action: "copyright.strike", actor: "system", at: time,
                        details: ["notice": current.number]))
                    opened = try await Self.openSuspensionIfDue(tenantID: tenantID, policy: policy, at: time, on: tx, audits: &audits)
                    if let opened, let suspensionMail { try await Self.queue([suspensionMail(opened)], noticeID: noticeID, at: time, on: tx) }
                }
                if outcome.withdrawStrike, let strike = try await CopyrightStrikeRow.query(on: tx).filter(\.$noticeID == noticeID).first(), strike.withdrawnAt == nil {
                    strike.withdrawnAt = time
                    try await strike.update(on: tx)
                    audits.append(AuditRecord(
                        caseID: nil, subject: "tenant:\(tenantID.uuidString.lowercased())", action: "copyright.strike_withdrawn", actor: "system", at: time,
                        details: ["notice": current.number, "reason": "the counter-notice stood"]))
                }
            }
            try await AuditWriter.append(audits, on: tx, isPostgres: isPostgres)
            return Applied(notice: outcome.next, suspension: opened)
        }
    }

    static func openSuspensionIfDue(
        tenantID: UUID, policy: RepeatInfringerPolicy, at time: Date, on database: any Database, audits: inout [AuditRecord]
    ) async throws -> Suspension? {
        if try await SuspensionCaseRow.query(on: database).filter(\.$tenantID == tenantID).filter(\.$state == "open").first() != nil { return nil }
        let strikes = try await CopyrightStrikeRow.query(on: database).filter(\.$tenantID == tenantID).filter(\.$withdrawnAt == nil).all()
        let counting = strikes.filter { policy.counting([$0.at], at: time).count == 1 }
        guard policy.reachesThreshold(counting.map(\.at), at: time) else { return nil }
        let notices = Dictionary(
            uniqueKeysWithValues: try await CopyrightNoticeRow.query(on: database).filter(\.$id ~~ counting.map(\.noticeID)).all()
                .compactMap { row in row.id.map { ($0, row.number) } })
        let numbers = counting.sorted { $0.at < $1.at }.compactMap { notices[$0.noticeID] }
        let row = SuspensionCaseRow()
        row.id = UUID()
        row.tenantID = tenantID
        row.openedAt = time
        row.state = "open"
        row.notices = numbers.joined(separator: ",")
        try await row.create(on: database)
        audits.append(AuditRecord(
            caseID: nil, subject: "tenant:\(tenantID.uuidString.lowercased())", action: "copyright.suspension_opened", actor: "system", at: time,
            details: ["strikes": String(counting.count), "notices": row.notices, "threshold": String(policy.threshold)]))
        return try row.domain()
    }

    public func strikes(tenantID: UUID) async throws -> [(notice: String, at: Date, withdrawnAt: Date?)] {
        let strikes = try await CopyrightStrikeRow.query(on: store.database).filter(\.$tenantID == tenantID).sort(\.$at).all()
        let numbers = Dictionary(
            uniqueKeysWithValues: try await CopyrightNoticeRow.query(on: store.database).filter(\.$id ~~ strikes.map(\.noticeID)).all()
                .compactMap { row in row.id.map { ($0, row.number) } })
        return strikes.map { (numbers[$0.noticeID] ?? "?", $0.at, $0.withdrawnAt) }
    }

    public func suspensions(state: String? = nil) async throws -> [Suspension] {
        var query = SuspensionCaseRow.query(on: store.database)
        if let state { query = query.filter(\.$state == state) }
        return try await query.sort(\.$openedAt, .descending).all().map { try $0.domain() }
    }

    /// Staff's decision on a suspension case: `terminated` (the service ends under the terms of use)
    /// or `kept` (with the reason it was not appropriate), audited.
    public func decideSuspension(id: UUID, terminate: Bool, note: String, by actor: String, at time: Date) async throws -> Suspension {
        let isPostgres = store.location.isPostgres
        return try await store.database.transaction { tx -> Suspension in
            guard let row = try await SuspensionCaseRow.find(id, on: tx) else { throw StorageError.notFound("suspension case \(id)") }
            guard row.state == "open" else { throw StorageError.conflict("the suspension case was decided already (\(row.state))") }
            row.state = terminate ? "terminated" : "kept"
            row.decidedAt = time
            row.decidedBy = actor
            row.note = note
            try await row.update(on: tx)
            try await AuditWriter.append([AuditRecord(
                caseID: nil, subject: "tenant:\(row.tenantID.uuidString.lowercased())", action: "copyright.suspension_decided", actor: actor, at: time,
                details: ["decision": row.state, "note": note, "notices": row.notices])], on: tx, isPostgres: isPostgres)
            return try row.domain()
        }
    }
}

extension SuspensionCaseRow {
    func domain() throws -> CopyrightStore.Suspension {
        guard let id else { throw StorageError.corrupted("suspension case without id") }
        return CopyrightStore.Suspension(
            id: id, tenantID: tenantID, openedAt: openedAt, state: state, notices: notices.split(separator: ",").map(String.init),
            decidedAt: decidedAt, decidedBy: decidedBy, note: note)
    }
}
