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
            // Every page that is due now, then one query for those already queued.
            var pages: [(subject: Case, type: String, dueAt: Date?, key: String)] = []
            for row in try await CaseRow.query(on: tx).filter(\.$isEmergency == true).filter(\.$state != CaseState.closed.rawValue).all() {
                let subject = try row.domain()
                var reasons: [(type: String, dueAt: Date?)] = [("emergency.received", nil)]
                if let followUp = subject.followUp, !followUp.isResolved, followUp.dueAt <= time {
                    reasons.append(("emergency.follow_up_overdue", followUp.dueAt))
                }
                pages += reasons.map { (subject, $0.type, $0.dueAt, "page:\($0.type):\(subject.id.uuidString.lowercased())") }
            }
            guard !pages.isEmpty else { return 0 }
            let queued = Set(try await OutboxRow.query(on: tx).filter(\.$dedupeKey ~~ pages.map(\.key)).all().compactMap(\.dedupeKey))
            for due in pages where !queued.contains(due.key) {
                let page = Page(
                    type: due.type, caseID: due.subject.id.uuidString.lowercased(), number: due.subject.number, receivedAt: due.subject.openedAt,
                    redFlags: (due.subject.redFlags ?? []).map(\.code.rawValue), followUpDue: due.dueAt)
                let job = OutboxRow()
                job.id = UUID()
                job.kind = Self.pageJob
                job.caseID = due.subject.id
                job.recipient = "on-call"
                job.payload = try CustosJSON.string(page)
                job.createdAt = time
                job.attempts = 0
                job.status = JobStatus.pending.rawValue
                job.runAt = time
                job.dedupeKey = due.key
                try await job.create(on: tx)
                audits.append(AuditRecord(
                    caseID: due.subject.id, subject: "case:\(due.subject.id.uuidString.lowercased())",
                    action: due.type == "emergency.received" ? "emergency.paged" : "emergency.follow_up_overdue", actor: "system", at: time,
                    details: ["page": due.type, "followUpDue": due.dueAt.map(Timestamp.format) ?? ""]))
            }
            try await AuditWriter.append(audits, on: tx, isPostgres: isPostgres)
            return audits.count
        }
    }
}
