import CustosDomain
import Foundation
import Testing

/// Issue 7: every export of one fixed half-year, byte for byte against files kept in
/// `Fixtures/golden/`. A deliberate format change is made by running the tests once with
/// `CUSTOS_UPDATE_GOLDEN=1` and reviewing the files' diff; any other change fails here.
@Suite struct ReportGoldenTests {
    static let period = try! ReportPeriod(parsing: "2026-H1")
    static let start = Timestamp.parse("2026-01-05T08:00:00Z")!

    /// A fixed half-year: seven countries, all sections and outcomes, enterprise and consumer
    /// customers, preservation, national-security process, case details, DSA orders with times and
    /// categories, and facts outside the period that must not count. No randomness.
    static let facts: [ReportFact] = {
        let countries = ["US", "DE", "FR", "GR", "BR", "GB", "IE"]
        let outcomes: [ReportOutcome] = [.content, .nonContent, .nonContent, .noData, .rejected, .redirected, .withdrawn]
        let instruments = ["US": "us.search_warrant", "DE": "de.stpo_100g", "FR": "eu.epoc", "GR": "eu.epoc", "BR": "br.court_order", "GB": "uk.overseas_production_order", "IE": "eu.epoc"]
        var facts: [ReportFact] = []
        for index in 0..<180 {
            let country = countries[index % countries.count]
            let section: ReportSection = index % 17 == 0 ? .emergency : (index % 11 == 3 ? .civil : .criminal)
            var outcome = outcomes[(index / 7 + index) % outcomes.count]
            let kind: TenantKind = index % 5 == 2 ? .enterprise : .consumer
            if kind == .consumer && (outcome == .redirected) { outcome = .nonContent }
            let received = start.addingTimeInterval(Double(index) * 86_400 * 0.93 + Double(index % 13) * 3_600)
            let details = index % 3 == 0 ? nil : ReportCaseDetails(
                nonDisclosure: index % 10 == 1 ? .indefinite : (index % 4 == 1 ? .dated : nil),
                notice: [.sent, .sentAfterDelay, .delayed, .notSent][index % 4], challenge: index % 19 == 2 ? .demandSetAside : (index % 23 == 4 ? .pending : nil),
                emergencyVerificationFailed: section == .emergency && index % 2 == 0, cloudAct: country == "US" && index % 6 == 1,
                redFlags: index % 8 == 5 ? "new_requester" : (index % 31 == 7 ? "lookalike_domain urgency_without_specifics" : nil))
            facts.append(ReportFact(
                id: "golden-\(index)", receivedAt: received, country: country, section: section,
                instrument: section == .emergency ? "us.emergency_2702" : instruments[country]!, tenantKind: kind, accounts: 1 + index % 4,
                outcome: outcome, isPreservation: index % 29 == 7, details: details, tenantID: index % 4 == 0 ? nil : "tenant-\(index % 23)",
                acknowledgedAt: received.addingTimeInterval(Double(index % 3) * 2_700),
                effectAt: outcome.gaveEffect ? received.addingTimeInterval(Double(3_600 * (1 + index % 37))) : nil,
                dsaCategory: index % 3 == 0 ? nil : DSAOrders.categories[index % 5]))
        }
        for index in 0..<7 {
            facts.append(ReportFact(
                id: "golden-ns-\(index)", receivedAt: start.addingTimeInterval(Double(index) * 86_400 * 20), country: "US", section: .criminal,
                instrument: index % 2 == 0 ? "us.nsl" : "us.fisa_702", tenantKind: .consumer, accounts: 40 * (index + 1), outcome: .content,
                isNationalSecurity: true))
        }
        // Outside the period: never counted.
        facts.append(ReportFact(
            id: "golden-late", receivedAt: Timestamp.parse("2026-07-01T00:00:00Z")!, country: "DE", section: .criminal, instrument: "de.stpo_100g",
            tenantKind: .consumer, accounts: 9, outcome: .content))
        return facts
    }()

    /// The report as `custos report build` computes it, with totals and the § 1874(a)(2) bands
    /// (letters of this period only: the golden set has no FISA orders in the half-year before).
    static func report() -> (TransparencyReport, [ReportGroup]) {
        let counts = ReportTally.counts(of: facts, in: period)
        var report = TransparencyReport(period: period, groups: counts.groups)
        report.affected = AffectedShare(
            accountsSpecified: counts.accountsSpecified, tenantsAffected: counts.tenantsAffected, totalAccounts: 250_000, totalTenants: 12_000)
        report.dsa = DSAFigures(service: "Example Cloud", timings: counts.dsaTimings)
        var letters = NationalSecurityCounts()
        for fact in facts where fact.isNationalSecurity && period.contains(fact.receivedAt) {
            letters.add(instrument: fact.instrument, orders: 1, selectors: fact.accounts)
        }
        let covered = NationalSecurityStructure.separateByFiveHundred.coveredPeriods(for: period)
        report.nationalSecurity = NationalSecurityFigures(
            structure: .separateByFiveHundred, letters: letters, orders: NationalSecurityCounts(), nsl: covered.nsl, fisa: covered.fisa)
        return (report, counts.groups)
    }

    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/golden")

    static func check(_ text: String, against name: String) throws {
        let url = folder.appendingPathComponent(name)
        if ProcessInfo.processInfo.environment["CUSTOS_UPDATE_GOLDEN"] == "1" {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try Data(text.utf8).write(to: url)
        }
        let golden = try String(contentsOf: url, encoding: .utf8)
        #expect(text == golden, "\(name) differs from its golden file (CUSTOS_UPDATE_GOLDEN=1 rewrites it; review the diff)")
    }

    @Test(arguments: [
        (ReportFormat.lerrCSV, ReportSection.criminal, "lerr-criminal.csv"), (.lerrCSV, .emergency, "lerr-emergency.csv"),
        (.lerrCSV, .civil, "lerr-civil.csv"), (.googleCSV, nil, "google.csv"), (.dsaCSV, nil, "dsa.csv"), (.json, nil, "report.json"),
    ] as [(ReportFormat, ReportSection?, String)])
    func exportMatchesItsGoldenFile(format: ReportFormat, section: ReportSection?, file: String) throws {
        let (report, groups) = Self.report()
        try Self.check(try ReportExport.render(format, report: report, period: Self.period, groups: groups, section: section), against: file)
    }

    /// A report frozen by an earlier version, without the figures added since, still holds when
    /// recomputed; a figure it did publish that changed does not.
    @Test func aReportFrozenBeforeLaterFiguresStillHolds() throws {
        let (report, _) = Self.report()
        var old = try #require(try JSONSerialization.jsonObject(with: ReportSeal.canonicalJSON(report)) as? [String: Any])
        old["dsa"] = nil
        old["nationalSecurity"] = nil
        var other = try #require(old["other"] as? [String: Any])
        other["requestsWithRedFlags"] = nil
        other["redFlags"] = nil
        old["other"] = other
        let frozen = try JSONSerialization.data(withJSONObject: old, options: [.sortedKeys])
        #expect(try ReportSeal.holds(frozen: frozen, recomputed: report))
        // It still decodes, the missing figures as 0.
        let decoded = try CustosJSON.makeDecoder().decode(TransparencyReport.self, from: frozen)
        #expect(decoded.other.requestsWithRedFlags == 0 && decoded.dsa == nil && decoded.other.noticesSent == report.other.noticesSent)
        var changed = report
        changed.sections[0].rows[0].requests += 1
        #expect(try !ReportSeal.holds(frozen: frozen, recomputed: changed))
        changed = report
        changed.other.noticesSent += 1
        #expect(try !ReportSeal.holds(frozen: frozen, recomputed: changed))
    }

    /// The set is what it claims to cover, so the golden files exercise every rule.
    @Test func theFixedSetCoversEveryRule() {
        let (report, _) = Self.report()
        #expect(report.sections.allSatisfy { $0.rows.count > 1 })
        #expect(report.preservationRequests > 0 && report.consumerUndecided > 0 && report.enterprise.rejectedWithdrawnOrRedirected > 0)
        #expect(report.other.cloudActWarrants > 0 && report.other.indefiniteNonDisclosureOrders > 0 && report.other.challengesDemandSetAside > 0)
        #expect(report.other.requestsWithRedFlags > 0 && report.other.redFlags["lookalike_domain"] ?? 0 > 0)
        #expect(report.dsa?.rows.contains { $0.scope == "EL" } == true && report.nationalSecurity?.bands[0].text == "0 - 499")
        #expect(report.factCount == Self.facts.filter { !$0.isNationalSecurity && Self.period.contains($0.receivedAt) }.count)
    }
}
