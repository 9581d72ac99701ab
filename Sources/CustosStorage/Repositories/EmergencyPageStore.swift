import CustosDomain
import FluentKit
import Foundation

/// The emergency lane's pages (issue 8): an emergency demand pages the on-call team at once, and
/// an emergency whose follow-up legal process is overdue pages it again (legal-rules.md §6.3 E8;
/// EU: validation within 48 hours, Reg. (EU) 2023/1543 Art. 4(5)). Each page is an outbox job with
/// a stable dedupe key, so a case pages once per reason however often the pager looks.
public struct EmergencyPageStore: Sendable {
    public static let pageJob = "emergency.page"
    let store: CustosDatabase
    public init(store: CustosDatabase) { self.store = store }

    /// What a page says: which case and why, never whom or what data (the on-call person opens the
    /// case in the console to see more).
    public struct Page: Codable, Equatable, Sendable {
        public var type: String
        public var caseID: String
        public var number: String
        public var receivedAt: Date
        public var redFlags: [String]
        public var followUpDue: Date?
    }

    /// Queues the pages that are due: new open emergencies, and overdue follow-ups. Each with its
    /// audit entry, in one transaction. Returns how many were queued.
    @discardableResult
    public func queueDuePages(at time: Date) async throws -> Int {
        let isPostgres = store.location.isPostgres
        return try await store.database.transaction { tx in
            var audits: [AuditRecord] = []
            for row in try await CaseRow.query(on: tx).filter(\.$isEmergency == true).filter(\.$state != CaseState.closed.rawValue).all() {
                let subject = try row.domain()
                var reasons: [(type: String, dueAt: Date?)] = [("emergency.received", nil)]
                if let followUp = subject.followUp, !followUp.isResolved, followUp.dueAt <= time {
                    reasons.append(("emergency.follow_up_overdue", followUp.dueAt))
                }
                for reason in reasons {
                    let key = "page:\(reason.type):\(subject.id.uuidString.lowercased())"
                    guard try await OutboxRow.query(on: tx).filter(\.$dedupeKey == key).first() == nil else { continue }
                    let page = Page(
                        type: reason.type, caseID: subject.id.uuidString.lowercased(), number: subject.number, receivedAt: subject.openedAt,
                        redFlags: (subject.redFlags ?? []).map(\.code.rawValue), followUpDue: reason.dueAt)
                    let job = OutboxRow()
                    job.id = UUID()
                    job.kind = Self.pageJob
                    job.caseID = subject.id
                    job.recipient = "on-call"
                    job.payload = try CustosJSON.string(page)
                    job.createdAt = time
                    job.attempts = 0
                    job.status = JobStatus.pending.rawValue
                    job.runAt = time
                    job.dedupeKey = key
                    try await job.create(on: tx)
                    audits.append(AuditRecord(
                        caseID: subject.id, subject: "case:\(subject.id.uuidString.lowercased())", action: reason.type == "emergency.received" ? "emergency.paged" : "emergency.follow_up_overdue",
                        actor: "system", at: time, details: ["page": reason.type, "followUpDue": reason.dueAt.map(Timestamp.format) ?? ""]))
                }
            }
            try await AuditWriter.append(audits, on: tx, isPostgres: isPostgres)
            return audits.count
        }
    }
}
