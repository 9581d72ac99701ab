import Foundation

/// One copyright notice from receipt to takedown or restoration (issue 9, legal-rules.md §4.3).
///
///     awaiting_confirmation ─confirm─▶ rejected | deficient | not_hosted      (closed, sender told why)
///                                   └▶ with_customer ─removed──────────▶ takedown_pending ─takedown─▶ taken_down
///                                                    ├─counter-notice──▶ countered ─restored──────▶ restored
///                                                    │                            └─court action──▶ court_action
///                                                    └─deadline passes─▶ takedown_pending (no response: a strike)
public struct CopyrightCase: Codable, Equatable, Sendable {
    public enum State: String, Codable, CaseIterable, Sendable {
        case awaitingConfirmation = "awaiting_confirmation"
        case rejected
        case deficient
        case notHosted = "not_hosted"
        case withCustomer = "with_customer"
        case takedownPending = "takedown_pending"
        case takenDown = "taken_down"
        case countered
        case restored
        case courtAction = "court_action"

        public var isClosed: Bool { [.rejected, .deficient, .notHosted, .takenDown, .restored, .courtAction].contains(self) }

        public var label: String {
            switch self {
            case .awaitingConfirmation: "awaiting the sender's confirmation"
            case .rejected: "not a valid notice"
            case .deficient: "incomplete: the sender was asked to complete it"
            case .notHosted: "not on this service"
            case .withCustomer: "with the customer"
            case .takedownPending: "takedown pending"
            case .takenDown: "taken down"
            case .countered: "counter-notice: restoration scheduled"
            case .restored: "restored"
            case .courtAction: "court action: stays down"
            }
        }
    }

    public enum CustomerAnswer: String, Codable, Sendable {
        case removed
        case counterNotice = "counter_notice"
        case noResponse = "no_response"
    }

    public var id: UUID
    public var number: String
    public var state: State
    public var receivedAt: Date
    public var text: CopyrightNoticeText
    public var confirmedAt: Date?
    public var validity: NoticeValidity?
    public var findings: [ElementFinding]
    /// The customer hosting the material, when its URLs are on a customer's hosts.
    public var tenantID: UUID?
    public var tenantName: String?
    public var responseDueAt: Date?
    public var answer: CustomerAnswer?
    public var answeredAt: Date?
    public var counterNotice: CounterNoticeText?
    public var counterFindings: [ElementFinding]?
    public var counterReceivedAt: Date?
    /// § 512(g)(2)(C): restore no earlier than `restoreFrom`, no later than `restoreBy`.
    public var restoreFrom: Date?
    public var restoreBy: Date?
    public var takenDownAt: Date?
    public var takedownBy: String?
    public var restoredAt: Date?
    public var courtAction: String?
    public var courtActionAt: Date?
    /// Set when the notice earned the customer a strike (§ 512(i)(1)(A)).
    public var strikeAt: Date?
    public var version: Int

    public init(id: UUID, number: String, text: CopyrightNoticeText, receivedAt: Date) {
        self.id = id
        self.number = number
        self.text = text
        self.receivedAt = receivedAt
        self.state = .awaitingConfirmation
        self.findings = []
        self.version = 1
    }
}

/// What happens to a copyright case.
public enum CopyrightEvent: Equatable, Sendable {
    /// The sender opened the link mailed to it: the notice is checked and routed.
    case confirm(tenantID: UUID?, tenantName: String?)
    case customerRemoved(note: String?)
    case counterNotice(CounterNoticeText)
    /// The response deadline passed without an answer.
    case noResponse
    /// The material is no longer accessible: by the connector or a staff member's confirmation.
    case recordTakedown(note: String?)
    /// The complainant reports an action seeking a court order (§ 512(g)(2)(C)).
    case reportCourtAction(reference: String)
    case recordRestoration(note: String?)

    public enum Kind: String, Sendable, CaseIterable {
        case confirm
        case customerRemoved = "customer_removed"
        case counterNotice = "counter_notice"
        case noResponse = "no_response"
        case recordTakedown = "record_takedown"
        case reportCourtAction = "report_court_action"
        case recordRestoration = "record_restoration"
    }

    public var kind: Kind {
        switch self {
        case .confirm: .confirm
        case .customerRemoved: .customerRemoved
        case .counterNotice: .counterNotice
        case .noResponse: .noResponse
        case .recordTakedown: .recordTakedown
        case .reportCourtAction: .reportCourtAction
        case .recordRestoration: .recordRestoration
        }
    }

    public var name: String { kind.rawValue }
}

extension CopyrightCase {
    /// Why an event of `kind` cannot happen to this notice at `time`, or nil when it can: the one
    /// rule the workflow enforces and the pages read to offer only what is possible.
    public func refusal(of kind: CopyrightEvent.Kind, at time: Date) -> String? {
        let states: [State] =
            switch kind {
            case .confirm: [.awaitingConfirmation]
            case .customerRemoved, .noResponse: [.withCustomer]
            case .counterNotice: [.withCustomer, .takedownPending, .takenDown]
            case .recordTakedown: [.takedownPending, .withCustomer] + (takenDownAt == nil ? [.countered] : [])
            case .reportCourtAction, .recordRestoration: [.countered]
            }
        guard states.contains(state) else { return "\(kind.rawValue) does not apply to a notice that is \(state.label)" }
        switch kind {
        case .noResponse:
            guard let due = responseDueAt, time >= due else { return "the customer's answer is not yet due" }
        case .reportCourtAction:
            guard let by = restoreBy, time < by else { return "the restore window has passed" }
        case .recordRestoration:
            guard let from = restoreFrom, time >= from else {
                return "restoration may not come before \(restoreFrom.map(Timestamp.format) ?? "the 10th business day") (17 U.S.C. § 512(g)(2)(C))"
            }
        default:
            break
        }
        return nil
    }
}

/// Who hears what after an event; the server turns these into mail and portal entries.
public enum CopyrightMessage: Equatable, Sendable {
    public enum Recipient: Equatable, Sendable {
        case complainant
        case customer
    }

    case message(to: Recipient, subject: String, text: String)
}

public struct CopyrightRefusal: Error, Equatable, Sendable, CustomStringConvertible {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}

/// The rules of the copyright workflow, pure: the server stores what `apply` returns, with its
/// audit entry and messages, in one transaction.
public struct CopyrightWorkflow: Sendable {
    public let rules: DMCARules
    public let rulebook: Rulebook
    /// Business days a customer has to answer (configurable; "expeditiously", § 512(c)(1)(C)).
    public let responseBusinessDays: Int

    public init(rulebook: Rulebook, responseBusinessDays: Int) throws {
        guard let rules = rulebook.dmca else { throw CopyrightRefusal("the rulebook has no DMCA rules (legal-rules.md §4)") }
        self.rules = rules
        self.rulebook = rulebook
        self.responseBusinessDays = responseBusinessDays
    }

    public struct Outcome: Equatable, Sendable {
        public var next: CopyrightCase
        public var messages: [CopyrightMessage]
        /// True when this event gives the customer a strike.
        public var strike: Bool
        /// True when a strike this notice gave is withdrawn: the counter-notice stood.
        public var withdrawStrike: Bool
        public var auditDetails: [String: String]
    }

    public func apply(_ event: CopyrightEvent, to current: CopyrightCase, at time: Date, by actor: String) throws -> Outcome {
        var next = current
        var messages: [CopyrightMessage] = []
        var strike = false
        var withdrawStrike = false
        var details: [String: String] = ["from": current.state.rawValue]
        if let refusal = current.refusal(of: event.kind, at: time) { throw CopyrightRefusal(refusal) }
        switch event {
        case .confirm(let tenantID, let tenantName):
            next.confirmedAt = time
            let (validity, findings) = CopyrightChecks.check(current.text, elements: rules.noticeElements)
            next.validity = validity
            next.findings = findings
            let missing = findings.filter { !$0.present }
            let missingText = missing.map { "- \($0.requirement) (\($0.citation)): \($0.reason)" }.joined(separator: "\n")
            details["validity"] = validity.rawValue
            details["missing"] = missing.map(\.id).joined(separator: ",")
            switch validity {
            case .invalid:
                next.state = .rejected
                messages.append(.message(
                    to: .complainant, subject: "Your copyright notice \(current.number) is not a valid notice",
                    text: "Your notice does not substantially comply with 17 U.S.C. § 512(c)(3)(A), so it cannot be acted on (§ 512(c)(3)(B)(i)). Missing:\n\(missingText)\n\nYou may send a new, complete notice."))
            case .substantiallyCompliant:
                next.state = .deficient
                messages.append(.message(
                    to: .complainant, subject: "Your copyright notice \(current.number) needs completing",
                    text: "Your notice identifies the work, the material and how to reach you, but it lacks elements 17 U.S.C. § 512(c)(3)(A) requires. As § 512(c)(3)(B)(ii) provides, we ask you to complete it: please send a new notice that also includes:\n\(missingText)"))
            case .valid:
                guard let tenantID else {
                    next.state = .notHosted
                    messages.append(.message(
                        to: .complainant, subject: "Copyright notice \(current.number): not on this service",
                        text: "None of the URLs in your notice is hosted on this service (\(current.text.infringingURLs.joined(separator: ", "))), so there is nothing we can remove."))
                    break
                }
                next.tenantID = tenantID
                next.tenantName = tenantName
                next.state = .withCustomer
                let due = rulebook.businessDays(responseBusinessDays, after: time, calendar: rules.restoreWindow.calendar)
                next.responseDueAt = due
                details["responseDue"] = Timestamp.format(due)
                messages.append(.message(
                    to: .customer, subject: "Copyright notice \(current.number) about material you host",
                    text: "A rights holder says material you host infringes copyright. A copy of the notice follows. Please resolve it with the complainant directly and answer in the customer portal by \(Timestamp.format(due)) UTC: that you removed the material, or a counter-notice (17 U.S.C. § 512(g)(3)) if you believe it was identified by mistake. Without an answer by then we disable access to the material, and the notice counts towards our repeat-infringer policy (§ 512(i)(1)(A)).\n\n\(Self.copy(of: current.text))"))
                messages.append(.message(
                    to: .complainant, subject: "Copyright notice \(current.number) received and forwarded",
                    text: "Your notice is complete and was forwarded to the customer hosting the material, who must answer by \(Timestamp.format(due)) UTC."))
            }
        case .customerRemoved(let note):
            next.answer = .removed
            next.answeredAt = time
            next.state = .takedownPending
            if let note { details["note"] = note }
        case .counterNotice(let counter):
            let (valid, findings) = CopyrightChecks.check(counter, elements: rules.counterNoticeElements)
            details["valid"] = String(valid)
            guard valid else {
                throw CopyrightRefusal("the counter-notice lacks what 17 U.S.C. § 512(g)(3) requires: "
                    + findings.filter { !$0.present }.map { "\($0.requirement) (\($0.reason))" }.joined(separator: "; "))
            }
            next.answer = .counterNotice
            next.answeredAt = next.answeredAt ?? time
            next.counterNotice = counter
            next.counterFindings = findings
            next.counterReceivedAt = time
            guard let window = rulebook.restoreWindow(afterCounterNoticeAt: time) else { throw CopyrightRefusal("the rulebook has no restore window") }
            next.restoreFrom = window.earliest
            next.restoreBy = window.latest
            next.state = .countered
            details["restoreFrom"] = Timestamp.format(window.earliest)
            details["restoreBy"] = Timestamp.format(window.latest)
            messages.append(.message(
                to: .complainant, subject: "Counter-notice to your copyright notice \(current.number)",
                text: "The customer sent a counter-notice (17 U.S.C. § 512(g)(3)); a copy follows. As § 512(g)(2)(B) requires, we inform you that the material will be replaced or access to it restored on or after \(Timestamp.format(window.earliest)) UTC (10 business days), and no later than \(Timestamp.format(window.latest)) UTC, unless before then you tell us you have filed an action seeking a court order against the customer (§ 512(g)(2)(C)). Report it on your notice's page.\n\n\(Self.copy(of: counter))"))
        case .noResponse:
            let due = current.responseDueAt ?? time
            next.answer = .noResponse
            next.answeredAt = time
            next.state = .takedownPending
            strike = true
            messages.append(.message(
                to: .customer, subject: "Copyright notice \(current.number): no answer, access will be disabled",
                text: "We received no answer to the copyright notice \(current.number) by \(Timestamp.format(due)) UTC. Access to the material is being disabled (17 U.S.C. § 512(c)(1)(C)), and the notice counts towards our repeat-infringer policy. You may still send a counter-notice in the customer portal."))
        case .recordTakedown(let note):
            next.takenDownAt = time
            next.takedownBy = actor
            if let note { details["note"] = note }
            if current.state == .countered {
                // Disabled while the counter-notice runs its course; restoration follows.
                break
            }
            next.state = .takenDown
            // § 512(i): a valid notice not successfully countered is a strike, counted once per notice.
            strike = current.answer != .noResponse
            messages.append(.message(
                to: .complainant, subject: "Copyright notice \(current.number): material removed",
                text: "Access to the material named in your notice has been disabled."))
            messages.append(.message(
                to: .customer, subject: "Copyright notice \(current.number): material removed",
                text: "Access to the material named in copyright notice \(current.number) has been disabled (17 U.S.C. § 512(g)(2)(A)). If you believe this is a mistake, send a counter-notice in the customer portal."))
        case .reportCourtAction(let reference):
            let reference = reference.trimmingCharacters(in: .whitespacesAndNewlines)
            guard reference.count >= 3 else { throw CopyrightRefusal("name the court and the case number of the action") }
            next.courtAction = reference
            next.courtActionAt = time
            next.state = .courtAction
            details["court"] = reference
            messages.append(.message(
                to: .customer, subject: "Copyright notice \(current.number): the complainant went to court",
                text: "The complainant reports an action seeking a court order against you (\(reference)). As 17 U.S.C. § 512(g)(2)(C) provides, the material is not restored."))
        case .recordRestoration(let note):
            next.restoredAt = time
            next.state = .restored
            if current.strikeAt != nil {
                withdrawStrike = true
                next.strikeAt = nil
            }
            if let note { details["note"] = note }
            details["late"] = String(current.restoreBy.map { time > $0 } ?? false)
            messages.append(.message(
                to: .complainant, subject: "Copyright notice \(current.number): material restored",
                text: "The customer's counter-notice stood and no court action was reported in time; the material was restored (17 U.S.C. § 512(g)(2)(C))."))
            messages.append(.message(
                to: .customer, subject: "Copyright notice \(current.number): material restored",
                text: "Your counter-notice stood: the material was restored, and the notice does not count against you."))
        }
        if strike { next.strikeAt = time }
        next.version += 1
        details["to"] = next.state.rawValue
        return Outcome(next: next, messages: messages, strike: strike, withdrawStrike: withdrawStrike, auditDetails: details)
    }

    static func copy(of notice: CopyrightNoticeText) -> String {
        var lines = ["Complainant: \(notice.complainant.name)\(notice.complainant.organisation.map { ", \($0)" } ?? "")"]
        if let owner = notice.rightsOwner { lines.append("On behalf of: \(owner)") }
        for (index, work) in notice.works.enumerated() {
            lines.append("Work \(index + 1): \(work.description)")
            for url in work.copyrightedURLs { lines.append("  original: \(url)") }
            for url in work.infringingURLs { lines.append("  allegedly infringing: \(url)") }
        }
        lines.append("Signed: \(notice.signature)")
        return lines.joined(separator: "\n")
    }

    static func copy(of counter: CounterNoticeText) -> String {
        ["Counter-notice by \(counter.name)", "Material: \(counter.material)", "Signed: \(counter.signature)",
         "States under penalty of perjury that the material was removed by mistake or misidentification; consents to the jurisdiction of the federal district court and accepts service of process."]
            .joined(separator: "\n")
    }
}

/// The repeat-infringer policy (§ 512(i)(1)(A)): `threshold` strikes within `window` open a
/// suspension case. Only valid notices not successfully countered, and unanswered ones, strike.
public struct RepeatInfringerPolicy: Equatable, Sendable {
    public var threshold: Int
    public var window: TimeInterval

    public init(threshold: Int = 3, windowDays: Int = 365) {
        self.threshold = max(1, threshold)
        self.window = TimeInterval(max(1, windowDays)) * 86_400
    }

    /// The strikes that count at `time`: those inside the window ending then.
    public func counting(_ strikes: [Date], at time: Date) -> [Date] {
        strikes.filter { $0 <= time && time.timeIntervalSince($0) < window }.sorted()
    }

    public func reachesThreshold(_ strikes: [Date], at time: Date) -> Bool { counting(strikes, at: time).count >= threshold }
}

extension Rulebook {
    /// The end of the `count`-th business day after `time` on the calendar (weekends and its holidays
    /// excluded): the response deadline of a copyright notice.
    public func businessDays(_ count: Int, after time: Date, calendar id: String) -> Date {
        let calendar = resolvedCalendar(id)
        var day = calendar.day(of: time)
        var counted = 0
        while counted < count {
            day = calendar.adding(1, to: day)
            if calendar.isWorkingDay(day) { counted += 1 }
        }
        return calendar.start(of: calendar.adding(1, to: day))
    }
}

/// What happened to copyright notices in a period (issue 9), for the transparency report. Each
/// figure counts a step by when it happened (received, confirmed, taken down, countered, restored,
/// sent to court, left unanswered, a strike given or withdrawn, a suspension case opened or
/// decided), so once the period is over its figures never change and a closed report recomputes.
public struct CopyrightFigures: Codable, Equatable, Sendable {
    public var received = 0
    public var valid = 0
    public var substantiallyCompliant = 0
    public var invalid = 0
    public var notHosted = 0
    public var takenDown = 0
    public var counterNotices = 0
    public var restored = 0
    public var courtActions = 0
    public var unanswered = 0
    public var strikes = 0
    public var strikesWithdrawn = 0
    public var suspensionCases = 0
    public var servicesEnded = 0

    public struct Strike: Sendable {
        public var at: Date
        public var withdrawnAt: Date?
        public init(at: Date, withdrawnAt: Date?) {
            self.at = at
            self.withdrawnAt = withdrawnAt
        }
    }

    public struct Suspension: Sendable {
        public var openedAt: Date
        public var decidedAt: Date?
        public var terminated: Bool
        public init(openedAt: Date, decidedAt: Date?, terminated: Bool) {
            self.openedAt = openedAt
            self.decidedAt = decidedAt
            self.terminated = terminated
        }
    }

    public init(cases: [CopyrightCase], strikes: [Strike] = [], suspensions: [Suspension] = [], in period: ReportPeriod) {
        func inside(_ date: Date?) -> Bool { date.map(period.contains) ?? false }
        for subject in cases {
            if inside(subject.receivedAt) { received += 1 }
            if inside(subject.confirmedAt) {
                switch subject.validity {
                case .valid?: if subject.tenantID == nil { notHosted += 1 } else { valid += 1 }
                case .substantiallyCompliant?: substantiallyCompliant += 1
                case .invalid?: invalid += 1
                case nil: break
                }
            }
            if inside(subject.takenDownAt) { takenDown += 1 }
            if inside(subject.counterReceivedAt) { counterNotices += 1 }
            if inside(subject.restoredAt) { restored += 1 }
            if inside(subject.courtActionAt) { courtActions += 1 }
            if subject.answer == .noResponse && inside(subject.answeredAt) { unanswered += 1 }
        }
        self.strikes = strikes.filter { inside($0.at) }.count
        strikesWithdrawn = strikes.filter { inside($0.withdrawnAt) }.count
        suspensionCases = suspensions.filter { inside($0.openedAt) }.count
        servicesEnded = suspensions.filter { $0.terminated && inside($0.decidedAt) }.count
    }

    /// Label and figure, in the order a table shows them.
    public var rows: [(String, Int)] {
        [("Notices received", received), ("valid (§ 512(c)(3)(A))", valid),
         ("substantially compliant: sender asked to complete (§ 512(c)(3)(B)(ii))", substantiallyCompliant), ("invalid", invalid),
         ("valid, about material not on this service", notHosted), ("material taken down", takenDown), ("counter-notices (§ 512(g)(3))", counterNotices),
         ("restored after a counter-notice", restored), ("kept down: the complainant went to court", courtActions),
         ("customer did not answer", unanswered), ("strikes given (§ 512(i)(1)(A))", strikes), ("strikes withdrawn", strikesWithdrawn),
         ("suspension cases opened", suspensionCases), ("services ended", servicesEnded)]
    }
}
