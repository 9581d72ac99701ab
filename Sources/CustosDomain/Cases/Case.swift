import Foundation

/// One approval by one named person at one time.
public struct Approval: Codable, Equatable, Hashable, Sendable {
    public var principalID: UUID
    public var by: String
    public var at: Date
    /// For scope approvals: the categories approved. Both approvals must name the same scope.
    public var categories: [DataCategory]

    public init(principalID: UUID, by: String, at: Date, categories: [DataCategory] = []) {
        self.principalID = principalID
        self.by = by
        self.at = at
        self.categories = categories
    }
}

/// C4: where the redirect to the customer stands.
public enum RedirectStatus: String, Codable, Sendable {
    /// Letter sent to the requester, waiting for its answer.
    case pending
    /// The requester will approach the customer itself; the case closes as redirected.
    case approachingCustomer = "approaching_customer"
    /// The requester insists on production from the provider; the redirect attempt is on record.
    case requesterInsisted = "requester_insisted"
}

/// A recorded reason why an enterprise demand may proceed without a redirect attempt (C4).
public enum RedirectExcuse: String, Codable, CaseIterable, Sendable {
    /// A gag order forbids telling the customer, so the requester cannot be sent to it.
    case nonDisclosureOrder = "non_disclosure_order"
    /// Danger of death or serious injury leaves no time (18 U.S.C. § 2702(c)(4)).
    case emergency
}

/// What the customer said in the portal, and when.
public struct CustomerAnswerRecord: Codable, Equatable, Sendable {
    public var answer: CustomerAnswer
    public var note: String?
    public var by: String
    public var at: Date
    /// Documents the customer sent with an objection (stored as case attachments).
    public var attachments: [DemandDocument]?
    /// How staff dealt with an objection: a challenge was filed, or it was dismissed with reasons.
    public var review: ObjectionReview?

    public init(answer: CustomerAnswer, note: String?, by: String, at: Date, attachments: [DemandDocument]? = nil, review: ObjectionReview? = nil) {
        self.answer = answer
        self.note = note
        self.by = by
        self.at = at
        self.attachments = attachments
        self.review = review
    }
}

/// The end of a customer objection's challenge review (C8).
public struct ObjectionReview: Codable, Equatable, Sendable {
    public enum Outcome: String, Codable, Sendable {
        case challengeFiled = "challenge_filed"
        case dismissed
    }

    public var outcome: Outcome
    public var note: String
    public var by: String
    public var at: Date

    public init(outcome: Outcome, note: String, by: String, at: Date) {
        self.outcome = outcome
        self.note = note
        self.by = by
        self.at = at
    }
}

/// What is being challenged, and under which provision (C8).
public enum ChallengeKind: String, Codable, CaseIterable, Sendable {
    /// Motion to quash or modify (e.g. 18 U.S.C. § 2703(d) burden motion).
    case motionToQuash = "motion_to_quash"
    /// CLOUD Act comity motion, 18 U.S.C. § 2703(h)(2).
    case comityMotion = "comity_motion"
    /// Judicial review of an NSL or its nondisclosure requirement, 18 U.S.C. § 3511.
    case nslReview = "nsl_review"
    /// Petition to the FISC against a § 702 directive, 50 U.S.C. § 1881a(i)(4).
    case fisa702Petition = "fisa_702_petition"
    /// Reasoned objection under Reg. (EU) 2023/1543 Art. 17.
    case art17Objection = "art17_objection"
    /// Challenge to a gag order (18 U.S.C. § 2705(b)).
    case gagOrder = "gag_order"
    case other

    public var label: String {
        switch self {
        case .motionToQuash: "motion to quash or modify"
        case .comityMotion: "§ 2703(h) comity motion"
        case .nslReview: "§ 3511 NSL review"
        case .fisa702Petition: "FISA § 702 petition"
        case .art17Objection: "e-Evidence Art. 17 objection"
        case .gagOrder: "gag order challenge"
        case .other: "challenge"
        }
    }

    /// The assessment deadline that sets this challenge's filing date, when the rulebook has one.
    public var deadlineKind: String? {
        switch self {
        case .comityMotion: "comity_motion"
        case .art17Objection: "art17_objection"
        case .motionToQuash: "objection"
        default: nil
        }
    }
}

/// A court challenge of the demand or of its gag order (C8).
public struct Challenge: Codable, Equatable, Sendable {
    /// Optional so that challenges recorded before kinds existed still decode.
    public var kind: ChallengeKind?
    public var court: String
    public var grounds: String
    public var filedAt: Date
    public var deadline: Date?
    public var filedBy: String
    /// nil while pending; true when the court upheld the demand.
    public var demandUpheld: Bool?
    public var decidedAt: Date?
    /// What the court decided, in the reviewer's words (modified scope, reasons).
    public var decisionNote: String?

    public var isPending: Bool { decidedAt == nil }

    public init(kind: ChallengeKind = .other, court: String, grounds: String, filedAt: Date, deadline: Date?, filedBy: String) {
        self.kind = kind
        self.court = court
        self.grounds = grounds
        self.filedAt = filedAt
        self.deadline = deadline
        self.filedBy = filedBy
    }
}

/// One requester or document check recorded during verification.
public struct VerificationCheck: Codable, Equatable, Sendable {
    public var name: String
    public var passed: Bool
    public var note: String?
    public var by: String
    public var at: Date

    public init(name: String, passed: Bool, note: String?, by: String, at: Date) {
        self.name = name
        self.passed = passed
        self.note = note
        self.by = by
        self.at = at
    }
}

/// An out-of-band call to the requesting agency on a number from the agency directory, never one
/// from the request (legal-rules.md §6.3 E2): who called, whom they reached, when, and the result.
public struct CallbackRecord: Codable, Equatable, Sendable {
    /// The directory number called, copied as it was when called.
    public var phone: AgencyPhone
    /// Who answered and confirmed (or did not): "Sgt. Miller, duty desk".
    public var spokeWith: String
    /// Whether the agency confirmed the request and the requester.
    public var confirmed: Bool
    public var note: String?
    public var by: String
    public var at: Date

    public init(phone: AgencyPhone, spokeWith: String, confirmed: Bool, note: String?, by: String, at: Date) {
        self.phone = phone
        self.spokeWith = spokeWith
        self.confirmed = confirmed
        self.note = note
        self.by = by
        self.at = at
    }
}

/// The follow-up legal process owed after an emergency disclosure (legal-rules.md §6.3 E8;
/// Reg. (EU) 2023/1543 Art. 4(5) for unvalidated emergency orders): when it is due and how it ended.
public struct FollowUpProcess: Codable, Equatable, Sendable {
    public var dueAt: Date
    /// Where the due date comes from (a rulebook rule id, or `policy`).
    public var basis: String
    public var resolvedAt: Date?
    /// True when the process arrived; false when the reviewer recorded that it never came.
    public var received: Bool?
    public var reference: String?
    public var note: String?
    public var by: String?

    public init(dueAt: Date, basis: String) {
        self.dueAt = dueAt
        self.basis = basis
    }

    public var isResolved: Bool { resolvedAt != nil }
}

/// The life of one demand: its state plus every parallel fact the guards need.
public struct Case: Codable, Equatable, Sendable, Identifiable {
    public var id: UUID
    /// Human reference shown to staff and agencies, e.g. `C-2026-00042`.
    public var number: String
    public var demandID: UUID
    public var agencyID: UUID
    public var customer: CustomerLink?
    public var state: CaseState
    public var outcome: CaseOutcome?
    public var requestedCategories: [DataCategory]
    public var instrument: LegalInstrument
    public var country: String
    public var isEmergency: Bool
    public var isPreservation: Bool
    public var hasNonDisclosureOrder: Bool
    public var openedAt: Date
    public var updatedAt: Date
    public var dueAt: Date?
    public var checks: [VerificationCheck]
    /// Callbacks to the agency on directory numbers (issue 8); nil on cases from before them.
    public var callbacks: [CallbackRecord]?
    /// Warning signs about the requester, found at intake (issue 8); nil on cases from before them.
    public var redFlags: [RedFlag]?
    public var redirect: RedirectStatus?
    public var redirectExcuse: RedirectExcuse?
    /// The letter sent to the requester, and when its answer is due (C4).
    public var redirectLetter: String?
    public var redirectAnswerDueAt: Date?
    public var challenge: Challenge?
    public var scopeApprovals: [Approval]
    public var approvedScope: [DataCategory]?
    public var releaseApprovals: [Approval]
    public var recordsCollected: Int?
    public var preservedUntil: Date?
    /// Renewals of the preservation granted so far (§ 2703(f)(2) and Art. 11(1) allow one).
    public var preservationRenewals: Int?
    /// E8: after an emergency release, the follow-up legal process the requester owes.
    public var followUp: FollowUpProcess?
    public var closingReason: String?
    /// When the production was released: the moment effect was given to the demand (DSA Art. 15(1)(a)).
    public var releasedAt: Date?
    /// When staff marked the emergency over (E9); notices held for it are released then.
    public var emergencyEndedAt: Date?
    /// The customer's answer to its notice: consent (a direction to disclose), objection, or
    /// answering the requester itself.
    public var customerAnswer: CustomerAnswerRecord?
    /// What the rulebook says the law compels for this demand; every scope approval is checked
    /// against it. nil only for cases opened before the rulebook existed, until reassessed.
    public var assessment: Assessment?
    /// Bumped by every accepted event; storage uses it for optimistic concurrency.
    public var version: Int

    public init(
        id: UUID, number: String, demand: Demand, customer: CustomerLink?, openedAt: Date, dueAt: Date?,
        assessment: Assessment? = nil
    ) {
        self.id = id
        self.number = number
        self.demandID = demand.id
        self.agencyID = demand.agencyID
        self.customer = customer
        self.state = .received
        self.outcome = nil
        self.requestedCategories = demand.categories
        self.instrument = demand.instrument
        self.country = demand.jurisdiction.country
        self.isEmergency = demand.isEmergency
        self.isPreservation = demand.isPreservation
        self.hasNonDisclosureOrder = demand.nonDisclosureOrder != nil
        self.redFlags = demand.redFlags
        self.openedAt = openedAt
        self.updatedAt = openedAt
        self.dueAt = dueAt
        self.checks = []
        self.scopeApprovals = []
        self.releaseApprovals = []
        self.assessment = assessment
        self.version = 0
    }

    public var isClosed: Bool { state == .closed }

    /// The law bars telling the customer: a gag order on the demand, or a bar the rulebook finds in
    /// the instrument itself (NSL certification, FISA secrecy, e-Evidence Art. 13 confidentiality).
    public var noticeIsLegallyBarred: Bool {
        switch assessment?.notice.status {
        case .barredUntil?, .barredIndefinitely?: true
        default: hasNonDisclosureOrder
        }
    }

    /// The customer objected and no reviewer has yet filed a challenge or dismissed the objection
    /// with reasons: the case waits in challenge review and nothing is produced (C8).
    public var awaitsChallengeReview: Bool {
        customerAnswer?.answer == .object && customerAnswer?.review == nil && !isClosed
    }

    /// The requester was sent to the customer and has not answered the letter by its date (C4).
    public func isRedirectAnswerOverdue(at time: Date) -> Bool {
        state == .redirectPending && (redirectAnswerDueAt.map { $0 < time } ?? false)
    }

    /// An emergency disclosure whose follow-up legal process is overdue and unresolved (E8).
    public func isFollowUpOverdue(at time: Date) -> Bool {
        guard let followUp, !followUp.isResolved else { return false }
        return followUp.dueAt < time
    }

    /// A demand to preserve, not to disclose: flagged so by the requester, or by the rulebook
    /// for its instrument (§ 2703(f) letter, EPOC-PR, Marco Civil Art. 13 request).
    public var isPreservationDemand: Bool {
        isPreservation || assessment?.flags.contains(.preservationOnly) == true
    }

    /// The rulebook's preservation expiry for this demand, with its renewal terms.
    public var preservationDeadline: AssessedDeadline? {
        assessment?.deadlines.filter { $0.kind == "preservation_expiry" }.min { $0.due < $1.due }
    }

    /// The latest result of each verification check by name.
    public func latestCheck(named name: String) -> VerificationCheck? {
        checks.last { $0.name == name }
    }

    /// The latest directory callback: an emergency is released only when it confirmed (E2).
    public var latestCallback: CallbackRecord? { callbacks?.last }

    /// What still stands between an emergency and its release, on top of the two release
    /// approvals (legal-rules.md §6.3 E2/E7): a confirmed callback on a directory number, then the
    /// passing checks `WorkflowPolicy.emergencyReleaseChecks`. nil when nothing does, or when the
    /// case is no emergency. The workflow's release guard and the case page both read it.
    public var emergencyReleaseBlocker: String? {
        guard isEmergency else { return nil }
        guard latestCallback?.confirmed == true else {
            return "an emergency release needs a confirmed callback on a number from the agency directory (legal-rules.md §6.3 E2)"
        }
        let missing = WorkflowPolicy.emergencyReleaseChecks.filter { latestCheck(named: $0)?.passed != true }
        guard missing.isEmpty else {
            return "an emergency release needs passing checks: \(missing.joined(separator: ", ")) (legal-rules.md §6.3 E2)"
        }
        return nil
    }

    /// Enterprise customers answer for themselves, so C4 asks for a redirect first.
    public var needsRedirectFirst: Bool { customer?.kind == .enterprise }
}
