import Foundation

/// A versioned, cited set of legal rules: which instrument compels which data category, from
/// whom, by when, and what it means for the customer notice. The rules are data (legal-rules.md
/// §7 as a JSON file); `Rulebook.assess` applies them and the invariants in `RulebookInvariants`,
/// which no file can override.
public struct Rulebook: Codable, Equatable, Sendable {
    /// The file format this code reads; a provider's own file must declare it.
    public static let format = "custos-rulebook/1"

    public var format: String
    public var version: String
    public var title: String
    /// Named groups of countries (`EU`, `EEA`) that rules and conditions may use instead of codes.
    public var regions: [String: [String]]
    /// Foreign governments with a CLOUD Act executive agreement in force (18 U.S.C. § 2703(h)(1)(A)).
    public var qualifyingForeignGovernments: [QualifyingForeignGovernment]
    /// Time zone, weekend and public holidays per jurisdiction, for business-day deadlines.
    public var calendars: [String: LegalCalendarSpec]
    /// What the rulebook knows about each instrument; `compelsContent` feeds the content invariant.
    public var instruments: [String: InstrumentSpec]
    public var rules: [Rule]
    /// The DMCA rows of §7 (optional in a provider's file).
    public var dmca: DMCARules?

    public init(
        format: String = Rulebook.format, version: String, title: String, regions: [String: [String]] = [:],
        qualifyingForeignGovernments: [QualifyingForeignGovernment] = [], calendars: [String: LegalCalendarSpec] = [:],
        instruments: [String: InstrumentSpec] = [:], rules: [Rule], dmca: DMCARules? = nil
    ) {
        self.dmca = dmca
        self.format = format
        self.version = version
        self.title = title
        self.regions = regions
        self.qualifyingForeignGovernments = qualifyingForeignGovernments
        self.calendars = calendars
        self.instruments = instruments
        self.rules = rules
    }
}

/// How sure the research is about a rule (legal-rules.md §0): checked against primary text,
/// against a secondary source, or from knowledge not re-checked.
public enum Confidence: String, Codable, CaseIterable, Sendable {
    case verified = "V"
    case secondary = "S"
    case knowledge = "K"
}

/// A period in which a rule is law. `until` is exclusive; either end may be open.
public struct EffectivePeriod: Codable, Equatable, Sendable {
    /// First day in force (`2026-08-18`), UTC.
    public var from: String?
    /// First day no longer in force, UTC.
    public var until: String?

    public init(from: String? = nil, until: String? = nil) {
        self.from = from
        self.until = until
    }
}

public struct QualifyingForeignGovernment: Codable, Equatable, Sendable {
    public var country: String
    /// Day the executive agreement entered into force.
    public var since: String
    public var citation: String
    public var confidence: Confidence
}

public struct InstrumentSpec: Codable, Equatable, Sendable {
    public var label: String
    /// True only for process that can compel content (a warrant or its equivalent). C2/C6: the
    /// engine never lets content be `allowed` under any other instrument, whatever a rule says.
    public var compelsContent: Bool
    public var citation: String

    public init(label: String, compelsContent: Bool, citation: String) {
        self.label = label
        self.compelsContent = compelsContent
        self.citation = citation
    }
}

/// What a rule decides for a data category.
public enum Verdict: String, Codable, CaseIterable, Sendable {
    /// The instrument compels disclosure.
    case allowed
    /// Nothing may be disclosed under this instrument.
    case denied
    /// The data must be preserved, not disclosed (18 U.S.C. § 2703(f); Reg. (EU) 2023/1543 Art. 11).
    case preserveOnly = "preserve_only"
    /// The provider may disclose but is not compelled (18 U.S.C. § 2702(b)(8), (c)(4)).
    case voluntary

    /// Whether an approver may put the category into a disclosure scope.
    public var isApprovable: Bool { self == .allowed || self == .voluntary }

    /// When several rules speak to one category the most restrictive one wins.
    var restriction: Int {
        switch self {
        case .denied: 3
        case .preserveOnly: 2
        case .voluntary: 1
        case .allowed: 0
        }
    }
}

/// The assessment flags: facts staff must act on. Their names are part of the CLI and API contract.
public enum AssessmentFlag: String, Codable, CaseIterable, Sendable, Comparable {
    /// C4: an enterprise tenant answers for itself; send the requester there first.
    case redirectFirst = "redirect_first"
    /// C11: a non-EU order over data GDPR protects (GDPR Art. 48).
    case gdprArt48Review = "gdpr_art48_review"
    /// C11: a § 2703(h) motion to quash is open to the provider, with its 14-day deadline.
    case cloudActComityMotion = "cloud_act_comity_motion"
    /// C11: Reg. (EU) 2023/1543 Art. 17 reasoned objection (third-country law conflict), 10 days.
    case eevidenceArt17Objection = "eevidence_art17_objection"
    /// C8: a gag order without an end date should be challenged.
    case indefiniteNDOChallenge = "indefinite_ndo_challenge"
    /// C8: the gag order runs longer than DOJ policy's one year.
    case ndoExceedsOneYear = "ndo_exceeds_one_year"
    /// The only basis is a voluntary emergency disclosure (18 U.S.C. § 2702(b)(8), (c)(4)).
    case emergencyVoluntaryOnly = "emergency_voluntary_only"
    /// Reg. (EU) 2023/1543 Art. 8/12: the enforcing State reviews the order; deadlines follow it.
    case enforcingAuthorityReview = "enforcing_authority_review"
    /// Reg. (EU) 2023/1543 Art. 4(5): an unvalidated emergency order must be validated within 48 h.
    case exPostValidationRequired = "ex_post_validation_required"
    /// C9: the demand asks for encryption keys; the refusal is logged and counted.
    case encryptionKeysRequested = "encryption_keys_requested"
    /// The demand rests on preservation only; nothing is disclosed under it.
    case preservationOnly = "preservation_only"
    /// A deadline fell outside the holiday calendar the rulebook carries; check it by hand.
    case calendarNotCovered = "calendar_not_covered"
    /// The issuer lacks the competence a rule requires.
    case issuerInsufficient = "issuer_insufficient"

    public static func < (lhs: AssessmentFlag, rhs: AssessmentFlag) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// The customer notice status of an assessment (C5).
public enum NoticeStatus: String, Codable, CaseIterable, Sendable {
    case mayNotify = "may_notify"
    case barredUntil = "barred_until"
    case barredIndefinitely = "barred_indefinitely"
    /// The data is on a service not linked to a customer identity (C5's stated exception).
    case notPossible = "not_possible"

    /// Precedence when several rules speak: the strongest bar wins.
    var strength: Int {
        switch self {
        case .notPossible: 3
        case .barredIndefinitely: 2
        case .barredUntil: 1
        case .mayNotify: 0
        }
    }
}

/// One cited legal rule.
public struct Rule: Codable, Equatable, Sendable, Identifiable {
    public var id: String
    public var title: String
    /// Instrument ids this rule speaks to; `*` for every instrument.
    public var instruments: [String]
    /// Issuing countries or region names (`EU`); `*` for any.
    public var jurisdictions: [String]
    /// Facts that must hold for the rule to apply at all.
    public var when: RuleCondition?
    /// More general rules this one displaces when it applies (lex specialis), by id.
    public var overrides: [String]?
    /// The verdict per category id; the key `*` covers every category the rule does not name.
    public var effects: [String: Verdict]?
    /// Narrows an allowed category to named fields (an NSL reaches name, address, length of service
    /// and toll billing records only, 18 U.S.C. § 2709(b)).
    public var limitedTo: [String: [String]]?
    /// Issuer competence and offence thresholds; when unmet, the rule's permissions turn to `denied`.
    public var requires: RuleRequirement?
    public var deadlines: [DeadlineSpec]?
    public var notice: NoticeSpec?
    public var flags: [AssessmentFlag]?
    public var citation: String
    public var confidence: Confidence
    public var effective: EffectivePeriod?
    /// Plain-language reason shown to staff with the verdict.
    public var explanation: String

    public init(
        id: String, title: String, instruments: [String], jurisdictions: [String], when: RuleCondition? = nil,
        overrides: [String]? = nil, effects: [String: Verdict]? = nil, limitedTo: [String: [String]]? = nil, requires: RuleRequirement? = nil,
        deadlines: [DeadlineSpec]? = nil, notice: NoticeSpec? = nil, flags: [AssessmentFlag]? = nil,
        citation: String, confidence: Confidence, effective: EffectivePeriod? = nil, explanation: String
    ) {
        self.id = id
        self.title = title
        self.instruments = instruments
        self.jurisdictions = jurisdictions
        self.when = when
        self.overrides = overrides
        self.effects = effects
        self.limitedTo = limitedTo
        self.requires = requires
        self.deadlines = deadlines
        self.notice = notice
        self.flags = flags
        self.citation = citation
        self.confidence = confidence
        self.effective = effective
        self.explanation = explanation
    }
}

/// Conditions on the demand and the customer. Every field that is set must hold.
public struct RuleCondition: Codable, Equatable, Sendable {
    public var emergency: Bool?
    public var preservation: Bool?
    /// Whether a validating authority is named (Reg. (EU) 2023/1543 Art. 4(1)(b), 4(5)).
    public var validated: Bool?
    /// At least one of these categories is requested.
    public var requestedAny: [String]?
    /// The requested time window spans at least this many days (a missing window counts as unbounded).
    public var windowDaysAtLeast: Int?
    /// The requested time window spans fewer than this many days (a missing window never does).
    public var windowDaysBelow: Int?
    public var tenantKind: TenantKind?
    /// The issuing country is none of these countries or regions.
    public var issuingCountryNotIn: [String]?
    /// The customer's residence or data location is in one of these countries or regions.
    public var customerDataOrResidenceIn: [String]?
    /// The customer's data location is in one of these countries or regions.
    public var dataLocationIn: [String]?
    /// True: the customer is neither a national nor a resident of the US (§ 2703(h)(2)(A)(i)).
    public var customerOutsideUS: Bool?
    /// True: the customer's residence or data location is a qualifying foreign government's territory.
    public var customerInQualifyingForeignGovernment: Bool?
    /// True: the customer resides in the issuing country (Reg. (EU) 2023/1543 Art. 8(2)(b)).
    public var customerResidesInIssuingState: Bool?
    /// The order says whether the enforcing State was notified (Art. 8; Annex I).
    public var enforcingAuthorityNotified: Bool?
    public var nonDisclosureOrder: NDOCondition?
    /// True: every matched service is unlinked from customer identity.
    public var unlinkedServicesOnly: Bool?
    /// The issuer holds one of these roles.
    public var issuerRoleIn: [IssuerRole]?
    /// The issuer role is not one of these.
    public var issuerRoleNotIn: [IssuerRole]?

    public init(
        emergency: Bool? = nil, preservation: Bool? = nil, validated: Bool? = nil, requestedAny: [String]? = nil, windowDaysAtLeast: Int? = nil,
        windowDaysBelow: Int? = nil, tenantKind: TenantKind? = nil, issuingCountryNotIn: [String]? = nil,
        customerDataOrResidenceIn: [String]? = nil, dataLocationIn: [String]? = nil, customerOutsideUS: Bool? = nil,
        customerInQualifyingForeignGovernment: Bool? = nil, customerResidesInIssuingState: Bool? = nil,
        enforcingAuthorityNotified: Bool? = nil, nonDisclosureOrder: NDOCondition? = nil, unlinkedServicesOnly: Bool? = nil,
        issuerRoleIn: [IssuerRole]? = nil, issuerRoleNotIn: [IssuerRole]? = nil
    ) {
        self.emergency = emergency
        self.preservation = preservation
        self.validated = validated
        self.requestedAny = requestedAny
        self.windowDaysAtLeast = windowDaysAtLeast
        self.windowDaysBelow = windowDaysBelow
        self.tenantKind = tenantKind
        self.issuingCountryNotIn = issuingCountryNotIn
        self.customerDataOrResidenceIn = customerDataOrResidenceIn
        self.dataLocationIn = dataLocationIn
        self.customerOutsideUS = customerOutsideUS
        self.customerInQualifyingForeignGovernment = customerInQualifyingForeignGovernment
        self.customerResidesInIssuingState = customerResidesInIssuingState
        self.enforcingAuthorityNotified = enforcingAuthorityNotified
        self.nonDisclosureOrder = nonDisclosureOrder
        self.unlinkedServicesOnly = unlinkedServicesOnly
        self.issuerRoleIn = issuerRoleIn
        self.issuerRoleNotIn = issuerRoleNotIn
    }
}

/// Which kind of gag order the demand carries.
public enum NDOCondition: String, Codable, CaseIterable, Sendable {
    /// Any gag order.
    case present
    case dated
    case indefinite
    /// A dated order running more than one year from receipt (DOJ 2017 policy).
    case overOneYear = "over_one_year"
}

/// Issuer competence and offence seriousness a rule needs before its permissions hold.
public struct RuleRequirement: Codable, Equatable, Sendable {
    /// The issuer must hold one of these roles ...
    public var issuerRoles: [IssuerRole]?
    /// ... or the order must be validated by someone holding one of these (Reg. (EU) 2023/1543 Art. 4).
    public var validatorRoles: [IssuerRole]?
    /// The offence must carry at least this maximum custodial sentence ...
    public var minOffenceYears: Int?
    /// ... unless it is a listed offence and this is true (Art. 5(4)(b)).
    public var listedOffenceSuffices: Bool?
    /// Why the requirement exists, shown when it fails.
    public var reason: String

    public init(
        issuerRoles: [IssuerRole]? = nil, validatorRoles: [IssuerRole]? = nil, minOffenceYears: Int? = nil,
        listedOffenceSuffices: Bool? = nil, reason: String
    ) {
        self.issuerRoles = issuerRoles
        self.validatorRoles = validatorRoles
        self.minOffenceYears = minOffenceYears
        self.listedOffenceSuffices = listedOffenceSuffices
        self.reason = reason
    }
}

/// The unit a law counts a period in.
public enum PeriodUnit: String, Codable, CaseIterable, Sendable {
    case hours
    case calendarDays = "calendar_days"
    /// Days without weekends and the jurisdiction's public holidays.
    case businessDays = "business_days"
}

/// The counting rule of the regime that sets the period (legal-rules.md §9).
public enum CountingRegime: String, Codable, CaseIterable, Sendable {
    /// Regulation (EEC, Euratom) No 1182/71 Arts. 2–3: hours from the next full hour; days from the
    /// next day to the end of the last day, moved to the next working day when that falls on a
    /// weekend or holiday.
    case eu1182 = "eu_1182_71"
    /// Fed. R. Civ. P. 6(a) / Fed. R. Crim. P. 45(a): exclude the trigger day, include the last day,
    /// roll past weekends and legal holidays; hours run at once and roll to the next working day.
    case usFRCP = "us_frcp_6a"
    /// The duration of an obligation (preservation, a gag order): until the end of the last day.
    case duration
    /// Plain elapsed time from receipt, no rollover (for example India's 72 hours).
    case elapsed
}

/// A deadline a rule sets, counted from receipt of the demand.
public struct DeadlineSpec: Codable, Equatable, Sendable {
    /// What falls due: `production`, `preservation_expiry`, `comity_motion`, `art17_objection`, ...
    public var kind: String
    public var amount: Int
    public var unit: PeriodUnit
    public var regime: CountingRegime
    /// The calendar to count in; nil means the issuing jurisdiction's.
    public var calendar: String?
    /// Only when these facts hold (for example the 8-hour emergency variant).
    public var when: RuleCondition?
    /// Use the date the requester states on the process instead, when it gives one.
    public var preferRequesterDate: Bool?
    public var note: String?
    /// How far the obligation may be extended, and how often (a preservation's renewal).
    public var renewal: DeadlineRenewal?

    public init(
        kind: String, amount: Int, unit: PeriodUnit, regime: CountingRegime, calendar: String? = nil,
        when: RuleCondition? = nil, preferRequesterDate: Bool? = nil, note: String? = nil
    ) {
        self.kind = kind
        self.amount = amount
        self.unit = unit
        self.regime = regime
        self.calendar = calendar
        self.when = when
        self.preferRequesterDate = preferRequesterDate
        self.note = note
    }
}

/// An extension the law allows of a running obligation: `times` more periods of `amount` days,
/// each on the requester's renewed request (18 U.S.C. § 2703(f)(2): one more 90 days;
/// Reg. (EU) 2023/1543 Art. 11(1): one more 30 days).
public struct DeadlineRenewal: Codable, Equatable, Sendable {
    public var amountDays: Int
    public var times: Int
    public var citation: String

    public init(amountDays: Int, times: Int, citation: String) {
        self.amountDays = amountDays
        self.times = times
        self.citation = citation
    }
}

/// What a rule says about notifying the customer.
public enum NoticeBar: String, Codable, CaseIterable, Sendable {
    /// Barred by the demand's own non-disclosure order: until its last day, or indefinitely.
    case nonDisclosureOrder = "non_disclosure_order"
    /// Barred by the instrument itself with no end date (NSL certification, FISA secrecy, Art. 13).
    case indefinite
    /// No notice possible (unlinked service).
    case notPossible = "not_possible"
    /// Notice may go out, but only once the emergency is over (E9).
    case afterEmergency = "after_emergency"
}

public struct NoticeSpec: Codable, Equatable, Sendable {
    public var bar: NoticeBar
    public var note: String?

    public init(bar: NoticeBar, note: String? = nil) {
        self.bar = bar
        self.note = note
    }
}
