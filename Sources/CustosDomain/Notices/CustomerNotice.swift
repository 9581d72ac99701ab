import Foundation

/// Where one customer notice stands (C5).
public enum CustomerNoticeState: String, Codable, CaseIterable, Sendable {
    /// A legal bar forbids sending it yet; it is released automatically when the bar lapses.
    case held
    /// Queued for delivery.
    case due
    case sent
    /// Delivery failed on every retry; shown to staff on the notices board.
    case failed
    /// No notice can be sent; `reason` says why (unlinked service, no customer, no contact).
    case notPossible = "not_possible"

    /// A customer sees a notice only once no bar holds it back.
    public var isVisibleToCustomer: Bool { self == .due || self == .sent || self == .failed }
}

/// What kind of bar the law put on a notice when it was planned; kept after the bar lifts, so
/// reports can count indefinite bars (C8, C12) however each case ended.
public enum NoticeBarKind: String, Codable, CaseIterable, Sendable {
    /// No bar: the notice was due at once (or could not be sent at all).
    case none
    /// A gag order with an end date (§ 2705(b) with a date, a dated confidentiality order).
    case dated
    /// A bar with no end date: an indefinite order, an NSL, FISA secrecy, e-Evidence Art. 13.
    case indefinite
    /// Held only until staff mark an emergency over (§ 2702(b)(8), E9).
    case emergency
    /// Held because the case had no rulebook assessment to tell.
    case unassessed
}

/// One attempt by staff to get a bar waived or narrowed (asking the prosecutor, moving the court).
public struct WaiverEffort: Codable, Equatable, Sendable {
    public var note: String
    public var by: String
    public var at: Date

    public init(note: String, by: String, at: Date) {
        self.note = note
        self.by = by
        self.at = at
    }
}

/// One channel's accepted delivery of a notice (email, webhook), with what the receiver answered.
public struct ChannelDelivery: Codable, Equatable, Sendable {
    public var channel: String
    public var at: Date
    public var receipt: String

    public init(channel: String, at: Date, receipt: String) {
        self.channel = channel
        self.at = at
        self.receipt = receipt
    }
}

/// The notice that tells a customer about a demand for its data, with a copy of the demand (C5).
public struct CustomerNotice: Codable, Equatable, Sendable, Identifiable {
    public var id: UUID
    public var caseID: UUID
    public var tenantID: UUID?
    /// The tenant's notice contacts (consumers: the account's address).
    public var recipients: [String]
    public var state: CustomerNoticeState
    /// Why it is held or not possible, or how it was released; cites the rules.
    public var reason: String
    /// A dated bar lapses at this instant and the notice is released then.
    public var holdUntil: Date?
    /// Held until staff mark the emergency over (E9).
    public var waitsForEmergencyEnd: Bool
    /// When staff are reminded to check whether a dated bar is being renewed.
    public var reminderAt: Date?
    public var reminderSent: Bool
    public var createdAt: Date
    public var updatedAt: Date
    public var sentAt: Date?
    /// Staff's efforts to obtain a waiver of the bar, in order (optional so older notices decode).
    public var waiverEfforts: [WaiverEffort]?
    /// The bar found when the notice was planned (nil on notices from before it was recorded).
    public var bar: NoticeBarKind?
    /// Each channel that accepted the notice; a retry skips these, so no channel sends twice.
    public var deliveries: [ChannelDelivery]?

    public func wasDelivered(via channel: String) -> Bool { deliveries?.contains { $0.channel == channel } ?? false }

    /// Stable across retries and restarts, so receivers can drop a repeated delivery.
    public var deliveryID: String { "notice_" + id.uuidString.lowercased() }

    public var isHeldIndefinitely: Bool { state == .held && holdUntil == nil && !waitsForEmergencyEnd }
}

/// Decides whether and when a customer notice goes out (C5), purely from the case and its assessment.
public enum NoticePlanner {
    /// Staff are reminded this long before a dated bar lapses to check for a renewal.
    public static let defaultReminderLead: TimeInterval = 14 * 86_400

    /// The notice for a case accepted for handling.
    /// - Parameter tenantEndpoint: the tenant's own webhook, when the provider set one; it can carry
    ///   the notice even when the tenant has no notice contact.
    public static func plan(
        for subject: Case, recipients: [String], tenantEndpoint: String? = nil, id: UUID, at time: Date,
        reminderLead: TimeInterval = defaultReminderLead
    ) -> CustomerNotice {
        var notice = CustomerNotice(
            id: id, caseID: subject.id, tenantID: subject.customer?.tenantID, recipients: recipients, state: .due,
            reason: "no legal bar: the customer is told promptly with a copy of the demand (commitment C5)",
            holdUntil: nil, waitsForEmergencyEnd: false, reminderAt: nil, reminderSent: false, createdAt: time, updatedAt: time,
            sentAt: nil)
        notice.bar = NoticeBarKind.none
        guard let customer = subject.customer else {
            notice.state = .notPossible
            notice.reason = "no customer matched the targets the demand names"
            return notice
        }
        guard let assessment = subject.assessment else {
            notice.bar = .unassessed
            notice.state = .held
            notice.reason = "held: the case has no rulebook assessment yet, so Custos cannot tell whether the law bars notice"
            return notice
        }
        let cited = assessment.notice.rules.isEmpty ? "" : " (rule \(assessment.notice.rules.joined(separator: ", ")))"
        switch assessment.notice.status {
        case .notPossible:
            notice.state = .notPossible
            notice.reason = "not possible: " + assessment.notice.explanation + cited
            return notice
        case .barredIndefinitely:
            notice.bar = .indefinite
            notice.state = .held
            notice.reason = "held indefinitely: " + assessment.notice.explanation + cited
        case .barredUntil:
            notice.bar = .dated
            notice.state = .held
            notice.holdUntil = assessment.notice.until
            notice.reason = "held until \(assessment.notice.until.map(Timestamp.format) ?? "?"): " + assessment.notice.explanation + cited
            if let until = assessment.notice.until, until.addingTimeInterval(-reminderLead) > time {
                notice.reminderAt = until.addingTimeInterval(-reminderLead)
            }
        case .mayNotify:
            break
        }
        if assessment.notice.afterEmergency && subject.isEmergency {
            notice.waitsForEmergencyEnd = true
            if notice.state == .due {
                notice.bar = .emergency
                notice.state = .held
                notice.reason = "held until the emergency is marked over (E9)" + cited
            }
        }
        if recipients.isEmpty && tenantEndpoint == nil && notice.state != .notPossible {
            notice.state = .notPossible
            notice.reason = "not possible: tenant \(customer.tenantName) has no notice contact on record"
        }
        return notice
    }

    /// Releases a held notice whose bar has lapsed at `time`; nil when it must stay held.
    public static func releaseIfLapsed(_ notice: CustomerNotice, emergencyOver: Bool, at time: Date) -> CustomerNotice? {
        guard notice.state == .held else { return nil }
        if notice.waitsForEmergencyEnd && !emergencyOver { return nil }
        var released = notice
        if let until = notice.holdUntil {
            guard until <= time else { return nil }
            released.reason = "released: the bar lapsed at \(Timestamp.format(until))"
        } else if notice.waitsForEmergencyEnd {
            released.reason = "released: the emergency was marked over"
        } else {
            return nil  // indefinite: only staff lift it, with the reason on record
        }
        released.state = .due
        released.updatedAt = time
        return released
    }

    /// Records an effort to get a bar waived; only a held notice has a bar to waive.
    public static func logWaiverEffort(_ notice: CustomerNotice, note: String, by: String, at time: Date) -> CustomerNotice? {
        let note = note.trimmingCharacters(in: .whitespacesAndNewlines)
        guard notice.state == .held, !note.isEmpty else { return nil }
        var next = notice
        next.waiverEfforts = (notice.waiverEfforts ?? []) + [WaiverEffort(note: note, by: by, at: time)]
        next.updatedAt = time
        return next
    }

    /// Staff lift a bar (order vacated, waiver obtained); the reason is recorded with the notice.
    public static func lift(_ notice: CustomerNotice, reason: String, at time: Date) -> CustomerNotice? {
        guard notice.state == .held else { return nil }
        var lifted = notice
        lifted.state = .due
        lifted.reason = "released by staff: " + reason
        lifted.updatedAt = time
        return lifted
    }
}
