import Foundation

extension DataCategory: CodingKeyRepresentable {}

/// What the rulebook needs to know about the customer whose data is demanded.
public struct CustomerFacts: Codable, Equatable, Sendable {
    public struct Service: Codable, Equatable, Sendable {
        public var id: String
        public var unlinked: Bool

        public init(id: String, unlinked: Bool) {
            self.id = id
            self.unlinked = unlinked
        }
    }

    /// nil when no customer matched the demand's targets.
    public var kind: TenantKind?
    /// ISO country of nationality (a company: of incorporation).
    public var nationality: String?
    public var residence: String?
    /// Where the data is stored.
    public var dataLocation: String?
    public var services: [Service]

    public init(
        kind: TenantKind? = nil, nationality: String? = nil, residence: String? = nil, dataLocation: String? = nil,
        services: [Service] = []
    ) {
        self.kind = kind
        self.nationality = nationality
        self.residence = residence
        self.dataLocation = dataLocation
        self.services = services
    }

    /// The facts of a resolved customer link; an unknown customer has none.
    public init(_ link: CustomerLink?) {
        guard let link else {
            self.init()
            return
        }
        self.init(
            kind: link.kind, nationality: link.country, residence: link.residence ?? link.country,
            dataLocation: link.dataLocation,
            services: [Service(id: link.tenantID.uuidString.lowercased(), unlinked: link.isUnlinkedService)])
    }
}

/// The verdict on one requested category, with the rules that decided it.
public struct CategoryAssessment: Codable, Equatable, Sendable {
    public var verdict: Verdict
    public var rules: [String]
    public var explanation: String
    public var citations: [String]
    /// When set, only these fields of the category may be produced.
    public var limitedTo: [String]?

    public init(verdict: Verdict, rules: [String], explanation: String, citations: [String], limitedTo: [String]? = nil) {
        self.verdict = verdict
        self.rules = rules
        self.explanation = explanation
        self.citations = citations
        self.limitedTo = limitedTo
    }
}

/// Whether the issuer had the competence the applicable rules require.
public struct IssuerAssessment: Codable, Equatable, Sendable {
    public enum Status: String, Codable, Sendable {
        case sufficient
        case insufficient
        /// No applicable rule states an issuer requirement.
        case notRequired = "not_required"
    }

    public struct Finding: Codable, Equatable, Sendable {
        public var rule: String
        public var satisfied: Bool
        public var reason: String
    }

    public var status: Status
    public var findings: [Finding]
}

/// A deadline as an absolute instant, with how it was computed.
public struct AssessedDeadline: Codable, Equatable, Sendable {
    public var kind: String
    public var due: Date
    public var rule: String
    public var amount: Int
    public var unit: PeriodUnit
    public var regime: CountingRegime
    public var calendar: String
    public var timeZone: String
    /// `due` on the jurisdiction's wall clock, e.g. `2026-05-15T00:00:00+02:00`.
    public var local: String
    /// False when the holiday calendar does not reach the deadline; staff must check it.
    public var covered: Bool
    /// True when the date comes from the requester's process rather than the statute.
    public var fromRequester: Bool
    public var citation: String
    public var note: String?
    /// The extension the rule allows (preservation renewals); nil when none.
    public var renewal: DeadlineRenewal?

    public init(
        kind: String, due: Date, rule: String, amount: Int, unit: PeriodUnit, regime: CountingRegime, calendar: String, timeZone: String,
        local: String, covered: Bool, fromRequester: Bool, citation: String, note: String? = nil, renewal: DeadlineRenewal? = nil
    ) {
        self.kind = kind
        self.due = due
        self.rule = rule
        self.amount = amount
        self.unit = unit
        self.regime = regime
        self.calendar = calendar
        self.timeZone = timeZone
        self.local = local
        self.covered = covered
        self.fromRequester = fromRequester
        self.citation = citation
        self.note = note
        self.renewal = renewal
    }
}

public struct NoticeAssessment: Codable, Equatable, Sendable {
    public var status: NoticeStatus
    /// For `barred_until`: the instant the bar lapses.
    public var until: Date?
    /// Notice waits until staff mark the emergency over (E9).
    public var afterEmergency: Bool
    public var rules: [String]
    public var explanation: String
}

public struct FlagAssessment: Codable, Equatable, Sendable {
    public var flag: AssessmentFlag
    public var rules: [String]
    public var explanation: String
    public var citations: [String]
}

/// What the law compels for one demand, as computed by `Rulebook.assess`. Stored on the case
/// with the rulebook version, shown to staff, and checked by every scope approval.
public struct Assessment: Codable, Equatable, Sendable {
    public var rulebookVersion: String
    public var assessedAt: Date
    public var categories: [DataCategory: CategoryAssessment]
    public var issuer: IssuerAssessment
    public var deadlines: [AssessedDeadline]
    public var notice: NoticeAssessment
    public var flags: [AssessmentFlag]
    public var flagDetails: [FlagAssessment]
    /// Every rule that applied, for the record.
    public var rules: [String]

    public func verdict(for category: DataCategory) -> Verdict? { categories[category]?.verdict }

    /// Requested categories an approver may put into scope (allowed or voluntary).
    public var approvableCategories: [DataCategory] {
        categories.filter { $0.value.verdict.isApprovable }.keys.sorted()
    }

    /// The earliest deadline for answering the requester (production, objection or motion).
    public var earliestDeadline: AssessedDeadline? { deadlines.min { $0.due < $1.due } }

    public func has(_ flag: AssessmentFlag) -> Bool { flags.contains(flag) }

    /// Why `scope` goes beyond what this assessment allows, naming the rule; nil when it does not.
    public func refusal(for scope: [DataCategory]) -> String? {
        var reasons: [String] = []
        for category in scope {
            guard let verdict = categories[category] else {
                reasons.append("\(category.rawValue) was not assessed (the demand did not request it)")
                continue
            }
            if !verdict.verdict.isApprovable {
                reasons.append("\(category.rawValue) is \(verdict.verdict.rawValue) by rule \(verdict.rules.joined(separator: ", ")): \(verdict.explanation)")
            }
        }
        return reasons.isEmpty ? nil : reasons.joined(separator: "; ")
    }
}
