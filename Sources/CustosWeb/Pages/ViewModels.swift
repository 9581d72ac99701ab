import CustosDomain
import Foundation

/// Login page for one kind of user (`/staff/login`, `/agency/login`, `/customer/login`).
public struct LoginModel: Sendable {
    public var heading: String
    public var action: String
    public var email: String
    /// The agency portal links to self-registration.
    public var offersRegistration: Bool
    /// The staff portal's sign-in through the provider's identity provider, when configured.
    public var identityProviderPath: String?
    /// The password form is shown (not in OIDC-only mode).
    public var offersPassword: Bool
    public init(
        heading: String, action: String, email: String = "", offersRegistration: Bool = false, identityProviderPath: String? = nil, offersPassword: Bool = true
    ) {
        self.heading = heading
        self.action = action
        self.email = email
        self.offersRegistration = offersRegistration
        self.identityProviderPath = identityProviderPath
        self.offersPassword = offersPassword
    }
}

/// One row of the staff queue or an agency's list.
public struct CaseRowModel: Sendable {
    public var id: String
    public var number: String
    public var state: String
    public var stateLabel: String
    public var outcome: String
    public var instrument: String
    public var country: String
    public var tenant: String
    public var isEmergency: Bool
    public var due: String
    public var isOverdue: Bool
    public var opened: String
    public var reference: String
    /// For the agency: the redirect letter, when the case has one (C4).
    public var letterPath: String?
    /// For the agency: its released package's download, while the link is open (C3).
    public var packagePath: String?
    public var packageUntil: String?
    /// For the agency: when its answer to the redirect is due, while it is open (C4).
    public var redirectAnswerDue: String?
    /// Staff only: the customer objected and no reviewer has dealt with it yet (C8).
    public var awaitsChallengeReview: Bool
    /// Staff only: the requester has not answered the redirect letter by its date (C4).
    public var redirectAnswerOverdue: Bool
    /// An emergency disclosure whose follow-up legal process is overdue (E8).
    public var followUpOverdue: Bool

    public init(_ value: Case, reference: String = "", now: Date) {
        id = value.id.uuidString.lowercased()
        number = value.number
        state = value.state.rawValue
        stateLabel = value.state.label
        outcome = value.outcome?.rawValue ?? ""
        instrument = value.instrument.rawValue
        country = value.country
        tenant = value.customer?.tenantName ?? "—"
        isEmergency = value.isEmergency
        due = value.dueAt.map(Timestamp.format) ?? ""
        isOverdue = !value.isClosed && (value.dueAt.map { $0 < now } ?? false)
        opened = Timestamp.format(value.openedAt)
        self.reference = reference
        letterPath = value.redirectLetter == nil ? nil : "/agency/cases/\(value.id.uuidString.lowercased())/redirect-letter"
        redirectAnswerDue = value.state == .redirectPending ? value.redirectAnswerDueAt.map(Timestamp.format) : nil
        awaitsChallengeReview = value.awaitsChallengeReview
        redirectAnswerOverdue = value.isRedirectAnswerOverdue(at: now)
        followUpOverdue = value.isFollowUpOverdue(at: now)
    }
}

public struct Option: Sendable {
    public var value: String
    public var label: String
    public var isSelected: Bool
    public init(value: String, label: String, isSelected: Bool) {
        self.value = value
        self.label = label
        self.isSelected = isSelected
    }
}

/// The staff queue with its filters.
public struct QueueModel: Sendable {
    /// The queue's "needs attention" filters, beside state, instrument and country.
    public enum Attention: String, CaseIterable, Sendable {
        /// The emergency lane (issue 8): open emergency requests only.
        case emergency
        /// Customer objections waiting for a reviewer to file a challenge or dismiss them (C8).
        case challengeReview = "challenge_review"
        /// Redirect letters the requester has not answered by their date (C4).
        case redirectOverdue = "redirect_overdue"
        /// Emergency disclosures whose follow-up legal process is overdue (legal-rules.md §6.3 E8).
        case followUpOverdue = "follow_up_overdue"

        public var label: String {
            switch self {
            case .emergency: "emergency requests (the emergency lane)"
            case .challengeReview: "customer objections awaiting challenge review"
            case .redirectOverdue: "redirects the requester has not answered in time"
            case .followUpOverdue: "emergency disclosures without their follow-up legal process"
            }
        }

        public func matches(_ row: CaseRowModel) -> Bool {
            switch self {
            case .emergency: row.isEmergency
            case .challengeReview: row.awaitsChallengeReview
            case .redirectOverdue: row.redirectAnswerOverdue
            case .followUpOverdue: row.followUpOverdue
            }
        }
    }

    public var rows: [CaseRowModel]
    public var states: [Option]
    public var instruments: [Option]
    public var attentions: [Option]
    public var country: String
    public var isEmpty: Bool
    public var count: Int
    /// How many open cases in the current result need each kind of attention.
    public var challengeReviewCount: Int
    public var redirectOverdueCount: Int
    public var followUpOverdueCount: Int
    public var hasOverdueFollowUps: Bool
    /// Stored, not computed: Mustache reads models through Mirror, which sees stored properties only.
    public var hasChallengeReviews: Bool
    public var hasOverdueRedirects: Bool
    public var emergencyCount: Int
    public var hasEmergencies: Bool

    public init(rows: [CaseRowModel], states: [Option], instruments: [Option], country: String, attention: Attention? = nil) {
        emergencyCount = rows.filter(\.isEmergency).count
        hasEmergencies = emergencyCount > 0
        challengeReviewCount = rows.filter(\.awaitsChallengeReview).count
        redirectOverdueCount = rows.filter(\.redirectAnswerOverdue).count
        hasChallengeReviews = challengeReviewCount > 0
        hasOverdueRedirects = redirectOverdueCount > 0
        followUpOverdueCount = rows.filter(\.followUpOverdue).count
        hasOverdueFollowUps = followUpOverdueCount > 0
        attentions = Attention.allCases.map { Option(value: $0.rawValue, label: $0.label, isSelected: $0 == attention) }
        let rows = attention.map { wanted in rows.filter { wanted.matches($0) } } ?? rows
        self.rows = rows
        self.isEmpty = rows.isEmpty
        self.count = rows.count
        self.states = states
        self.instruments = instruments
        self.country = country
    }
}

public struct FactModel: Sendable {
    public var label: String
    public var value: String
    public init(_ label: String, _ value: String) {
        self.label = label
        self.value = value
    }
}

public struct DocumentModel: Sendable {
    public var filename: String
    public var mediaType: String
    public var byteCount: Int
    public var sha256: String
    public var downloadPath: String
    public init(filename: String, mediaType: String, byteCount: Int, sha256: String, downloadPath: String) {
        self.filename = filename
        self.mediaType = mediaType
        self.byteCount = byteCount
        self.sha256 = sha256
        self.downloadPath = downloadPath
    }
}

public struct TimelineEntryModel: Sendable {
    public var sequence: Int
    public var at: String
    public var actor: String
    public var action: String
    public var isRefused: Bool
    public var details: String
    public var hashPrefix: String
    public init(_ entry: AuditEntry) {
        sequence = entry.sequence
        at = Timestamp.format(entry.record.at)
        actor = entry.record.actor
        action = entry.record.action
        isRefused = entry.record.outcome == .refused
        details = entry.record.details.sorted { $0.key < $1.key }.filter { !$0.value.isEmpty }
            .map { "\($0.key)=\($0.value)" }.joined(separator: " · ")
        hashPrefix = String(entry.hash.prefix(12))
    }
}

/// One action button (a form posting one event) on the case page.
public struct ActionModel: Sendable {
    public var kind: String
    public var label: String
    public var needsReason: Bool
    public var needsRules: Bool
    public var needsCategories: Bool
    public var needsCheck: Bool
    public var needsChallenge: Bool
    public var needsCount: Bool
    public var needsDate: Bool
    public var needsAnswer: Bool
    public var needsUpheld: Bool
    public var needsExcuse: Bool
    public var needsNote: Bool
    public var needsFollowUp: Bool
    /// `record_callback`: the agency's directory numbers, the only ones a callback may use (E2).
    public var needsCallback: Bool
    public var phones: [Option]
    public var hasPhones: Bool
    public var categories: [Option]

    public init(kind: CaseEvent.Kind, requested: [DataCategory], phones: [AgencyPhone] = []) {
        self.kind = kind.rawValue
        needsCallback = kind == .recordCallback
        self.phones = phones.map { Option(value: $0.id.uuidString.lowercased(), label: "\($0.number) · \($0.label) (source: \($0.source))", isSelected: false) }
        hasPhones = !phones.isEmpty
        label = kind.label
        needsReason = [.verificationFailed, .reject, .askAgency, .agencyReplied, .withdraw, .dismissObjection].contains(kind)
        needsRules = kind == .reject
        needsCategories = kind == .approveScope
        needsExcuse = kind == .approveScope
        needsCheck = kind == .recordCheck
        needsChallenge = kind == .fileChallenge
        needsCount = kind == .collectionFinished
        needsDate = kind == .beginPreservation
        needsAnswer = kind == .agencyAnswer
        needsUpheld = [.challengeDecided, .preservationEnded].contains(kind)
        needsNote = [.renewPreservation, .recordFollowUp].contains(kind)
        needsFollowUp = kind == .recordFollowUp
        categories = requested.filter { $0 != .encryptionKeys }.map { Option(value: $0.rawValue, label: $0.label, isSelected: false) }
    }
}

/// The case page: facts, documents, timeline and the actions the viewer's roles allow.
/// One line of a demand's verification checklist.
public struct ChecklistItemModel: Sendable {
    public var key: String
    public var label: String
    public var status: String
    public var statusClass: String
    public var detail: String

    public init(_ item: VerificationChecklist.Item) {
        key = item.key
        label = item.label
        status = item.status.rawValue
        statusClass = switch item.status {
        case .passed: "allowed"
        case .failed: "denied"
        case .open: "pending"
        }
        detail = item.detail
    }
}

public struct CaseModel: Sendable {
    public var id: String
    public var number: String
    public var stateLabel: String
    /// nil while open, so the template shows no badge.
    public var outcome: String?
    public var isEmergency: Bool
    public var facts: [FactModel]
    public var targets: [FactModel]
    public var documents: [DocumentModel]
    public var timeline: [TimelineEntryModel]
    public var actions: [ActionModel]
    public var hasActions: Bool
    public var eventPath: String
    /// nil for a case opened before the rulebook existed, until it is reassessed.
    public var assessment: AssessmentModel?
    public var lacksAssessment: Bool
    /// The customer notice (C5), once the case was accepted for handling.
    public var notice: NoticeRowModel?
    /// The production package and the preservation snapshot, once built (issue 5).
    public var package: PackageSummaryModel?
    public var snapshot: PackageSummaryModel?
    /// Packages queued, building, failed or deleted.
    public var packageProgress: [PackageProgressModel] = []
    public var terms: CaseTermsModel?
    /// Where the demand stands in the public legal-process log (issue 6); nil before intake
    /// recorded a commitment, or for national-security process, which is never logged per item.
    public var publicLog: PublicLogModel?
    public var publicLogExcluded = false
    /// Issue 8: is the requester real, and the document? One line per check, worked out from the record.
    public var checklist: [ChecklistItemModel] = []
    public var checklistComplete = false

    public init(
        id: String, number: String, stateLabel: String, outcome: String?, isEmergency: Bool, facts: [FactModel],
        targets: [FactModel], documents: [DocumentModel], timeline: [TimelineEntryModel], actions: [ActionModel], eventPath: String,
        assessment: AssessmentModel? = nil, notice: NoticeRowModel? = nil
    ) {
        self.notice = notice
        self.assessment = assessment
        self.lacksAssessment = assessment == nil
        self.id = id
        self.number = number
        self.stateLabel = stateLabel
        self.outcome = outcome
        self.isEmergency = isEmergency
        self.facts = facts
        self.targets = targets
        self.documents = documents
        self.timeline = timeline
        self.actions = actions
        self.hasActions = !actions.isEmpty
        self.eventPath = eventPath
    }
}

extension CaseModel {
    /// The staff case page for a case, its demand, its audit timeline and the events the viewer may send.
    public init(
        _ caseRecord: Case, demand: Demand, timeline: [AuditEntry], actions: [CaseEvent.Kind], now: Date, rulebookInForce: String? = nil,
        notice: NoticeRowModel? = nil, agency: Agency? = nil
    ) {
        let id = caseRecord.id.uuidString.lowercased()
        var facts = [
            FactModel("Instrument", demand.instrument.rawValue),
            FactModel("Jurisdiction", [demand.jurisdiction.country, demand.jurisdiction.subdivision].compactMap { $0 }.joined(separator: " / ")),
            FactModel("Issuing authority", "\(demand.issuingAuthority.name) (\(demand.issuingAuthority.role.rawValue))"),
            FactModel("Requester's reference", demand.caseReference),
            FactModel("Received", Timestamp.format(demand.receivedAt)),
            FactModel(
                caseRecord.assessment?.deadlines.contains { CaseIntake.answerDeadlineKinds.contains($0.kind) } == true
                    ? "Due (legal deadline)" : "Due (provisional service target)",
                caseRecord.dueAt.map { Timestamp.format($0) + " · " + AssessmentModel.timeLeft(until: $0, now: now) } ?? "—"),
            FactModel("Categories requested", demand.categories.map(\.rawValue).joined(separator: ", ")),
            FactModel(
                "Customer",
                caseRecord.customer.map { "\($0.tenantName) (\($0.kind.rawValue)\($0.isUnlinkedService ? ", unlinked service" : ""))" } ?? "not matched"),
        ]
        if let window = demand.window {
            facts.append(FactModel("Date window", "\(Timestamp.format(window.from)) – \(Timestamp.format(window.to))"))
        }
        if let order = demand.nonDisclosureOrder {
            let term = order.isIndefinite ? "indefinite" : "until " + (order.until.map(Timestamp.formatDay) ?? "?")
            facts.append(FactModel("Non-disclosure order", "\(order.basis), \(term)"))
        }
        if let scope = caseRecord.approvedScope { facts.append(FactModel("Approved scope", scope.map(\.rawValue).joined(separator: ", "))) }
        if !caseRecord.scopeApprovals.isEmpty { facts.append(FactModel("Scope approvals", caseRecord.scopeApprovals.map(\.by).joined(separator: ", "))) }
        if !caseRecord.releaseApprovals.isEmpty {
            facts.append(FactModel("Release approvals", caseRecord.releaseApprovals.map(\.by).joined(separator: ", ")))
        }
        if let reason = caseRecord.closingReason { facts.append(FactModel("Closing reason", reason)) }
        if let answer = caseRecord.customerAnswer {
            // C2/C8: staff see the customer's direction or objection next to the demand.
            facts.append(FactModel("Customer's answer", "\(answer.answer.label)\(answer.note.map { ": \($0)" } ?? "") (\(answer.by), \(Timestamp.format(answer.at)))"))
            if caseRecord.awaitsChallengeReview {
                facts.append(FactModel("Challenge review", "required: the customer objected. File a challenge or dismiss the objection with reasons; nothing is produced until then (C8)."))
            } else if let review = answer.review {
                facts.append(FactModel("Challenge review", "\(review.outcome.rawValue.replacingOccurrences(of: "_", with: " ")): \(review.note) (\(review.by), \(Timestamp.format(review.at)))"))
            }
        }
        if let challenge = caseRecord.challenge {
            // C8: the challenge as a record: what, where, when filed, by when, and how it ended.
            facts.append(FactModel("Challenge", "\((challenge.kind ?? .other).label) before \(challenge.court), filed \(Timestamp.format(challenge.filedAt)) by \(challenge.filedBy): \(challenge.grounds)"))
            if let deadline = challenge.deadline {
                facts.append(FactModel("Challenge deadline", Timestamp.format(deadline) + (challenge.isPending ? " · " + AssessmentModel.timeLeft(until: deadline, now: now) : "")))
            }
            if challenge.isPending {
                facts.append(FactModel("Challenge status", "pending: the data is preserved and nothing is produced until the court decides (18 U.S.C. § 2703(h)(4))"))
            } else {
                let result = challenge.demandUpheld == true ? "demand upheld" : "demand set aside"
                facts.append(FactModel("Challenge status", "decided \(challenge.decidedAt.map(Timestamp.format) ?? ""): \(result)\(challenge.decisionNote.map { " (\($0))" } ?? "")"))
            }
        }
        if let ended = caseRecord.emergencyEndedAt { facts.append(FactModel("Emergency over", Timestamp.format(ended))) }
        if let statement = demand.emergencyStatement { facts.append(FactModel("Emergency statement", statement)) }
        // Issue 8: what was suspicious about the requester, and every callback on a directory number.
        for flag in caseRecord.redFlags ?? [] { facts.append(FactModel("Red flag: \(flag.code.label)", flag.detail)) }
        for callback in caseRecord.callbacks ?? [] {
            facts.append(FactModel(
                callback.confirmed ? "Callback: confirmed" : "Callback: NOT confirmed",
                "\(callback.phone.number) (\(callback.phone.label), from \(callback.phone.source)); spoke with \(callback.spokeWith); "
                    + "\(callback.by), \(Timestamp.format(callback.at))\(callback.note.map { " · \($0)" } ?? "")"))
        }
        if !caseRecord.isClosed, let blocker = caseRecord.emergencyReleaseBlocker {
            facts.append(FactModel("Emergency release", "blocked: \(blocker)"))
        }
        self.init(
            id: id, number: caseRecord.number, stateLabel: caseRecord.state.label, outcome: caseRecord.outcome?.rawValue,
            isEmergency: caseRecord.isEmergency, facts: facts,
            targets: demand.targets.map { FactModel($0.type.rawValue, $0.value) },
            documents: demand.documents.map {
                DocumentModel(
                    filename: $0.filename, mediaType: $0.mediaType, byteCount: $0.byteCount, sha256: $0.sha256,
                    downloadPath: "/staff/documents/\($0.id.uuidString.lowercased())")
            } + (caseRecord.customerAnswer?.attachments ?? []).map {
                DocumentModel(
                    filename: "from the customer: " + $0.filename, mediaType: $0.mediaType, byteCount: $0.byteCount, sha256: $0.sha256,
                    downloadPath: "/staff/attachments/\($0.id.uuidString.lowercased())")
            },
            timeline: timeline.map(TimelineEntryModel.init),
            // Only what the assessment allows is offered for approval; the workflow guard enforces it anyway.
            actions: actions.filter { $0 != .dismissObjection || caseRecord.awaitsChallengeReview }
                .map {
                    ActionModel(kind: $0, requested: caseRecord.assessment?.approvableCategories ?? caseRecord.requestedCategories, phones: agency?.phones ?? [])
                },
            eventPath: "/staff/cases/\(id)/events",
            assessment: caseRecord.assessment.map { AssessmentModel($0, now: now, rulebookInForce: rulebookInForce) },
            notice: notice)
        let checklist = VerificationChecklist(case: caseRecord, demand: demand)
        self.checklist = checklist.items.map(ChecklistItemModel.init)
        self.checklistComplete = checklist.isComplete
    }
}

/// The agency portal's list of its own demands, one page of them, newest first.
public struct AgencyDemandsModel: Sendable {
    public var agencyName: String
    public var rows: [CaseRowModel]
    /// No demand at all (an empty later page is not this).
    public var isEmpty: Bool
    /// Where the older demands continue; nil on the last page.
    public var olderPath: String?
    /// Back to the newest demands, from a later page.
    public var newestPath: String?
    public init(agencyName: String, rows: [CaseRowModel], isFirstPage: Bool = true, olderPath: String? = nil) {
        self.agencyName = agencyName
        self.rows = rows
        self.isEmpty = rows.isEmpty && isFirstPage
        self.olderPath = olderPath
        self.newestPath = isFirstPage ? nil : "/agency/demands"
    }
}

/// The agency portal's submission form, refilled after a validation error.
public struct DemandFormModel: Sendable {
    public var instruments: [Option]
    public var roles: [Option]
    public var categories: [Option]
    public var targetTypes: [Option]
    /// The DSA categories of illegal content an EU order may cite (its legal ground).
    public var dsaCategories: [Option]
    public var issues: [ValidationIssue]
    public var hasIssues: Bool
    public var values: [String: String]

    public init(instruments: [Option], roles: [Option], categories: [Option], targetTypes: [Option], issues: [ValidationIssue], values: [String: String]) {
        self.dsaCategories = DSAOrders.categories.filter { $0 != "STATEMENT_CATEGORY_NOT_SPECIFIED_NOTICE" }.map { code in
            Option(
                value: code, label: code.replacingOccurrences(of: "STATEMENT_CATEGORY_", with: "").replacingOccurrences(of: "_", with: " ").capitalized,
                isSelected: code == values["dsaCategory"])
        }
        self.instruments = instruments
        self.roles = roles
        self.categories = categories
        self.targetTypes = targetTypes
        self.issues = issues
        self.hasIssues = !issues.isEmpty
        self.values = values
    }
}

/// A simple message page (errors, not found, customer portal placeholder).
public struct MessageModel: Sendable {
    public var heading: String
    public var text: String
    public init(heading: String, text: String) {
        self.heading = heading
        self.text = text
    }
}

/// A letter shown in full (the redirect letter of C4), with its plain-text download.
public struct LetterModel: Sendable {
    public var heading: String
    public var text: String
    public var downloadPath: String
    /// Where the requester answers the redirect (C4), while an answer is still open.
    public var answerPath: String?
    public var answerDueAt: String?
    public var isAnswerOverdue: Bool

    public init(heading: String, text: String, downloadPath: String, answerPath: String? = nil, answerDueAt: Date? = nil, now: Date = .distantPast) {
        self.heading = heading
        self.text = text
        self.downloadPath = downloadPath
        self.answerPath = answerPath
        self.answerDueAt = answerDueAt.map { Timestamp.format($0) + " · " + AssessmentModel.timeLeft(until: $0, now: now) }
        isAnswerOverdue = answerPath != nil && (answerDueAt.map { $0 < now } ?? false)
    }
}

/// What the case page says about a built production package: from its `production.built` entry.
public struct PackageSummaryModel: Sendable {
    public var builtAt: String
    public var builtBy: String
    public var files: String
    public var bytes: String
    public var merkleRoot: String
    public var signingKey: String
    public var cuts: String

    public var heading: String
    /// nil for a preservation snapshot: it is kept, never handed out.
    public var downloadPath: String?
    public var keptNote: String?

    /// nil unless `entry` is a `production.built` or `preservation.snapshot` record.
    public init?(_ entry: AuditEntry, caseID: UUID) {
        guard ["production.built", "preservation.snapshot"].contains(entry.record.action) else { return nil }
        let details = entry.record.details
        let isPreservation = entry.record.action == "preservation.snapshot"
        heading = isPreservation ? "Preservation snapshot" : "Production package"
        keptNote = isPreservation
            ? "Frozen under the preservation demand until \(details["until"] ?? "its expiry"); kept by the provider, never disclosed, deleted when the preservation ends."
            : nil
        builtAt = Timestamp.format(entry.record.at)
        builtBy = entry.record.actor
        files = details["files"] ?? "?"
        bytes = details["packageBytes"] ?? "?"
        merkleRoot = details["merkleRoot"] ?? ""
        signingKey = details["signingKey"] ?? ""
        let cut = ScopeCut.allCases.compactMap { reason -> String? in
            guard let count = details["cut." + reason.rawValue], count != "0" else { return nil }
            return "\(reason.rawValue.replacingOccurrences(of: "_", with: " ")) \(count)"
        }
        cuts = cut.isEmpty ? "none" : cut.joined(separator: ", ")
        downloadPath = isPreservation ? nil : "/staff/cases/\(caseID.uuidString.lowercased())/package"
    }
}

/// A package that is not (or no longer) there to download: queued, being built with its
/// progress, failed with the reason, or deleted under retention with its tombstone.
public struct PackageProgressModel: Sendable {
    public var heading: String
    public var status: String
    public var detail: String
    /// 0–100 while building, when the source said how many records to expect.
    public var percent: String?
    public var isBuilding: Bool
    public var isFailed: Bool
    /// Where a custodian queues a failed production again.
    public var retryPath: String?

    public init?(_ record: PackageRecord, canRetry: Bool) {
        guard record.status != .built else { return nil }
        heading = record.purpose == .production ? "Production package" : "Preservation snapshot"
        status = record.status.rawValue
        isBuilding = record.status == .building || record.status == .queued
        isFailed = record.status == .failed
        percent = record.status == .building ? record.percent.map(String.init) : nil
        retryPath = isFailed && canRetry && record.purpose == .production ? "/staff/cases/\(record.caseID.uuidString.lowercased())/production" : nil
        switch record.status {
        case .queued: detail = "Queued \(Timestamp.format(record.queuedAt)) by \(record.requestedBy); the package runner builds it shortly."
        case .building:
            let of = record.recordsExpected.map { " of \($0)" } ?? ""
            detail = "Building: \(record.recordsRead)\(of) records read (updated \(Timestamp.format(record.updatedAt)))."
        case .failed: detail = "The build failed: \(record.error ?? "unknown error")."
        case .deleted:
            detail = "Deleted \(record.deletedAt.map(Timestamp.format) ?? "") (\(record.deletionReason ?? "retention")); the audit trail keeps its manifest hash \(record.manifestSHA256 ?? "") and Merkle root \(record.merkleRoot ?? "")."
        case .built: detail = ""
        }
    }
}

/// The preservation's term and renewals, and an emergency's follow-up process (E8).
public struct CaseTermsModel: Sendable {
    public var preservedUntil: String?
    public var renewals: String?
    public var followUpDue: String?
    public var followUpOverdue: Bool
    public var followUpOutcome: String?

    public init?(_ subject: Case, now: Date) {
        preservedUntil = subject.preservedUntil.map(Timestamp.format)
        if subject.preservedUntil != nil, let renewal = subject.preservationDeadline?.renewal {
            renewals = "\(subject.preservationRenewals ?? 0) of \(renewal.times) renewal(s) of \(renewal.amountDays) days used (\(renewal.citation))"
        }
        followUpDue = subject.followUp.map { Timestamp.format($0.dueAt) }
        followUpOverdue = subject.isFollowUpOverdue(at: now)
        if let followUp = subject.followUp, followUp.isResolved {
            followUpOutcome = followUp.received == true
                ? "arrived: \(followUp.reference ?? "") (recorded by \(followUp.by ?? ""))"
                : "never came: \(followUp.note ?? "") (recorded by \(followUp.by ?? ""))"
        }
        if preservedUntil == nil && followUpDue == nil { return nil }
    }
}

/// The case page's card on the public legal-process log: the demand's public reference, its
/// class, and which of its entries are published (staff can tell a requester or customer exactly
/// what the public can see).
public struct PublicLogModel: Sendable {
    public var ref: String
    public var classPath: String
    public var reviewBy: String?
    public var demand: String
    public var disposition: String
    public var opening: String

    public init(ref: String, classPath: String, reviewBy: String?, demandIndex: UInt64?, dispositionIndex: UInt64?, openingIndex: UInt64?) {
        self.ref = ref
        self.classPath = classPath
        self.reviewBy = reviewBy
        func entry(_ index: UInt64?, _ pending: String) -> String { index.map { "entry \($0)" } ?? pending }
        demand = entry(demandIndex, "waiting for the next batch")
        disposition = entry(dispositionIndex, demandIndex == nil ? "after the demand" : "when the case closes")
        opening = entry(openingIndex, reviewBy == nil ? "after the disposition" : "once no bar keeps it sealed (review by \(reviewBy!))")
    }
}
