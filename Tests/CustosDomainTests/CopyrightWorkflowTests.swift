import CustosDomain
import Foundation
import Testing

/// Issue 9: every § 512(c)(3)(A) and § 512(g)(3) element, both business-day clocks, the
/// workflow's paths and the strike arithmetic.
@Suite struct CopyrightWorkflowTests {
    static let rulebook = Fixture.rulebook
    static let rules = rulebook.dmca!
    let workflow = try! CopyrightWorkflow(rulebook: Fixture.rulebook, responseBusinessDays: 2)
    static let tenant = UUID()

    static func notice(
        signature: String = "/s/ Jane Roe", works: [CopyrightWork] = [CopyrightWork(description: "Photograph 'Harbour at Dawn' (2024)", copyrightedURLs: ["https://roe.example/harbour"], infringingURLs: ["https://northwind.example/gallery/harbour.jpg"])],
        email: String = "jane@roe.example", address: String? = "1 Main St, Portland OR", phone: String? = nil, goodFaith: Bool = true, perjury: Bool = true
    ) -> CopyrightNoticeText {
        CopyrightNoticeText(
            complainant: Complainant(name: "Jane Roe", organisation: "Roe Photo LLC", email: email, address: address, phone: phone, country: "US"),
            works: works, signature: signature, goodFaithStatement: goodFaith, accuracyUnderPenaltyOfPerjury: perjury)
    }

    static let counter = CounterNoticeText(
        signature: "/s/ Northwind Legal", material: "harbour.jpg at https://northwind.example/gallery/harbour.jpg", mistakeUnderPenaltyOfPerjury: true,
        name: "Northwind Traders", address: "2 Pier Rd, Seattle WA", phone: "+1 206 555 0111", consentsToJurisdiction: true, acceptsService: true)

    func missing(_ text: CopyrightNoticeText) -> (NoticeValidity, [String]) {
        let (validity, findings) = CopyrightChecks.check(text, elements: Self.rules.noticeElements)
        return (validity, findings.filter { !$0.present }.map(\.id))
    }

    @Test func aCompleteNoticeIsValidAndEachFindingCitesItsElement() {
        let (validity, findings) = CopyrightChecks.check(Self.notice(), elements: Self.rules.noticeElements)
        #expect(validity == .valid)
        #expect(findings.map(\.id) == ["N-i", "N-ii", "N-iii", "N-iv", "N-v", "N-vi"])
        #expect(findings.map(\.citation) == (["i", "ii", "iii", "iv", "v", "vi"]).map { "17 U.S.C. § 512(c)(3)(A)(\($0))" })
    }

    @Test func eachNoticeElementIsCheckedOnItsOwn() {
        // (i), (v), (vi) missing alone: the notice still names the work, the material and the sender,
        // so it substantially complies and the sender is asked to complete it (§ 512(c)(3)(B)(ii)).
        #expect(missing(Self.notice(signature: " ")) == (.substantiallyCompliant, ["N-i"]))
        #expect(missing(Self.notice(goodFaith: false)) == (.substantiallyCompliant, ["N-v"]))
        #expect(missing(Self.notice(perjury: false)) == (.substantiallyCompliant, ["N-vi"]))
        #expect(missing(Self.notice(signature: "", goodFaith: false, perjury: false)) == (.substantiallyCompliant, ["N-i", "N-v", "N-vi"]))
        // (ii), (iii), (iv) missing: not a notice at all (§ 512(c)(3)(B)(i)).
        #expect(missing(Self.notice(works: [CopyrightWork(description: " ", infringingURLs: ["https://northwind.example/a.jpg"])])) == (.invalid, ["N-ii"]))
        #expect(missing(Self.notice(works: [CopyrightWork(description: "A song", infringingURLs: [])])) == (.invalid, ["N-iii"]))
        #expect(missing(Self.notice(works: [CopyrightWork(description: "A song", infringingURLs: ["somewhere on your site"])])) == (.invalid, ["N-iii"]))
        #expect(missing(Self.notice(works: [CopyrightWork(description: "A song", infringingURLs: ["ftp://northwind.example/a.mp3"])])) == (.invalid, ["N-iii"]))
        #expect(missing(Self.notice(email: "jane-at-roe")) == (.invalid, ["N-iv"]))
        #expect(missing(Self.notice(address: nil, phone: nil)) == (.invalid, ["N-iv"]))
        #expect(missing(Self.notice(address: nil, phone: "+1 503 555 0100")) == (.valid, []), "a telephone number is enough with the e-mail")
        #expect(missing(Self.notice(signature: "", email: "x")) == (.invalid, ["N-i", "N-iv"]))
    }

    @Test func eachCounterNoticeElementIsChecked() {
        func missing(_ change: (inout CounterNoticeText) -> Void) -> [String] {
            var counter = Self.counter
            change(&counter)
            return CopyrightChecks.check(counter, elements: Self.rules.counterNoticeElements).1.filter { !$0.present }.map(\.id)
        }
        #expect(missing { _ in } == [])
        #expect(missing { $0.signature = "" } == ["C-A"])
        #expect(missing { $0.material = "" } == ["C-B"])
        #expect(missing { $0.mistakeUnderPenaltyOfPerjury = false } == ["C-C"])
        #expect(missing { $0.phone = "" } == ["C-D"])
        #expect(missing { $0.consentsToJurisdiction = false } == ["C-D"])
        #expect(missing { $0.acceptsService = false } == ["C-D"])
        let finding = CopyrightChecks.check({ var c = Self.counter; c.address = ""; c.acceptsService = false; return c }(), elements: Self.rules.counterNoticeElements).1.last
        #expect(finding?.citation == "17 U.S.C. § 512(g)(3)(D)" && finding?.reason == "missing: address, acceptance of service of process")
    }

    func confirmed(at time: Date, text: CopyrightNoticeText = Self.notice()) throws -> CopyrightCase {
        let received = CopyrightCase(id: UUID(), number: "DMCA-2026-00001", text: text, receivedAt: time)
        return try workflow.apply(.confirm(tenantID: Self.tenant, tenantName: "Northwind"), to: received, at: time, by: "jane@roe.example").next
    }

    /// The customer's answer is due at the end of the 2nd US business day: Thanksgiving (26 Nov
    /// 2026) and the weekend do not count.
    @Test(arguments: [
        ("2026-11-25T12:00:00Z", "2026-12-01T05:00:00Z"),  // Wed → Fri 27, Mon 30 (Thanksgiving skipped)
        ("2026-11-27T20:00:00Z", "2026-12-02T05:00:00Z"),  // Fri → Mon 30, Tue 1
        ("2026-05-04T09:00:00Z", "2026-05-07T04:00:00Z"),  // Mon → Tue 5, Wed 6 (EDT)
    ])
    func theCustomersResponseDeadlineCountsBusinessDays(confirmed: String, due: String) throws {
        let subject = try self.confirmed(at: Timestamp.parse(confirmed)!)
        #expect(subject.state == .withCustomer)
        #expect(subject.responseDueAt == Timestamp.parse(due))
    }

    @Test func invalidIncompleteAndUnhostedNoticesCloseWithAnExplanationToTheSender() throws {
        let t0 = Timestamp.parse("2026-05-04T09:00:00Z")!
        let invalid = try workflow.apply(.confirm(tenantID: Self.tenant, tenantName: "N"), to: CopyrightCase(id: UUID(), number: "D-1", text: Self.notice(address: nil, phone: nil), receivedAt: t0), at: t0, by: "x")
        #expect(invalid.next.state == .rejected && invalid.next.state.isClosed)
        guard case .message(.complainant, _, let text)? = invalid.messages.first else { Issue.record("no message to the sender"); return }
        #expect(text.contains("§ 512(c)(3)(A)(iv)") && text.contains("postal address or telephone"))
        let deficient = try workflow.apply(.confirm(tenantID: Self.tenant, tenantName: "N"), to: CopyrightCase(id: UUID(), number: "D-2", text: Self.notice(perjury: false), receivedAt: t0), at: t0, by: "x")
        #expect(deficient.next.state == .deficient)
        #expect(deficient.messages.contains { if case .message(.complainant, _, let text) = $0 { text.contains("§ 512(c)(3)(B)(ii)") && text.contains("penalty of perjury") } else { false } })
        let elsewhere = try workflow.apply(.confirm(tenantID: nil, tenantName: nil), to: CopyrightCase(id: UUID(), number: "D-3", text: Self.notice(), receivedAt: t0), at: t0, by: "x")
        #expect(elsewhere.next.state == .notHosted && elsewhere.messages.count == 1)
        #expect(!invalid.strike && !deficient.strike && !elsewhere.strike)
    }

    @Test func removedThenTakenDownIsAStrikeAndTheCustomerGotTheCopy() throws {
        let t0 = Timestamp.parse("2026-05-04T09:00:00Z")!
        let forwarded = try workflow.apply(.confirm(tenantID: Self.tenant, tenantName: "Northwind"), to: CopyrightCase(id: UUID(), number: "D-4", text: Self.notice(), receivedAt: t0), at: t0, by: "x")
        #expect(forwarded.messages.contains { if case .message(.customer, _, let text) = $0 { text.contains("https://northwind.example/gallery/harbour.jpg") && text.contains("2026-05-07") } else { false } })
        let removed = try workflow.apply(.customerRemoved(note: "deleted"), to: forwarded.next, at: t0.addingTimeInterval(3600), by: "legal@northwind.example")
        #expect(removed.next.state == .takedownPending && !removed.strike)
        let down = try workflow.apply(.recordTakedown(note: "checked: 404"), to: removed.next, at: t0.addingTimeInterval(7200), by: "staff")
        #expect(down.next.state == .takenDown && down.strike && down.next.strikeAt != nil)
        #expect(throws: CopyrightRefusal.self) { try workflow.apply(.customerRemoved(note: nil), to: down.next, at: t0, by: "x") }
    }

    @Test func noResponseIsAStrikeOnlyOnceTheDeadlinePassed() throws {
        let t0 = Timestamp.parse("2026-05-04T09:00:00Z")!
        let subject = try confirmed(at: t0)
        #expect(throws: CopyrightRefusal.self) { try workflow.apply(.noResponse, to: subject, at: subject.responseDueAt!.addingTimeInterval(-1), by: "system") }
        let silent = try workflow.apply(.noResponse, to: subject, at: subject.responseDueAt!, by: "system")
        #expect(silent.next.state == .takedownPending && silent.strike && silent.next.answer == .noResponse)
        let down = try workflow.apply(.recordTakedown(note: nil), to: silent.next, at: subject.responseDueAt!.addingTimeInterval(60), by: "staff")
        #expect(down.next.state == .takenDown && !down.strike, "the notice strikes once")
    }

    @Test func aValidCounterNoticeSchedulesRestorationWithinTenToFourteenBusinessDays() throws {
        let t0 = Timestamp.parse("2026-12-18T15:00:00Z")!
        let removed = try workflow.apply(.customerRemoved(note: nil), to: try confirmed(at: t0), at: t0, by: "c")
        let down = try workflow.apply(.recordTakedown(note: nil), to: removed.next, at: t0, by: "staff")
        var bad = Self.counter
        bad.mistakeUnderPenaltyOfPerjury = false
        #expect(throws: CopyrightRefusal.self) { try workflow.apply(.counterNotice(bad), to: down.next, at: t0, by: "c") }
        let countered = try workflow.apply(.counterNotice(Self.counter), to: down.next, at: t0, by: "c")
        // Already down: a second takedown is refused, and the pages offer only what the rule allows.
        #expect(countered.next.refusal(of: .recordTakedown, at: t0) != nil)
        #expect(throws: CopyrightRefusal.self) { try workflow.apply(.recordTakedown(note: nil), to: countered.next, at: t0, by: "s") }
        #expect(countered.next.refusal(of: .reportCourtAction, at: t0) == nil && countered.next.refusal(of: .recordRestoration, at: t0) != nil)
        // Christmas and New Year's Day are not business days (the rulebook's restore-window vectors).
        #expect(countered.next.restoreFrom == Timestamp.parse("2027-01-05T05:00:00Z"))
        #expect(countered.next.restoreBy == Timestamp.parse("2027-01-12T05:00:00Z"))
        #expect(countered.messages.contains { if case .message(.complainant, _, let text) = $0 { text.contains("10 business days") && text.contains("court order") } else { false } })
        #expect(throws: CopyrightRefusal.self) { try workflow.apply(.recordRestoration(note: nil), to: countered.next, at: Timestamp.parse("2027-01-05T04:59:59Z")!, by: "staff") }
        let restored = try workflow.apply(.recordRestoration(note: nil), to: countered.next, at: Timestamp.parse("2027-01-05T05:00:00Z")!, by: "staff")
        #expect(restored.next.state == .restored && restored.withdrawStrike, "a counter-notice that stood takes the strike back")
        // The complainant's court action before the window ends keeps the material down.
        let sued = try workflow.apply(.reportCourtAction(reference: "W.D. Wash. 2:27-cv-00012"), to: countered.next, at: Timestamp.parse("2027-01-04T12:00:00Z")!, by: "jane@roe.example")
        #expect(sued.next.state == .courtAction)
        #expect(throws: CopyrightRefusal.self) { try workflow.apply(.reportCourtAction(reference: "too late 1"), to: countered.next, at: Timestamp.parse("2027-01-12T05:00:00Z")!, by: "x") }
    }

    @Test func strikesCountInsideTheWindowAndTheThresholdOpensSuspension() {
        let policy = RepeatInfringerPolicy(threshold: 3, windowDays: 365)
        let t0 = Timestamp.parse("2026-01-01T00:00:00Z")!
        let day: TimeInterval = 86_400
        let strikes = [t0, t0.addingTimeInterval(100 * day), t0.addingTimeInterval(300 * day)]
        #expect(policy.reachesThreshold(strikes, at: t0.addingTimeInterval(300 * day)))
        #expect(policy.counting(strikes, at: t0.addingTimeInterval(365 * day)).count == 2, "the first strike left the window after 365 days")
        #expect(!policy.reachesThreshold(strikes, at: t0.addingTimeInterval(365 * day)))
        #expect(!policy.reachesThreshold(Array(strikes.prefix(2)), at: t0.addingTimeInterval(300 * day)))
        #expect(!policy.reachesThreshold(strikes, at: t0.addingTimeInterval(200 * day)), "a strike in the future of `at` does not count yet")
        #expect(RepeatInfringerPolicy(threshold: 0).threshold == 1)
    }

    /// Each step counts in the period it happened in, so a period's figures do not move later.
    @Test func theFiguresCountEachStepInThePeriodItHappenedIn() throws {
        let h1 = try ReportPeriod(parsing: "2026-H1")
        let h2 = try ReportPeriod(parsing: "2026-H2")
        let june = Timestamp.parse("2026-06-29T15:00:00Z")!
        let july = Timestamp.parse("2026-07-06T15:00:00Z")!
        let unconfirmed = CopyrightCase(id: UUID(), number: "D-10", text: Self.notice(), receivedAt: june)
        let deficient = try workflow.apply(.confirm(tenantID: Self.tenant, tenantName: "N"), to: CopyrightCase(id: UUID(), number: "D-11", text: Self.notice(perjury: false), receivedAt: june), at: june, by: "x").next
        // Received and confirmed in June, taken down in July, countered and restored later in July.
        let removed = try workflow.apply(.customerRemoved(note: nil), to: try confirmed(at: june), at: june, by: "c").next
        let down = try workflow.apply(.recordTakedown(note: nil), to: removed, at: july, by: "s").next
        let countered = try workflow.apply(.counterNotice(Self.counter), to: down, at: july, by: "c").next
        let restored = try workflow.apply(.recordRestoration(note: nil), to: countered, at: countered.restoreFrom!, by: "s").next
        let strike = CopyrightFigures.Strike(at: july, withdrawnAt: countered.restoreFrom!)
        let june1 = CopyrightFigures(cases: [unconfirmed, deficient, removed], strikes: [], in: h1)
        #expect(june1.received == 3 && june1.valid == 1 && june1.substantiallyCompliant == 1 && june1.takenDown == 0)
        // Later steps do not change the first half-year.
        #expect(CopyrightFigures(cases: [unconfirmed, deficient, restored], strikes: [strike], in: h1) == june1)
        let second = CopyrightFigures(cases: [unconfirmed, deficient, restored], strikes: [strike], suspensions: [.init(openedAt: july, decidedAt: july, terminated: true)], in: h2)
        #expect(second.received == 0 && second.takenDown == 1 && second.counterNotices == 1 && second.restored == 1)
        #expect(second.strikes == 1 && second.strikesWithdrawn == 1 && second.suspensionCases == 1 && second.servicesEnded == 1)
        #expect(second.rows.first! == ("Notices received", 0) && second.rows.count == 14)
    }
}
