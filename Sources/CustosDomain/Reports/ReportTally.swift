import Foundation

/// What a report needs from one period's facts: the groups the tables are built from, the accounts
/// and distinct customers named (for the share affected), and the DSA orders' timings.
public struct ReportCounts: Equatable, Sendable {
    public var groups: [ReportGroup]
    /// Accounts specified by demands other than national-security process.
    public var accountsSpecified: Int
    /// Distinct customers named by demands other than national-security process.
    public var tenantsAffected: Int
    public var dsaTimings: [DSAOrders.Timing]

    public init(groups: [ReportGroup], accountsSpecified: Int, tenantsAffected: Int, dsaTimings: [DSAOrders.Timing]) {
        self.groups = groups
        self.accountsSpecified = accountsSpecified
        self.tenantsAffected = tenantsAffected
        self.dsaTimings = dsaTimings
    }
}

/// Counts facts one at a time into `ReportCounts`: memory grows with the groups and customers, never
/// with the facts, so storage can stream a million rows through it in one pass.
public struct ReportTally: Sendable {
    private var groups: [ReportGroup: (requests: Int, accounts: Int)] = [:]
    private var accounts = 0
    private var tenants: Set<String> = []
    private var dsa: [DSAOrders.Timing: Int] = [:]

    public init() {}

    /// Adds one fact in its parts: `group` with zero counts, the accounts it specified, the
    /// customer it named, and its DSA timing with zero orders when it is a DSA order.
    public mutating func add(_ group: ReportGroup, accounts: Int, tenantID: String?, dsa timing: DSAOrders.Timing?) {
        if let index = groups.index(forKey: group) {
            groups.values[index].requests += 1
            groups.values[index].accounts += accounts
        } else {
            groups[group] = (1, accounts)
        }
        if !group.isNationalSecurity {
            self.accounts += accounts
            if let tenantID { tenants.insert(tenantID) }
        }
        if let timing { dsa[timing, default: 0] += 1 }
    }

    public mutating func add(_ fact: ReportFact) {
        let group = ReportGroup(
            country: fact.country, section: fact.section, instrument: fact.instrument, tenantKind: fact.tenantKind, outcome: fact.outcome,
            isPreservation: fact.isPreservation, isNationalSecurity: fact.isNationalSecurity, details: fact.details, requests: 0, accounts: 0)
        var timing: DSAOrders.Timing?
        if fact.isDSAOrder {
            func milliseconds(_ date: Date?) -> Int64? { date.map { Int64(($0.timeIntervalSince(fact.receivedAt) * 1000).rounded()) } }
            timing = DSAOrders.Timing(
                country: fact.country, category: fact.dsaCategory ?? "",
                receiptHours: milliseconds(fact.acknowledgedAt).map(DSAOrders.receiptHours) ?? -1,
                effectHours: milliseconds(fact.effectAt).map(DSAOrders.effectHours) ?? -1, orders: 0)
        }
        add(group, accounts: fact.accounts, tenantID: fact.tenantID, dsa: timing)
    }

    public var counts: ReportCounts {
        ReportCounts(
            groups: groups.map { key, counts in
                var group = key
                group.requests = counts.requests
                group.accounts = counts.accounts
                return group
            }, accountsSpecified: accounts, tenantsAffected: tenants.count,
            dsaTimings: dsa.map { key, count in
                var timing = key
                timing.orders = count
                return timing
            })
    }

    /// The counts of the facts received in the period.
    public static func counts(of facts: some Sequence<ReportFact>, in period: ReportPeriod) -> ReportCounts {
        var tally = ReportTally()
        for fact in facts where period.contains(fact.receivedAt) { tally.add(fact) }
        return tally.counts
    }
}
