import Foundation

/// One row of a section table: a country, or the TOTAL row first.
public struct ReportRow: Codable, Equatable, Sendable {
    /// Display name (English), or `TOTAL`.
    public var country: String
    /// ISO 3166-1 alpha-2, or `ALL` on the TOTAL row.
    public var code: String
    public var requests: Int
    public var accounts: Int
    public var content: Int
    public var nonContent: Int
    public var noData: Int
    public var rejected: Int

    public init(country: String, code: String) {
        self.country = country
        self.code = code
        requests = 0
        accounts = 0
        content = 0
        nonContent = 0
        noData = 0
        rejected = 0
    }
}

/// A section of the report (report-formats.md §1): TOTAL first, then one row per country by name.
public struct SectionTable: Codable, Equatable, Sendable {
    public var section: ReportSection
    /// On the civil section the outcome columns count accounts, not requests (§1.3), and their
    /// percentages are of accounts.
    public var outcomesCountAccounts: Bool
    public var rows: [ReportRow]

    /// The number the outcome percentages of a row are taken of.
    public func base(of row: ReportRow) -> Int { outcomesCountAccounts ? row.accounts : row.requests }
}

/// Enterprise demands in Microsoft's prose form (report-formats.md §1.5): N = R + C + D and
/// C = X + Y, where D (valid, but no data found) is not in Microsoft's sentence and is shown
/// only when it is not zero.
public struct EnterpriseSummary: Codable, Equatable, Sendable {
    public var requests = 0
    public var rejectedWithdrawnOrRedirected = 0
    public var compelled = 0
    public var content = 0
    public var nonContentOnly = 0
    public var noData = 0
    public var accounts = 0
}

/// Figures beyond the LERR tables (issue 7, item 3), counted over every demand received in the
/// period that was handled in Custos (`casesWithDetails`; imported history does not record them)
/// except national-security process.
public struct OtherFigures: Codable, Equatable, Sendable {
    public var casesWithDetails = 0
    public var nonDisclosureOrders = 0
    public var indefiniteNonDisclosureOrders = 0
    public var noticesSent = 0
    public var noticesSentAfterDelay = 0
    /// Still held when their case closed.
    public var noticesDelayed = 0
    public var noticesNotSent = 0
    public var challengesFiled = 0
    public var challengesPending = 0
    public var challengesDemandUpheld = 0
    public var challengesDemandSetAside = 0
    /// Every emergency request, imported ones included.
    public var emergencyRequests = 0
    public var emergencyFailedVerification = 0
    /// U.S. warrants for data stored outside the United States, and how many led to content.
    public var cloudActWarrants = 0
    public var cloudActWarrantsDisclosingContent = 0
    /// Requests that raised at least one red flag about the requester (issue 8), and how often each
    /// flag was raised (`RedFlag.Code` raw values).
    public var requestsWithRedFlags = 0
    public var redFlags: [String: Int] = [:]

    public init() {}

    /// Every figure may be missing from a report frozen by an earlier version: it reads as 0.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func count(_ key: CodingKeys) throws -> Int { try c.decodeIfPresent(Int.self, forKey: key) ?? 0 }
        casesWithDetails = try count(.casesWithDetails)
        nonDisclosureOrders = try count(.nonDisclosureOrders)
        indefiniteNonDisclosureOrders = try count(.indefiniteNonDisclosureOrders)
        noticesSent = try count(.noticesSent)
        noticesSentAfterDelay = try count(.noticesSentAfterDelay)
        noticesDelayed = try count(.noticesDelayed)
        noticesNotSent = try count(.noticesNotSent)
        challengesFiled = try count(.challengesFiled)
        challengesPending = try count(.challengesPending)
        challengesDemandUpheld = try count(.challengesDemandUpheld)
        challengesDemandSetAside = try count(.challengesDemandSetAside)
        emergencyRequests = try count(.emergencyRequests)
        emergencyFailedVerification = try count(.emergencyFailedVerification)
        cloudActWarrants = try count(.cloudActWarrants)
        cloudActWarrantsDisclosingContent = try count(.cloudActWarrantsDisclosingContent)
        requestsWithRedFlags = try count(.requestsWithRedFlags)
        redFlags = try c.decodeIfPresent([String: Int].self, forKey: .redFlags) ?? [:]
    }

    mutating func add(_ group: ReportGroup) {
        if group.section == .emergency { emergencyRequests += group.requests }
        guard let details = group.details else { return }
        let n = group.requests
        casesWithDetails += n
        if details.nonDisclosure != nil { nonDisclosureOrders += n }
        if details.nonDisclosure == .indefinite { indefiniteNonDisclosureOrders += n }
        switch details.notice {
        case .sent: noticesSent += n
        case .sentAfterDelay: noticesSentAfterDelay += n
        case .delayed: noticesDelayed += n
        case .notSent: noticesNotSent += n
        case nil: break
        }
        switch details.challenge {
        case .pending: challengesPending += n
        case .demandUpheld: challengesDemandUpheld += n
        case .demandSetAside: challengesDemandSetAside += n
        case nil: break
        }
        if details.challenge != nil { challengesFiled += n }
        if details.emergencyVerificationFailed { emergencyFailedVerification += n }
        if details.cloudAct {
            cloudActWarrants += n
            if group.outcome == .content { cloudActWarrantsDisclosingContent += n }
        }
        if let flags = details.redFlags, !flags.isEmpty {
            requestsWithRedFlags += n
            for code in flags.split(separator: " ") { redFlags[String(code), default: 0] += n }
        }
    }
}

/// How few of the provider's customers the period's demands reached (C1; the seed claims only a
/// tiny fraction): accounts specified and customers named by demands handled here, against the
/// configured totals. Shares are percentages with four decimals, rounded half-up.
public struct AffectedShare: Codable, Equatable, Sendable {
    /// Accounts specified by every demand of the period (imported history included).
    public var accountsSpecified: Int
    /// Distinct customers (tenants) named by the demands handled here.
    public var tenantsAffected: Int
    public var totalAccounts: Int?
    public var totalTenants: Int?
    public var accountShare: String?
    public var tenantShare: String?

    public init(accountsSpecified: Int, tenantsAffected: Int, totalAccounts: Int?, totalTenants: Int?) {
        self.accountsSpecified = accountsSpecified
        self.tenantsAffected = tenantsAffected
        self.totalAccounts = totalAccounts
        self.totalTenants = totalTenants
        accountShare = totalAccounts.map { TransparencyReport.percent(accountsSpecified, of: $0, decimals: 4) }
        tenantShare = totalTenants.map { TransparencyReport.percent(tenantsAffected, of: $0, decimals: 4) }
    }
}

/// The computed report for one period: what every export renders.
public struct TransparencyReport: Codable, Equatable, Sendable {
    public var period: String
    public var periodStart: Date
    public var periodEnd: Date
    public var sections: [SectionTable]
    public var enterprise: EnterpriseSummary
    /// Preservation demands received in the period (never in any total).
    public var preservationRequests: Int
    /// Consumer demands withdrawn or redirected before any decision: outside the four LERR
    /// outcomes, so outside the section tables (whose outcomes add up to their requests).
    public var consumerUndecided: Int
    /// The facts the report was computed from (national-security process left out).
    public var factCount: Int
    public var other: OtherFigures
    /// Set by the caller that knows the provider's totals (configuration), nil otherwise.
    public var affected: AffectedShare?
    /// DSA Art. 15(1)(a) orders from Member States; set by the caller, which knows the service.
    public var dsa: DSAFigures?
    /// National-security process in the configured 50 U.S.C. § 1874 structure's bands only; set
    /// by the caller, which knows the structure.
    public var nationalSecurity: NationalSecurityFigures?
    /// Copyright notices under 17 U.S.C. § 512 (issue 9); set by the caller, which reads them.
    public var copyright: CopyrightFigures?

    /// Computes every section from the facts (any order; those outside the period are ignored).
    public init(period: ReportPeriod, facts: some Sequence<ReportFact>) {
        self.init(period: period, groups: ReportGroup.groups(of: facts, in: period))
    }

    /// Computes every section from the period's groups (see `ReportGroup`).
    public init(period: ReportPeriod, groups: [ReportGroup]) {
        self.period = period.description
        periodStart = period.start
        periodEnd = period.end
        enterprise = EnterpriseSummary()
        preservationRequests = 0
        consumerUndecided = 0
        factCount = 0
        other = OtherFigures()
        var tables: [ReportSection: [String: ReportRow]] = [:]
        for group in groups where !group.isNationalSecurity {
            factCount += group.requests
            other.add(group)
            if group.isPreservation {
                preservationRequests += group.requests
                continue
            }
            if group.tenantKind == .enterprise {
                enterprise.add(group)
                continue
            }
            guard [.content, .nonContent, .noData, .rejected].contains(group.outcome) else {
                consumerUndecided += group.requests
                continue
            }
            // On the civil section the outcome columns count accounts (report-formats.md §1.3).
            let weight = group.section == .civil ? group.accounts : group.requests
            var row = tables[group.section, default: [:]][group.country] ?? ReportRow(country: Self.countryName(group.country), code: group.country)
            row.requests += group.requests
            row.accounts += group.accounts
            switch group.outcome {
            case .content: row.content += weight
            case .nonContent: row.nonContent += weight
            case .noData: row.noData += weight
            default: row.rejected += weight
            }
            tables[group.section, default: [:]][group.country] = row
        }
        sections = ReportSection.allCases.map { section in
            let countries = (tables[section] ?? [:]).values.sorted { ($0.country, $0.code) < ($1.country, $1.code) }
            var total = ReportRow(country: "TOTAL", code: "ALL")
            for row in countries {
                total.requests += row.requests
                total.accounts += row.accounts
                total.content += row.content
                total.nonContent += row.nonContent
                total.noData += row.noData
                total.rejected += row.rejected
            }
            return SectionTable(section: section, outcomesCountAccounts: section == .civil, rows: [total] + countries)
        }
    }

    /// Every request the tables and the enterprise summary count (not preservation, not
    /// national-security process, not undecided consumer requests).
    public var requests: Int { sections.map { $0.rows[0].requests }.reduce(0, +) + enterprise.requests }

    public func section(_ section: ReportSection) -> SectionTable {
        sections.first { $0.section == section }!
    }

    /// `part` as a percentage of `whole` with two decimals, rounded half-up, computed in integers
    /// so no binary fraction can tip a half (report-formats.md §1.4: 647 of 887 is 72.94).
    /// Percentages are never adjusted to add up to 100.
    public static func percent(_ part: Int, of whole: Int, decimals: Int = 2) -> String {
        var scale = 1
        for _ in 0..<decimals { scale *= 10 }
        guard whole > 0 else { return "0." + String(repeating: "0", count: decimals) }
        let units = (2 * part * 100 * scale + whole) / (2 * whole)
        let fraction = String(units % scale)
        return "\(units / scale)." + String(repeating: "0", count: decimals - fraction.count) + fraction
    }

    /// Whole-number percentage, rounded half-up (Google's `Percentage disclosed`, §2).
    public static func wholePercent(_ part: Int, of whole: Int) -> Int {
        guard whole > 0 else { return 0 }
        return (2 * part * 100 + whole) / (2 * whole)
    }

    /// The English name of a territory (`DE` → Germany), or the code itself when unknown.
    public static func countryName(_ code: String) -> String {
        let name = Locale(identifier: "en_US").localizedString(forRegionCode: code)
        return name == nil || name == "Unknown Region" ? code : name!
    }
}

extension EnterpriseSummary {
    mutating func add(_ group: ReportGroup) {
        requests += group.requests
        accounts += group.accounts
        switch group.outcome {
        case .content:
            compelled += group.requests
            content += group.requests
        case .nonContent:
            compelled += group.requests
            nonContentOnly += group.requests
        case .noData: noData += group.requests
        case .rejected, .redirected, .withdrawn: rejectedWithdrawnOrRedirected += group.requests
        }
    }
}
