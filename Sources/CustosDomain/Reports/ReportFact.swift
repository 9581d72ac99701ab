import Foundation

/// The transparency report's sections, as Microsoft's LERR splits its workbook (report-formats.md §1.1).
public enum ReportSection: String, Codable, CaseIterable, Sendable {
    case criminal
    case emergency
    case civil
}

/// The one outcome a demand counts under. For the LERR table the first four are exclusive and
/// ranked by report-formats.md §1.3: content disclosed > non-content only > no data found >
/// rejected. `redirected` and `withdrawn` end enterprise demands without a decision (§1.5).
/// Not `CaseOutcome`: these are the published categories (and the import format's values);
/// a preserved-only case is a preservation fact, not an outcome of its own.
public enum ReportOutcome: String, Codable, CaseIterable, Sendable {
    case content
    case nonContent = "non_content"
    case noData = "no_data"
    case rejected
    case redirected
    case withdrawn

    /// Whether some customer data was produced (Google's "Percentage disclosed", §2).
    public var disclosedData: Bool { self == .content || self == .nonContent }

    /// Whether the demand was answered as the law required: data released, or none to give.
    public var gaveEffect: Bool { disclosedData || self == .noData }
}

/// What a case handled in Custos adds beyond the LERR columns: gag orders, customer notices,
/// challenges, failed emergency checks, the CLOUD Act category. Imported history has none (nil).
public struct ReportCaseDetails: Codable, Hashable, Sendable {
    /// Where the customer notice stood when the case closed.
    public enum Notice: String, Codable, CaseIterable, Sendable {
        case sent
        /// Sent once a gag order, an emergency or a missing assessment no longer held it.
        case sentAfterDelay = "sent_after_delay"
        /// Still held when the case closed.
        case delayed
        /// No notice could go out (no contact, an unlinked service) or delivery failed.
        case notSent = "not_sent"
    }

    public enum Challenge: String, Codable, CaseIterable, Sendable {
        case pending
        case demandUpheld = "demand_upheld"
        case demandSetAside = "demand_set_aside"
    }

    /// A non-disclosure order that came with the demand.
    public enum NonDisclosure: String, Codable, CaseIterable, Sendable {
        case dated
        case indefinite
    }

    public var nonDisclosure: NonDisclosure?
    public var notice: Notice?
    public var challenge: Challenge?
    /// An emergency request with a failed verification check (legal-rules.md §6).
    public var emergencyVerificationFailed: Bool
    /// A U.S. warrant for data stored outside the United States (report-formats.md §1.5).
    public var cloudAct: Bool
    /// The red flags raised about the requester at intake (`RedFlag.Code` raw values, sorted,
    /// space-separated, so facts with the same flags count together); nil when none (issue 8).
    public var redFlags: String?

    public init(
        nonDisclosure: NonDisclosure?, notice: Notice?, challenge: Challenge?, emergencyVerificationFailed: Bool, cloudAct: Bool, redFlags: String? = nil
    ) {
        self.redFlags = redFlags
        self.nonDisclosure = nonDisclosure
        self.notice = notice
        self.challenge = challenge
        self.emergencyVerificationFailed = emergencyVerificationFailed
        self.cloudAct = cloudAct
    }
}

extension String {
    /// nil for the empty string.
    var nonEmpty: String? { isEmpty ? nil : self }
}

/// What one closed demand contributes to the report: no names, no targets, only what is counted.
public struct ReportFact: Codable, Equatable, Hashable, Sendable {
    /// The case id for demands handled here, or the id a historical import gave.
    public var id: String
    public var receivedAt: Date
    /// Issuing country, ISO 3166-1 alpha-2 in capitals.
    public var country: String
    public var section: ReportSection
    /// The legal process (a `LegalInstrument` id).
    public var instrument: String
    public var tenantKind: TenantKind
    /// Accounts or identifiers the demand specified.
    public var accounts: Int
    public var outcome: ReportOutcome
    /// Preservation demands are counted apart and never in the totals (Google FAQ, §2).
    public var isPreservation: Bool
    /// National-security process: only ever reported in 50 U.S.C. § 1874 bands, never per row.
    public var isNationalSecurity: Bool
    /// Only for cases handled in Custos.
    public var details: ReportCaseDetails?
    /// The customer the demand named (lower-case id), for the share of customers affected; never
    /// published, never grouped by. nil for imported history and demands without a customer.
    public var tenantID: String?
    /// When the requester was told the demand had arrived (the portal's receipt is immediate).
    public var acknowledgedAt: Date?
    /// When effect was given: the data released, or the answer that none exists. nil for demands
    /// refused, withdrawn or redirected.
    public var effectAt: Date?
    /// The DSA category of illegal content the order's legal ground falls under
    /// (`DSAOrders.categories`); nil when not recorded.
    public var dsaCategory: String?

    public init(
        id: String, receivedAt: Date, country: String, section: ReportSection, instrument: String, tenantKind: TenantKind,
        accounts: Int, outcome: ReportOutcome, isPreservation: Bool = false, isNationalSecurity: Bool = false, details: ReportCaseDetails? = nil,
        tenantID: String? = nil, acknowledgedAt: Date? = nil, effectAt: Date? = nil, dsaCategory: String? = nil
    ) {
        self.acknowledgedAt = acknowledgedAt
        self.effectAt = effectAt
        self.dsaCategory = dsaCategory
        self.id = id
        self.receivedAt = receivedAt
        self.country = country
        self.section = section
        self.instrument = instrument
        self.tenantKind = tenantKind
        self.accounts = accounts
        self.outcome = outcome
        self.isPreservation = isPreservation
        self.isNationalSecurity = isNationalSecurity
        self.details = details
        self.tenantID = tenantID
    }

    /// Whether the DSA report counts it as an order to provide information (`DSAOrders`).
    public var isDSAOrder: Bool {
        DSAOrders.isOrderToProvideInformation(country: country, section: section, isPreservation: isPreservation, isNationalSecurity: isNationalSecurity)
    }
}

extension ReportFact {
    /// The fact a case yields when it closes; nil while it is open.
    ///
    /// A preserved-only case counts as a preservation with outcome `no_data` (nothing was
    /// disclosed). Cases without a customer count as consumer demands, as Microsoft counts every
    /// request outside its enterprise block (report-formats.md §1.5).
    public static func closed(
        _ subject: Case, demand: Demand, notice: (state: CustomerNoticeState, bar: NoticeBarKind)? = nil
    ) -> ReportFact? {
        guard subject.isClosed, let closedOutcome = subject.outcome else { return nil }
        let outcome: ReportOutcome =
            switch closedOutcome {
            case .content: .content
            case .nonContent: .nonContent
            case .noData, .preserved: .noData
            case .rejected: .rejected
            case .redirected: .redirected
            case .withdrawn: .withdrawn
            }
        return ReportFact(
            id: subject.id.uuidString.lowercased(), receivedAt: demand.receivedAt, country: demand.jurisdiction.country.uppercased(),
            section: section(of: demand), instrument: demand.instrument.rawValue, tenantKind: subject.customer?.kind ?? .consumer,
            accounts: Set(demand.targets.map { "\($0.type):\($0.value.lowercased())" }).count, outcome: outcome,
            isPreservation: demand.isPreservation || closedOutcome == .preserved, isNationalSecurity: demand.instrument.isNationalSecurity,
            details: details(subject, demand: demand, notice: notice), tenantID: subject.customer?.tenantID.uuidString.lowercased(),
            // Intake through the portal or the API answers with the receipt at once.
            acknowledgedAt: demand.receivedAt, effectAt: effectTime(subject, outcome: outcome), dsaCategory: demand.dsaCategory)
    }

    /// Effect was given when the data went out, or when the case closed answering that there was none.
    static func effectTime(_ subject: Case, outcome: ReportOutcome) -> Date? {
        guard outcome.gaveEffect else { return nil }
        return outcome.disclosedData ? subject.releasedAt ?? subject.updatedAt : subject.updatedAt
    }

    static func details(_ subject: Case, demand: Demand, notice: (state: CustomerNoticeState, bar: NoticeBarKind)?) -> ReportCaseDetails {
        let noticeFigure: ReportCaseDetails.Notice? = notice.map { notice in
            switch notice.state {
            case .sent: notice.bar == .none ? .sent : .sentAfterDelay
            case .held, .due: .delayed
            case .failed, .notPossible: .notSent
            }
        }
        let challenge: ReportCaseDetails.Challenge? = subject.challenge.map { challenge in
            guard let upheld = challenge.demandUpheld else { return .pending }
            return upheld ? .demandUpheld : .demandSetAside
        }
        return ReportCaseDetails(
            nonDisclosure: demand.nonDisclosureOrder.map { $0.isIndefinite ? .indefinite : .dated }, notice: noticeFigure, challenge: challenge,
            // A failed check or a callback the agency did not confirm (legal-rules.md §6.3 E2).
            emergencyVerificationFailed: demand.isEmergency && (subject.checks.contains { !$0.passed } || (subject.callbacks ?? []).contains { !$0.confirmed }),
            // The CLOUD Act category: a U.S. warrant reaching data the customer keeps outside the U.S.
            cloudAct: demand.instrument == .usSearchWarrant && demand.jurisdiction.country.uppercased() == "US"
                && (subject.customer?.dataLocation).map { $0.uppercased() != "US" } ?? false,
            redFlags: Set((subject.redFlags ?? []).map(\.code.rawValue)).sorted().joined(separator: " ").nonEmpty)
    }

    /// Emergency requests have their own section; civil process (a civil subpoena, or a civil
    /// party or rights holder as issuer) the civil one; everything else is criminal.
    public static func section(of demand: Demand) -> ReportSection {
        if demand.isEmergency { return .emergency }
        if demand.instrument == .usCivilSubpoena || demand.issuingAuthority.role == .civilParty || demand.issuingAuthority.role == .rightsHolder {
            return .civil
        }
        return .criminal
    }
}

/// Facts counted together: everything the report distinguishes, and how many demands and
/// accounts share it. Storage computes these with one GROUP BY, so a report over a million
/// facts holds a few hundred groups, never the facts.
public struct ReportGroup: Codable, Equatable, Hashable, Sendable {
    public var country: String
    public var section: ReportSection
    public var instrument: String
    public var tenantKind: TenantKind
    public var outcome: ReportOutcome
    public var isPreservation: Bool
    public var isNationalSecurity: Bool
    public var details: ReportCaseDetails?
    /// Demands in the group.
    public var requests: Int
    /// Accounts they specified, summed.
    public var accounts: Int

    public init(
        country: String, section: ReportSection, instrument: String, tenantKind: TenantKind, outcome: ReportOutcome, isPreservation: Bool,
        isNationalSecurity: Bool, details: ReportCaseDetails? = nil, requests: Int, accounts: Int
    ) {
        self.country = country
        self.section = section
        self.instrument = instrument
        self.tenantKind = tenantKind
        self.outcome = outcome
        self.isPreservation = isPreservation
        self.isNationalSecurity = isNationalSecurity
        self.details = details
        self.requests = requests
        self.accounts = accounts
    }

    /// The groups of the facts received in the period (what storage counts).
    public static func groups(of facts: some Sequence<ReportFact>, in period: ReportPeriod) -> [ReportGroup] {
        ReportTally.counts(of: facts, in: period).groups
    }
}
