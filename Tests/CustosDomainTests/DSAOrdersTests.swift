import CustosDomain
import Foundation
import Testing

/// Issue 7, DSA Art. 15(1)(a): which facts are orders to provide information, whole hours from
/// delivery, medians from the orders' own times, and the template's Part 3 layout (report-formats.md §6).
@Suite struct DSAOrdersTests {
    static let h1 = try! ReportPeriod(parsing: "2026-H1")
    static let received = Timestamp.parse("2026-03-02T08:00:00Z")!

    static func fact(
        _ country: String, hoursToAck: Double? = 0, hoursToEffect: Double?, outcome: ReportOutcome = .nonContent, category: String? = nil,
        section: ReportSection = .criminal, preservation: Bool = false
    ) -> ReportFact {
        ReportFact(
            id: UUID().uuidString, receivedAt: received, country: country, section: section, instrument: "eu.epoc", tenantKind: .consumer, accounts: 1,
            outcome: outcome, isPreservation: preservation, acknowledgedAt: hoursToAck.map { received.addingTimeInterval($0 * 3600) },
            effectAt: hoursToEffect.map { received.addingTimeInterval($0 * 3600) }, dsaCategory: category)
    }

    static func timings(_ facts: [ReportFact]) -> [DSAOrders.Timing] { DSAOrders.timings(of: facts, in: h1) }

    @Test func onlyMemberStatesDemandsForDataCount() {
        #expect(Self.fact("DE", hoursToEffect: 1).isDSAOrder)
        #expect(Self.fact("GR", hoursToEffect: 1).isDSAOrder)
        #expect(!Self.fact("US", hoursToEffect: 1).isDSAOrder)
        #expect(!Self.fact("GB", hoursToEffect: 1).isDSAOrder)  // no longer a Member State
        #expect(!Self.fact("DE", hoursToEffect: nil, preservation: true).isDSAOrder)
        #expect(!Self.fact("DE", hoursToEffect: 1, section: .civil).isDSAOrder)
        #expect(Self.fact("FR", hoursToEffect: 1, section: .emergency).isDSAOrder)
    }

    /// Automated receipt within an hour counts as 0; otherwise whole hours, halves up.
    @Test func hoursFromDelivery() {
        #expect(DSAOrders.receiptHours(milliseconds: 0) == 0)
        #expect(DSAOrders.receiptHours(milliseconds: 3_600_000) == 0)
        #expect(DSAOrders.receiptHours(milliseconds: 3_600_001) == 1)
        #expect(DSAOrders.receiptHours(milliseconds: 5_399_999) == 1)
        #expect(DSAOrders.receiptHours(milliseconds: 5_400_000) == 2)
        #expect(DSAOrders.effectHours(milliseconds: 1_799_999) == 0)
        #expect(DSAOrders.effectHours(milliseconds: 1_800_000) == 1)
        #expect(DSAOrders.effectHours(milliseconds: -5) == 0)
    }

    /// Medians of the orders themselves: odd and even counts, multiplicities, never the median of medians.
    @Test func mediansComeFromTheOrders() throws {
        let facts = [
            Self.fact("DE", hoursToEffect: 10), Self.fact("DE", hoursToEffect: 20), Self.fact("DE", hoursToEffect: 30),
            Self.fact("FR", hoursToEffect: 1), Self.fact("FR", hoursToEffect: 2),
            Self.fact("FR", hoursToEffect: nil, outcome: .rejected),  // counted, but gave no effect
            Self.fact("GR", hoursToAck: 5, hoursToEffect: 96, category: "STATEMENT_CATEGORY_SCAMS_AND_FRAUD"),
        ]
        let rows = DSAOrders.rows(Self.timings(facts))
        func row(_ scope: String, _ category: String = "TOTAL") throws -> DSAOrders.Row {
            try #require(rows.first { $0.scope == scope && $0.category == category })
        }
        #expect(rows.first?.scope == "TOTAL" && rows.first?.category == "TOTAL")
        #expect(rows.map(\.scope) == ["TOTAL", "TOTAL", "TOTAL", "DE", "DE", "EL", "EL", "FR", "FR"])
        let total = try row("TOTAL")
        #expect(total.ordersToProvideInformation == 7)
        // Effect times 1, 2, 10, 20, 30, 96 (the rejected order gave none): median (10 + 20) / 2.
        #expect(total.medianEffectHours == "15")
        #expect(total.medianReceiptHours == "0")
        #expect(try row("DE").medianEffectHours == "20")
        #expect(try row("FR").medianEffectHours == "1.5")
        #expect(try row("FR").ordersToProvideInformation == 3)
        // Greece is EL in the templates; its order keeps its category, the others are unspecified.
        #expect(try row("EL").medianReceiptHours == "5")
        #expect(try row("EL", "STATEMENT_CATEGORY_SCAMS_AND_FRAUD").ordersToProvideInformation == 1)
        #expect(try row("TOTAL", DSAOrders.unspecified).ordersToProvideInformation == 6)
        #expect(rows.filter { $0.scope == "DE" }.map(\.category) == ["TOTAL", DSAOrders.unspecified])
        #expect(!rows.contains { $0.scope == "GR" || $0.scope == "US" })
        // A median of the two country medians (20 and 1.5) would not be 15: the medians are not additive.
    }

    @Test func csvHasTheTemplatesHeaderAndBlanksWhatDoesNotApply() {
        let figures = DSAFigures(service: "Cloud, \"EU\"", timings: Self.timings([Self.fact("DE", hoursToEffect: 4)]))
        let csv = ReportExport.dsaCSV(figures, period: Self.h1)
        let lines = csv.components(separatedBy: "\r\n")
        #expect(lines[0].hasPrefix(#"Applicability,Service,Reporting period,Category of illegal content,"Description of the sub-category ""Other""",Scope,"#))
        #expect(lines[0].hasSuffix(",Contextual information on Median time to give effect to the order to provide information"))
        #expect(lines[0].components(separatedBy: ",Contextual").count == 8)
        #expect(lines[1].hasPrefix(#"All,"Cloud, ""EU""",2026-01-01/2026-06-30,TOTAL,,TOTAL,,,,,1,0,4,"#))
        #expect(lines[2].hasPrefix(#"All,"Cloud, ""EU""",2026-01-01/2026-06-30,STATEMENT_CATEGORY_NOT_SPECIFIED_ORDER,,TOTAL,,,,,1,0,4,"#))
        #expect(lines.contains { $0.hasPrefix(#"All,"Cloud, ""EU""",2026-01-01/2026-06-30,TOTAL,,DE,"#) })
        #expect(csv.hasSuffix("\r\n"))
        // Nothing received: the row applies, so it says 0, and medians stay blank.
        let empty = ReportExport.dsaCSV(DSAFigures(service: "Cloud", timings: []), period: Self.h1).components(separatedBy: "\r\n")
        #expect(empty.count == 3 && empty[1].hasPrefix("All,Cloud,2026-01-01/2026-06-30,TOTAL,,TOTAL,,,,,0,,,"))
    }

    /// A closed case gives effect when released (or answered with no data); acknowledgement is at intake.
    @Test func closedCasesRecordTheirTimes() {
        var subject = Fixture.newCase()
        subject.state = .closed
        subject.outcome = .content
        let released = Fixture.t0.addingTimeInterval(7_200)
        subject.releasedAt = released
        subject.updatedAt = released.addingTimeInterval(86_400)
        let demand = Fixture.demand()
        let fact = ReportFact.closed(subject, demand: demand)
        #expect(fact?.acknowledgedAt == demand.receivedAt && fact?.effectAt == released)
        subject.outcome = .noData
        #expect(ReportFact.closed(subject, demand: demand)?.effectAt == subject.updatedAt)
        subject.outcome = .rejected
        #expect(ReportFact.closed(subject, demand: demand)?.effectAt == nil)
    }

    @Test func importTakesTheOptionalTimesAndCategory() throws {
        let base = #"{"id":"d-1","receivedAt":"2026-02-03T10:00:00Z","country":"DE","section":"criminal","instrument":"eu.epoc","accounts":1,"tenantKind":"consumer","outcome":"non_content""#
        let good = base + #","acknowledgedAt":"2026-02-03T10:00:00Z","effectAt":"2026-02-04T10:00:00Z","dsaCategory":"STATEMENT_CATEGORY_SCAMS_AND_FRAUD"}"#
        let fact = try HistoricalImport.parse(good).get()[0]
        #expect(fact.effectAt == Timestamp.parse("2026-02-04T10:00:00Z") && fact.dsaCategory == "STATEMENT_CATEGORY_SCAMS_AND_FRAUD" && fact.isDSAOrder)
        let bad = [
            base + #","dsaCategory":"FRAUD"}"#,
            base + #","effectAt":"2026-02-01"}"#,
            base.replacingOccurrences(of: "non_content", with: "rejected") + #","effectAt":"2026-02-05"}"#,
        ]
        guard case .failure(let failure) = HistoricalImport.parse(bad.joined(separator: "\n")) else {
            Issue.record("bad DSA fields were accepted")
            return
        }
        #expect(failure.errors.map(\.line) == [1, 2, 3])
        #expect(failure.errors[0].message.contains("STATEMENT_CATEGORY_"))
        #expect(failure.errors[1].message.contains("before"))
        #expect(failure.errors[2].message.contains("gave no effect"))
    }
}
