import CustosDomain
import Foundation

/// One customer notice as staff see it, on the board and on its case page.
public struct NoticeRowModel: Sendable {
    public var id: String
    public var caseID: String
    public var caseNumber: String
    public var tenant: String
    public var state: String
    public var reason: String
    public var recipients: String
    public var holdUntil: String?
    public var reminderAt: String?
    public var isReminded: Bool
    public var updatedAt: String
    public var sentAt: String?
    public var canLift: Bool
    public var liftPath: String
    public var waiverPath: String
    /// Staff's efforts to have the bar waived, oldest first.
    public var waiverEfforts: [String]
    public var isHeldIndefinitely: Bool
    /// Each channel that accepted the notice, with what the receiver answered.
    public var deliveries: [String]
    public var hasDeliveries: Bool
    public var hasWaiverEfforts: Bool

    public init(_ notice: CustomerNotice, caseNumber: String, tenant: String?, canLift: Bool) {
        id = notice.id.uuidString.lowercased()
        caseID = notice.caseID.uuidString.lowercased()
        self.caseNumber = caseNumber
        self.tenant = tenant ?? "—"
        state = notice.state.rawValue.replacingOccurrences(of: "_", with: " ")
        reason = notice.reason
        recipients = notice.recipients.isEmpty ? "—" : notice.recipients.joined(separator: ", ")
        holdUntil = notice.holdUntil.map(Timestamp.format)
        reminderAt = notice.reminderAt.map(Timestamp.format)
        isReminded = notice.reminderSent
        updatedAt = Timestamp.format(notice.updatedAt)
        sentAt = notice.sentAt.map(Timestamp.format)
        self.canLift = canLift && notice.state == .held
        liftPath = "/staff/notices/\(id)/lift"
        waiverPath = "/staff/notices/\(id)/waiver"
        waiverEfforts = (notice.waiverEfforts ?? []).map { "\(Timestamp.format($0.at)) \($0.by): \($0.note)" }
        hasWaiverEfforts = !waiverEfforts.isEmpty
        isHeldIndefinitely = notice.isHeldIndefinitely
        deliveries = (notice.deliveries ?? []).map { "\(Timestamp.format($0.at)) \($0.channel): \($0.receipt)" }
        hasDeliveries = !deliveries.isEmpty
    }
}

/// A delivery job that exhausted its retries.
public struct DeadLetterModel: Sendable {
    public var id: String
    public var caseID: String?
    public var attempts: Int
    public var lastError: String
    public var createdAt: String
    public var retryPath: String
    public var canRetry: Bool

    public init(id: UUID, caseID: UUID?, attempts: Int, lastError: String?, createdAt: Date, canRetry: Bool) {
        self.id = id.uuidString.lowercased()
        self.caseID = caseID?.uuidString.lowercased()
        self.attempts = attempts
        self.lastError = lastError ?? "—"
        self.createdAt = Timestamp.format(createdAt)
        retryPath = "/staff/jobs/\(self.id)/retry"
        self.canRetry = canRetry
    }
}

/// The notices board (C5): held, due, sent, failed, and those that cannot be sent, with reasons.
public struct NoticesBoardModel: Sendable {
    public struct Section: Sendable {
        public var id: String
        public var title: String
        public var explanation: String
        public var rows: [NoticeRowModel]
        public var isEmpty: Bool
        public var count: Int
    }

    public var sections: [Section]
    public var deadLetters: [DeadLetterModel]
    public var hasDeadLetters: Bool
    /// Shown when no delivery channel is configured, so due notices are waiting for one.
    public var channelWarning: String?
    /// Bars counted over a period (C8, C12): indefinite bars stay counted after they are lifted.
    public struct BarCount: Sendable {
        public var id: String
        public var label: String
        public var count: Int
    }

    public var barPeriod: String
    public var barCounts: [BarCount]
    /// Notices held right now with no end date; each raised the challenge flag.
    public var heldIndefinitely: Int

    public init(
        rows: [NoticeRowModel], deadLetters: [DeadLetterModel], channelWarning: String?, barPeriod: String = "",
        barCounts: [NoticeBarKind: Int] = [:]
    ) {
        self.barPeriod = barPeriod
        let labels: [(NoticeBarKind, String)] = [
            (.indefinite, "with no end date (each flagged for a challenge)"), (.dated, "with an end date"),
            (.emergency, "until an emergency ended"), (.none, "with no bar"),
        ]
        self.barCounts = labels.map { BarCount(id: $0.0.rawValue, label: $0.1, count: barCounts[$0.0] ?? 0) }
        heldIndefinitely = rows.filter(\.isHeldIndefinitely).count
        let order: [(String, String, String)] = [
            ("held", "Held by a legal bar", "Released automatically when a dated bar lapses; indefinite bars are lifted by staff with the reason recorded."),
            ("due", "Due for delivery", "Queued; the runner delivers them and retries with backoff."),
            ("failed", "Failed", "Every retry failed; see the dead letters below."),
            ("not possible", "Not possible", "No notice can be sent; the reason is on record."),
            ("sent", "Sent", "Delivered to the channel."),
        ]
        sections = order.map { state, title, explanation in
            let matching = rows.filter { $0.state == state }
            return Section(id: state.replacingOccurrences(of: " ", with: "_"), title: title, explanation: explanation, rows: matching, isEmpty: matching.isEmpty, count: matching.count)
        }
        self.deadLetters = deadLetters
        hasDeadLetters = !deadLetters.isEmpty
        self.channelWarning = channelWarning
    }
}
