import CustosDomain
import FluentKit
import Foundation
import SQLKit

/// Customer notices (C5): who gets them, the scheduler's releases and reminders, staff lifts, and
/// the board. Every change happens in one transaction with its audit entry and its delivery job.
public struct NoticeStore: Sendable {
    /// The job kind that delivers a customer notice.
    public static let deliveryJob = "customer_notice"

    let store: CustosDatabase

    public init(store: CustosDatabase) { self.store = store }

    var isPostgres: Bool { store.location.isPostgres }

    // MARK: Reads

    public func notice(caseID: UUID) async throws -> CustomerNotice? {
        try await NoticeRow.query(on: store.database).filter(\.$caseID == caseID).first()?.domain()
    }

    public func notice(id: UUID) async throws -> CustomerNotice? {
        try await NoticeRow.find(id, on: store.database)?.domain()
    }

    /// The notices board: every notice in `states`, most recently changed first.
    public func notices(in states: Set<CustomerNoticeState>, limit: Int = 500) async throws -> [CustomerNotice] {
        try await NoticeRow.query(on: store.database).filter(\.$state ~~ states.map(\.rawValue))
            .sort(\.$updatedAt, .descending).limit(limit).all().map { try $0.domain() }
    }

    /// What a customer may see: its tenant's notices that no bar holds back (due, sent or failed).
    public func visibleNotices(tenantID: UUID) async throws -> [CustomerNotice] {
        let visible = CustomerNoticeState.allCases.filter(\.isVisibleToCustomer).map(\.rawValue)
        return try await NoticeRow.query(on: store.database).filter(\.$tenantID == tenantID).filter(\.$state ~~ visible)
            .sort(\.$createdAt, .descending).all().map { try $0.domain() }
    }

    /// How many notices were planned under each kind of bar in `[from, to)` (C8, C12): an
    /// indefinite bar is counted even after it was lifted. Notices from before bars were recorded
    /// are not counted.
    public func barCounts(from: Date, to: Date) async throws -> [NoticeBarKind: Int] {
        let sql = store.database as! any SQLDatabase
        struct Row: Decodable {
            var bar: String
            var count: Int
        }
        let rows = try await sql.raw("""
            SELECT bar, COUNT(*) AS count FROM customer_notices
            WHERE bar IS NOT NULL AND created_at >= \(bind: from) AND created_at < \(bind: to) GROUP BY bar
            """).all(decoding: Row.self)
        var counts: [NoticeBarKind: Int] = [:]
        for row in rows { if let kind = NoticeBarKind(rawValue: row.bar) { counts[kind] = row.count } }
        return counts
    }

    // MARK: The scheduler's work

    /// Releases every held notice whose dated bar has lapsed, each with its reason on record.
    @discardableResult
    public func releaseLapsed(at time: Date) async throws -> [CustomerNotice] {
        let candidates = try await NoticeRow.query(on: store.database)
            .filter(\.$state == CustomerNoticeState.held.rawValue).filter(\.$holdUntil <= time).all()
        var released: [CustomerNotice] = []
        for candidate in candidates {
            if let notice = try await change(candidate.id!, action: "notice.released", at: time, { notice in
                NoticePlanner.releaseIfLapsed(notice, emergencyOver: false, at: time)
            }) {
                released.append(notice)
            }
        }
        return released
    }

    /// Records a renewal reminder for every dated bar that lapses within the reminder lead.
    @discardableResult
    public func remindOfLapsingBars(at time: Date) async throws -> [CustomerNotice] {
        let candidates = try await NoticeRow.query(on: store.database)
            .filter(\.$state == CustomerNoticeState.held.rawValue).filter(\.$reminderAt <= time).all()
        var reminded: [CustomerNotice] = []
        for candidate in candidates {
            if let notice = try await change(candidate.id!, action: "notice.renewal_reminder", at: time, { notice in
                guard notice.state == .held, !notice.reminderSent else { return nil }
                var next = notice
                next.reminderSent = true
                next.updatedAt = time
                return next
            }) {
                reminded.append(notice)
            }
        }
        return reminded
    }

    /// Staff lift a bar (order vacated, waiver obtained); the notice goes out and the reason is kept.
    public func lift(noticeID: UUID, reason: String, at time: Date, by actor: Actor) async throws -> CustomerNotice? {
        try await change(noticeID, action: "notice.lifted", at: time, actor: actor) { NoticePlanner.lift($0, reason: reason, at: time) }
    }

    /// Records staff's effort to obtain a waiver of the bar (asked the prosecutor, moved the court).
    public func logWaiverEffort(noticeID: UUID, note: String, at time: Date, by actor: Actor) async throws -> CustomerNotice? {
        try await change(noticeID, action: "notice.waiver_effort", at: time, actor: actor) {
            NoticePlanner.logWaiverEffort($0, note: note, by: actor.auditName, at: time)
        }
    }

    /// Records that one channel accepted the notice, before the next channel is tried, so a retry
    /// after a failure or a crash never sends through that channel again. `completes` marks the
    /// last channel: the notice is then sent, in the same transaction (`notice.sent`).
    public func markDelivered(noticeID: UUID, channel: String, receipt: String, completes: Bool, at time: Date) async throws {
        let action = completes ? "notice.sent" : "notice.delivered"
        _ = try await change(noticeID, action: action, at: time, details: ["channel": channel, "receipt": receipt]) { notice in
            guard notice.state == .due || notice.state == .failed, !notice.wasDelivered(via: channel) else { return nil }
            var next = notice
            next.deliveries = (notice.deliveries ?? []) + [ChannelDelivery(channel: channel, at: time, receipt: receipt)]
            next.updatedAt = time
            if completes {
                next.state = .sent
                next.sentAt = time
            }
            return next
        }
    }

    /// Marks a notice sent when every channel had already accepted it (a retry after a crash
    /// between the last acceptance and this mark).
    public func markSent(noticeID: UUID, at time: Date) async throws {
        _ = try await change(noticeID, action: "notice.sent", at: time) { notice in
            guard notice.state == .due || notice.state == .failed else { return nil }
            var next = notice
            next.state = .sent
            next.sentAt = time
            next.updatedAt = time
            return next
        }
    }

    /// Marks a notice failed after its delivery job was dead-lettered.
    public func markFailed(noticeID: UUID, error: String, at time: Date) async throws {
        _ = try await change(noticeID, action: "notice.failed", at: time) { notice in
            guard notice.state == .due else { return nil }
            var next = notice
            next.state = .failed
            next.reason = "delivery failed: " + error
            next.updatedAt = time
            return next
        }
    }

    /// Applies `transform` to one notice in a transaction, with its audit entry and, when it
    /// becomes due, its delivery job. Returns nil (and changes nothing) when `transform` declines.
    private func change(
        _ id: UUID, action: String, at time: Date, actor: Actor = .system, details: [String: String] = [:], _ transform: @escaping @Sendable (CustomerNotice) -> CustomerNotice?
    ) async throws -> CustomerNotice? {
        let isPostgres = self.isPostgres
        return try await store.database.transaction { tx in
            if isPostgres {
                try await (tx as! any SQLDatabase).raw("SELECT id FROM customer_notices WHERE id = \(bind: id) FOR UPDATE").run()
            }
            guard let row = try await NoticeRow.find(id, on: tx), let next = transform(try row.domain()) else { return nil }
            let wasDue = row.state == CustomerNoticeState.due.rawValue
            try row.copy(from: next)
            try await row.update(on: tx)
            var record = Self.auditRecord(next, action: action, at: time)
            record.actor = actor.auditName
            record.details.merge(details) { _, new in new }
            try await AuditWriter.append([record], on: tx, isPostgres: isPostgres)
            if next.state == .due && !wasDue { try await Self.enqueue(next, on: tx, at: time) }
            return next
        }
    }

    // MARK: Helpers shared with the case repository's transaction

    /// The tenant's notice contacts; a consumer without contacts is told at its accounts' addresses.
    /// An enterprise tenant without a contact gets none (the notice records why), never its end users.
    static func recipients(for customer: CustomerLink?, on database: any Database) async throws -> [String] {
        guard let customer else { return [] }
        let contacts = try await ContactRow.query(on: database).filter(\.$tenantID == customer.tenantID).all().map(\.email)
        if !contacts.isEmpty || customer.kind == .enterprise { return contacts.sorted() }
        return try await AccountRow.query(on: database).filter(\.$tenantID == customer.tenantID).all().compactMap(\.email).sorted()
    }

    static func auditRecord(_ notice: CustomerNotice, action: String, at time: Date) -> AuditRecord {
        AuditRecord(
            caseID: notice.caseID, subject: "notice:\(notice.id.uuidString.lowercased())", action: action, actor: Actor.system.auditName,
            at: time,
            details: [
                "state": notice.state.rawValue, "reason": notice.reason, "recipients": String(notice.recipients.count),
                "holdUntil": notice.holdUntil.map(Timestamp.format) ?? "",
            ])
    }

    /// Queues the delivery job once: its dedupe key is the notice's stable delivery id.
    static func enqueue(_ notice: CustomerNotice, on database: any Database, at time: Date) async throws {
        guard try await OutboxRow.query(on: database).filter(\.$dedupeKey == notice.deliveryID).first() == nil else { return }
        let row = OutboxRow()
        row.id = UUID()
        row.kind = deliveryJob
        row.caseID = notice.caseID
        row.recipient = notice.recipients.joined(separator: ",")
        row.payload = notice.id.uuidString.lowercased()
        row.createdAt = time
        row.attempts = 0
        row.status = JobStatus.pending.rawValue
        row.runAt = time
        row.dedupeKey = notice.deliveryID
        try await row.create(on: database)
    }
}
