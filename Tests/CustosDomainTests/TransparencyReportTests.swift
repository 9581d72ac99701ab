import CustosDomain
import Foundation
import Testing

@Suite struct TransparencyReportTests {
    static let h1 = try! ReportPeriod(parsing: "2019-H1")
    static let inH1 = Timestamp.parse("2019-03-01T12:00:00Z")!

    static func facts(
        _ count: Int, _ outcome: ReportOutcome, country: String = "AU", section: ReportSection = .criminal, kind: TenantKind = .consumer,
        accounts: Int = 1, instrument: String = "us.search_warrant", at: Date = inH1, preservation: Bool = false, nationalSecurity: Bool = false
    ) -> [ReportFact] {
        (0..<count).map { _ in
            ReportFact(
                id: UUID().uuidString, receivedAt: at, country: country, section: section, instrument: instrument, tenantKind: kind, accounts: accounts,
                outcome: outcome, isPreservation: preservation, isNationalSecurity: nationalSecurity)
        }
    }

    /// report-formats.md §1.4: the published figures, to two decimals, rounded half-up.
    @Test func percentagesMatchThePublishedFigures() {
        #expect(TransparencyReport.percent(647, of: 887) == "72.94")
        #expect(TransparencyReport.percent(115, of: 887) == "12.97")
        #expect(TransparencyReport.percent(125, of: 887) == "14.09")
        #expect(TransparencyReport.percent(1072, of: 25182) == "4.26")
        #expect(TransparencyReport.percent(12991, of: 25182) == "51.59")
        #expect(TransparencyReport.percent(4778, of: 25182) == "18.97")
        #expect(TransparencyReport.percent(6341, of: 25182) == "25.18")
        // An exact half rounds up; just below it rounds down; edges.
        #expect(TransparencyReport.percent(1, of: 20_000) == "0.01")
        #expect(TransparencyReport.percent(1, of: 20_001) == "0.00")
        #expect(TransparencyReport.percent(2, of: 3) == "66.67")
        #expect(TransparencyReport.percent(5, of: 5) == "100.00")
        #expect(TransparencyReport.percent(0, of: 0) == "0.00")
        #expect(TransparencyReport.percent(3, of: 250_000, decimals: 4) == "0.0012")
        #expect(TransparencyReport.percent(1, of: 2_000_000, decimals: 4) == "0.0001")  // an exact half, up
        #expect(TransparencyReport.percent(1, of: 2_000_001, decimals: 4) == "0.0000")
        #expect(AffectedShare(accountsSpecified: 42, tenantsAffected: 7, totalAccounts: 1_000_000, totalTenants: 50_000).tenantShare == "0.0140")
        #expect(AffectedShare(accountsSpecified: 42, tenantsAffected: 7, totalAccounts: nil, totalTenants: nil).accountShare == nil)
        #expect(TransparencyReport.wholePercent(87, of: 100) == 87)
        #expect(TransparencyReport.wholePercent(1, of: 200) == 1)
        #expect(TransparencyReport.wholePercent(1, of: 201) == 0)
    }

    /// 2019-H1 Australia (887 requests) rebuilt from facts gives Microsoft's published row, and the
    /// four outcomes add up to the requests (§1.3).
    @Test func lerrRowsRebuildMicrosoftsAustraliaFigures() {
        let all = Self.facts(647, .nonContent, accounts: 2) + Self.facts(125, .noData) + Self.facts(115, .rejected)
            + Self.facts(3, .content, country: "DE") + Self.facts(1, .rejected, country: "BR")
        let report = TransparencyReport(period: Self.h1, facts: all.shuffled())
        let csv = ReportExport.lerrCSV(report.section(.criminal)).components(separatedBy: "\r\n")
        #expect(csv[0] == "Country/Region,Code,Requests,Accounts,Content %,Content,Non-content %,Non-content,No data %,No data,Rejected %,Rejected")
        #expect(csv[1] == "TOTAL,ALL,891,1538,0.34,3,72.62,647,14.03,125,13.02,116")
        #expect(csv[2] == "Australia,AU,887,1534,0.00,0,72.94,647,14.09,125,12.97,115")
        #expect(csv[3] == "Brazil,BR,1,1,0.00,0,0.00,0,0.00,0,100.00,1")
        #expect(csv[4] == "Germany,DE,3,3,100.00,3,0.00,0,0.00,0,0.00,0")
        #expect(csv.count == 6 && csv[5] == "")
        for row in report.section(.criminal).rows {
            #expect(row.content + row.nonContent + row.noData + row.rejected == row.requests)
        }
    }

    /// §1.3: on the civil section the outcomes count accounts (2023-H2 US: 0+3+35+234 = 272 accounts).
    @Test func civilOutcomesCountAccounts() {
        let all = Self.facts(1, .nonContent, country: "US", section: .civil, accounts: 3)
            + Self.facts(5, .noData, country: "US", section: .civil, accounts: 7)
            + Self.facts(73, .rejected, country: "US", section: .civil, accounts: 3)
            + Self.facts(1, .rejected, country: "US", section: .civil, accounts: 15)
        let table = TransparencyReport(period: Self.h1, facts: all).section(.civil)
        let us = table.rows[1]
        #expect(table.outcomesCountAccounts)
        #expect(us.requests == 80 && us.accounts == 272)
        #expect(us.content + us.nonContent + us.noData + us.rejected == us.accounts)
        #expect(us.nonContent == 3 && us.noData == 35 && us.rejected == 234)
        #expect(ReportExport.lerrCSV(table).contains("United States,US,80,272,0.00,0,1.10,3,12.87,35,86.03,234"))
    }

    /// §1.5: Microsoft's 2019-H1 enterprise figures, N = R + C and C = X + Y.
    @Test func enterpriseSummaryHasMicrosoftsForm() {
        let all = Self.facts(22, .content, kind: .enterprise) + Self.facts(20, .nonContent, kind: .enterprise)
            + Self.facts(12, .rejected, kind: .enterprise) + Self.facts(11, .withdrawn, kind: .enterprise) + Self.facts(9, .redirected, kind: .enterprise)
        let report = TransparencyReport(period: Self.h1, facts: all)
        let summary = report.enterprise
        #expect(summary.requests == 74 && summary.rejectedWithdrawnOrRedirected == 32 && summary.compelled == 42)
        #expect(summary.content == 22 && summary.nonContentOnly == 20 && summary.noData == 0)
        #expect(report.section(.criminal).rows.count == 1, "enterprise demands are not in the consumer tables")
    }

    @Test func preservationNationalSecurityAndOtherPeriodsStayOutOfTheTotals() {
        let all = Self.facts(2, .rejected) + Self.facts(4, .noData, instrument: "us.preservation_2703f", preservation: true)
            + Self.facts(3, .content, instrument: "us.nsl", nationalSecurity: true)
            + Self.facts(1, .content, at: Timestamp.parse("2019-07-01T00:00:00Z")!)  // first instant of H2
            + Self.facts(1, .content, at: Timestamp.parse("2018-12-31T23:59:59Z")!)
            + Self.facts(1, .withdrawn)
        let report = TransparencyReport(period: Self.h1, facts: all)
        #expect(report.section(.criminal).rows[0].requests == 2)
        #expect(report.preservationRequests == 4)
        #expect(report.consumerUndecided == 1)
        #expect(report.factCount == 7)
    }

    @Test func googleCSVListsCountryAndProcessWithPreservationBlank() {
        let all = Self.facts(87, .content, country: "DE") + Self.facts(13, .rejected, country: "DE")
            + Self.facts(2, .noData, country: "DE", instrument: "us.preservation_2703f", preservation: true)
            + Self.facts(1, .nonContent, country: "US", section: .emergency, accounts: 4, instrument: "us.emergency_2702")
            + Self.facts(5, .content, kind: .enterprise)
        let lines = ReportExport.googleCSV(period: Self.h1, groups: ReportGroup.groups(of: all, in: Self.h1), section: nil).components(separatedBy: "\r\n")
        #expect(lines == [
            "Period Ending,Country/Region,CLDR Territory Code,Legal Process,User Data Requests,Percentage disclosed,Accounts",
            "2019-06-30,Germany,DE,Preservation Requests,2,,2",
            "2019-06-30,Germany,DE,Search Warrants,100,87,100",
            "2019-06-30,United States,US,Emergency Disclosure Requests,1,100,4",
            "",
        ])
        let emergencyOnly = ReportExport.googleCSV(period: Self.h1, groups: ReportGroup.groups(of: all, in: Self.h1), section: .emergency)
        #expect(emergencyOnly.components(separatedBy: "\r\n").count == 3)
    }

    @Test func periodsParse() throws {
        let h2 = try ReportPeriod(parsing: "2026-H2")
        #expect(h2.start == Timestamp.parse("2026-07-01T00:00:00Z") && h2.end == Timestamp.parse("2027-01-01T00:00:00Z"))
        #expect(h2.lastDay == "2026-12-31" && h2.dsaRange == "2026-07-01/2026-12-31")
        let range = try ReportPeriod(parsing: "2026-01-01..2026-03-31")
        #expect(range.contains(Timestamp.parse("2026-03-31T23:59:59Z")!) && !range.contains(Timestamp.parse("2026-04-01T00:00:00Z")!))
        for bad in ["2026", "2026-H3", "26-H1", "2026-01-01..", "2026-02-30..2026-03-01", "H1-2026", ""] {
            #expect(throws: ReportPeriod.ParseError.self, "\(bad)") { try ReportPeriod(parsing: bad) }
        }
        #expect(throws: ReportPeriod.ParseError.empty("2026-03-01..2026-02-01")) { try ReportPeriod(parsing: "2026-03-01..2026-02-01") }
    }

    /// Gag orders, notices, challenges, failed emergency checks and the CLOUD Act category are
    /// counted over the cases handled here; imported history (no details) adds only emergencies.
    @Test func otherFiguresCountCaseDetails() {
        func detail(_ nd: ReportCaseDetails.NonDisclosure?, _ notice: ReportCaseDetails.Notice?, _ challenge: ReportCaseDetails.Challenge? = nil, failed: Bool = false, cloud: Bool = false)
            -> ReportCaseDetails
        { ReportCaseDetails(nonDisclosure: nd, notice: notice, challenge: challenge, emergencyVerificationFailed: failed, cloudAct: cloud) }
        var all = Self.facts(2, .nonContent) + Self.facts(3, .rejected, section: .emergency)  // imported: no details
        let handled: [(ReportCaseDetails, ReportOutcome, ReportSection)] = [
            (detail(.indefinite, .delayed), .content, .criminal),
            (detail(.dated, .sentAfterDelay), .nonContent, .criminal),
            (detail(nil, .sent, .demandSetAside), .rejected, .criminal),
            (detail(nil, .notSent, .pending), .noData, .criminal),
            (detail(nil, nil, failed: true), .rejected, .emergency),
            (detail(nil, .sent, cloud: true), .content, .criminal),
            (detail(nil, .sent, .demandUpheld, cloud: true), .nonContent, .criminal),
        ]
        for (details, outcome, section) in handled {
            var fact = Self.facts(1, outcome, section: section)[0]
            fact.details = details
            all.append(fact)
        }
        let o = TransparencyReport(period: Self.h1, facts: all).other
        #expect(o.casesWithDetails == 7 && o.emergencyRequests == 4 && o.emergencyFailedVerification == 1)
        #expect(o.nonDisclosureOrders == 2 && o.indefiniteNonDisclosureOrders == 1)
        #expect(o.noticesSent == 3 && o.noticesSentAfterDelay == 1 && o.noticesDelayed == 1 && o.noticesNotSent == 1)
        #expect(o.challengesFiled == 3 && o.challengesDemandSetAside == 1 && o.challengesDemandUpheld == 1 && o.challengesPending == 1)
        #expect(o.cloudActWarrants == 2 && o.cloudActWarrantsDisclosingContent == 1)
    }

    @Test func aClosedCaseRecordsItsDetails() {
        var subject = Fixture.newCase()
        subject.customer?.dataLocation = "IE"
        subject.state = .closed
        subject.outcome = .content
        let gagged = Fixture.demand(order: NonDisclosureOrder(basis: "18 U.S.C. § 2705(b)", until: nil, isIndefinite: true))
        let details = ReportFact.closed(subject, demand: gagged, notice: (.held, .indefinite))?.details
        #expect(details == ReportCaseDetails(nonDisclosure: .indefinite, notice: .delayed, challenge: nil, emergencyVerificationFailed: false, cloudAct: true))
        #expect(ReportFact.closed(subject, demand: gagged)?.tenantID == Fixture.tenantID.uuidString.lowercased())
        // Red flags count once per code, sorted; a callback the agency did not confirm is a failed emergency check.
        subject.redFlags = [RedFlag(.newRequester, "x"), RedFlag(.lookalikeDomain, "y"), RedFlag(.newRequester, "z")]
        #expect(ReportFact.closed(subject, demand: gagged)?.details?.redFlags == "lookalike_domain new_requester")
        subject.redFlags = nil
        #expect(ReportFact.closed(subject, demand: gagged)?.details?.redFlags == nil)
        var emergency = subject
        emergency.callbacks = [CallbackRecord(phone: Fixture.switchboard, spokeWith: "desk", confirmed: false, note: nil, by: "intake", at: Fixture.t0)]
        #expect(ReportFact.closed(emergency, demand: Fixture.demand(emergency: true))?.details?.emergencyVerificationFailed == true)
        #expect(ReportFact.closed(emergency, demand: Fixture.demand(emergency: false))?.details?.emergencyVerificationFailed == false)
        subject.customer?.dataLocation = "US"
        #expect(ReportFact.closed(subject, demand: Fixture.demand(), notice: (.sent, .none))?.details
            == ReportCaseDetails(nonDisclosure: nil, notice: .sent, challenge: nil, emergencyVerificationFailed: false, cloudAct: false))
    }

    @Test func closedCaseYieldsOneFactAndOpenCasesNone() {
        var subject = Fixture.newCase()
        let demand = Fixture.demand()
        #expect(ReportFact.closed(subject, demand: demand) == nil)
        subject.state = .closed
        subject.outcome = .nonContent
        let fact = ReportFact.closed(subject, demand: demand)
        #expect(fact?.outcome == .nonContent && fact?.section == .criminal && fact?.country == "US" && fact?.accounts == 1)
        subject.outcome = .preserved
        #expect(ReportFact.closed(subject, demand: demand)?.isPreservation == true)
    }
}

@Suite struct HistoricalImportTests {
    static let good = #"{"id":"2019-0001","receivedAt":"2019-02-03","country":"au","section":"criminal","instrument":"us.subpoena","accounts":2,"tenantKind":"consumer","outcome":"non_content"}"#

    @Test func validLinesBecomeFacts() throws {
        let text = Self.good + "\n\n" + #"{"id":"2019-0002","receivedAt":"2019-02-04T10:00:00Z","country":"US","section":"emergency","instrument":"us.preservation_2703f","accounts":0,"tenantKind":"enterprise","outcome":"withdrawn"}"# + "\n"
        let facts = try HistoricalImport.parse(text).get()
        #expect(facts.count == 2)
        #expect(facts[0].country == "AU" && facts[0].accounts == 2 && facts[0].outcome == .nonContent && !facts[0].isPreservation)
        #expect(facts[1].isPreservation && facts[1].tenantKind == .enterprise && facts[1].receivedAt == Timestamp.parse("2019-02-04T10:00:00Z"))
    }

    /// Every bad line is reported with its number, and nothing is returned to store.
    @Test func badLinesAreReportedWithTheirNumbers() {
        let lines = [
            Self.good,
            "{not json",
            Self.good.replacingOccurrences(of: #""outcome":"non_content""#, with: #""outcome":"partial""#),
            Self.good.replacingOccurrences(of: #""accounts":2"#, with: #""accounts":-1"#),
            Self.good.replacingOccurrences(of: #""country":"au""#, with: #""country":"Australia""#),
            Self.good.replacingOccurrences(of: #""id":"2019-0001""#, with: #""id":"2019-0001","extra":1"#),
            Self.good,
            Self.good.replacingOccurrences(of: #""receivedAt":"2019-02-03""#, with: #""receivedAt":"yesterday""#),
            Self.good.replacingOccurrences(of: #","accounts":2"#, with: ""),
            Self.good.replacingOccurrences(of: #""accounts":2"#, with: #""accounts":true"#),
            Self.good.replacingOccurrences(of: #""accounts":2"#, with: #""accounts":2.5"#),
        ]
        guard case .failure(let failure) = HistoricalImport.parse(lines.joined(separator: "\n")) else {
            Issue.record("a file with bad lines was accepted")
            return
        }
        #expect(failure.errors.map(\.line) == [2, 3, 4, 5, 6, 7, 8, 9, 10, 11])
        #expect(failure.errors[1].message.contains("partial") && failure.errors[1].message.contains("non_content"))
        #expect(failure.errors[4].message.contains("extra"))
        #expect(failure.errors[5].message.contains("already appears on line 1"))
        #expect(failure.errors[7].description == #"line 9: missing "accounts""#)
    }
}
