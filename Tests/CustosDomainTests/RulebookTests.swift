import CustosDomain
import Foundation
import Testing

@Suite struct RulebookTests {
    let rulebook = try! Rulebook.bundled()

    func demand(_ instrument: LegalInstrument, _ categories: [DataCategory], role: IssuerRole = .judge, country: String = "US") -> Demand {
        Demand(
            id: UUID(), agencyID: UUID(), submittedBy: UUID(), instrument: instrument, jurisdiction: Jurisdiction(country: country),
            issuingAuthority: IssuingAuthority(name: "Issuer", role: role), caseReference: "R", receivedAt: Fixture.t0,
            targets: [Target(type: .email, value: "a@example.com")], categories: categories)
    }

    @Test func theBundledRulebookIsValidCitedAndCoversEveryInstrument() throws {
        #expect(rulebook.validate().isEmpty)
        #expect(!rulebook.version.isEmpty)
        for instrument in LegalInstrument.allCases {
            #expect(rulebook.instruments[instrument.rawValue] != nil, "no instrument entry for \(instrument.rawValue)")
        }
        for rule in rulebook.rules {
            #expect(!rule.citation.isEmpty && !rule.explanation.isEmpty, "rule \(rule.id)")
        }
        // Every instrument except `other` has at least one rule that speaks to it.
        for instrument in LegalInstrument.allCases where instrument != .other {
            #expect(rulebook.rules.contains { $0.instruments.contains(instrument.rawValue) }, "no rule for \(instrument.rawValue)")
        }
    }

    // MARK: Invariants no file can override

    /// A rulebook that breaks both invariants, built in code to bypass the loader's checks.
    var rogue: Rulebook {
        var book = Rulebook(
            version: "rogue", title: "rogue",
            instruments: ["us.subpoena": InstrumentSpec(label: "subpoena", compelsContent: false, citation: "-")],
            rules: [Rule(
                id: "rogue.everything", title: "gives everything", instruments: ["us.subpoena"], jurisdictions: ["*"],
                effects: ["*": .allowed, "encryption_keys": .allowed, "content": .allowed], citation: "none", confidence: .knowledge,
                explanation: "rogue")])
        book.regions = [:]
        return book
    }

    @Test func encryptionKeysAreDeniedEvenWhenARuleAllowsThem() {
        let assessment = rogue.assess(demand(.usSubpoena, [.encryptionKeys]), customer: CustomerFacts(), at: Fixture.t0)
        #expect(assessment.verdict(for: .encryptionKeys) == .denied)
        #expect(assessment.categories[.encryptionKeys]?.rules == [RulebookInvariants.encryptionKeys])
        #expect(assessment.has(.encryptionKeysRequested))
        #expect(assessment.approvableCategories.isEmpty)
    }

    @Test func aBarWithNoEndDateAlwaysRaisesTheChallengeFlag() {
        var book = rogue
        book.rules = [Rule(
            id: "rogue.secret", title: "secret forever", instruments: ["us.subpoena"], jurisdictions: ["*"],
            effects: ["subscriber_info": .allowed], notice: NoticeSpec(bar: .indefinite), citation: "none", confidence: .knowledge,
            explanation: "no flag in the file")]
        let gagged = book.assess(demand(.usSubpoena, [.subscriberInfo]), customer: CustomerFacts(), at: Fixture.t0)
        #expect(gagged.notice.status == .barredIndefinitely)
        #expect(gagged.has(.indefiniteNDOChallenge))
        #expect(gagged.flagDetails.first { $0.flag == .indefiniteNDOChallenge }?.rules == [RulebookInvariants.indefiniteBar, "rogue.secret"])
        book.rules[0].notice = nil
        #expect(!book.assess(demand(.usSubpoena, [.subscriberInfo]), customer: CustomerFacts(), at: Fixture.t0).has(.indefiniteNDOChallenge))
    }

    @Test func contentNeedsAnInstrumentMarkedAsCompellingContent() {
        let assessment = rogue.assess(demand(.usSubpoena, [.content, .nonContent]), customer: CustomerFacts(), at: Fixture.t0)
        #expect(assessment.verdict(for: .content) == .denied)
        #expect(assessment.categories[.content]?.rules.first == RulebookInvariants.contentNeedsCompellingInstrument)
        #expect(assessment.verdict(for: .nonContent) == .allowed)
        #expect(assessment.approvableCategories == [.nonContent])
    }

    @Test func theLoaderRefusesRulesThatTryToBreakAnInvariant() throws {
        let data = try JSONEncoder().encode(rogue)
        #expect(throws: RulebookError.self) { try Rulebook.load(data, source: "rogue.json") }
        let issues = rogue.validate().map(\.description).joined(separator: "\n")
        #expect(issues.contains("encryption_keys can only be denied"))
        #expect(issues.contains("content cannot be allowed for us.subpoena"))
    }

    // MARK: Loading reports problems with their location

    func problems(_ mutate: (inout [String: Any]) -> Void) throws -> [RulebookIssue] {
        let url = Bundle.module.url(forResource: "rulebook-minimal", withExtension: "json", subdirectory: "Fixtures")!
        var object = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        mutate(&object)
        let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
        do {
            _ = try Rulebook.load(data, source: "test.json")
            return []
        } catch {
            return error.issues
        }
    }

    @Test func aMinimalValidFileLoads() throws {
        #expect(try problems { _ in }.isEmpty)
    }

    @Test func unknownCategoryIsReportedWithLineAndPath() throws {
        let issues = try problems { object in
            var rules = object["rules"] as! [[String: Any]]
            rules[0]["effects"] = ["contnt": "allowed"]
            object["rules"] = rules
        }
        #expect(issues.count == 1)
        #expect(issues.first?.location.hasPrefix("line ") == true)
        #expect(issues.first?.location.contains("rules[0] (minimal.subscriber).effects.contnt") == true)
    }

    @Test func everySemanticProblemIsReported() throws {
        let issues = try problems { object in
            object["format"] = "custos-rulebook/0"
            var rules = object["rules"] as! [[String: Any]]
            rules.append(rules[0])
            rules[0]["instruments"] = ["us.subpeona"]
            rules[0]["jurisdictions"] = ["Atlantis"]
            rules[0]["citation"] = ""
            rules[0]["effective"] = ["from": "2026-13-01"]
            object["rules"] = rules
            object["calendars"] = ["US": ["timeZone": "America/Nowhere"]]
        }
        let text = issues.map(\.description).joined(separator: "\n")
        #expect(text.contains("format"))
        #expect(text.contains("duplicate id"))
        #expect(text.contains("unknown instrument \"us.subpeona\""))
        #expect(text.contains("\"Atlantis\""))
        #expect(text.contains("every rule must cite its source"))
        #expect(text.contains("effective.from"))
        #expect(text.contains("unknown IANA time zone"))
    }

    @Test func syntaxAndTypeErrorsNameWhereTheyAre() throws {
        do {
            _ = try Rulebook.load(Data("{\"format\": \"custos-rulebook/1\", \"version\": ".utf8), source: "broken.json")
            Issue.record("broken JSON loaded")
        } catch {
            #expect(error.issues.count == 1)
            #expect(error.description.contains("broken.json"))
        }
        let issues = try problems { object in
            var rules = object["rules"] as! [[String: Any]]
            rules[0]["confidence"] = "X"
            object["rules"] = rules
        }
        #expect(issues.first?.location == "rules[0].confidence")
    }

    // MARK: Counting rules (legal-rules.md §9)

    @Test func euHoursStartAtTheNextFullHourEvenOnTheHour() {
        var demand = demand(.euEPOC, [.subscriberInfo], role: .prosecutor, country: "DE")
        demand.isEmergency = true
        demand.receivedAt = Timestamp.parse("2026-09-07T10:00:00Z")!
        let assessment = rulebook.assess(demand, customer: CustomerFacts(kind: .consumer, nationality: "DE"), at: demand.receivedAt)
        #expect(assessment.deadlines.first { $0.kind == "production" }?.due == Timestamp.parse("2026-09-07T19:00:00Z"))
    }

    @Test func deadlinesCarryTheirLocalTimeAndHowTheyWereCounted() throws {
        let assessment = rulebook.assess(demand(.usSearchWarrant, [.content]), customer: CustomerFacts(kind: .consumer, nationality: "US"), at: Fixture.t0)
        let production = try #require(assessment.deadlines.first { $0.kind == "production" })
        #expect(production.local == "2026-05-15T00:00:00-04:00")
        #expect(production.timeZone == "America/New_York")
        #expect(production.regime == .usFRCP)
        #expect(production.covered)
    }

    @Test func refusalNamesTheRuleAndTheVerdict() {
        let assessment = rulebook.assess(demand(.usNSL, [.content, .subscriberInfo], role: .nationalSecurity), customer: CustomerFacts(), at: Fixture.t0)
        let reason = assessment.refusal(for: [.content])
        #expect(reason?.contains("content is denied by rule us.nsl.other") == true)
        #expect(assessment.refusal(for: [.subscriberInfo]) == nil)
        #expect(assessment.refusal(for: [.nonContent])?.contains("not assessed") == true)
    }

    // MARK: DMCA rows (17 U.S.C. § 512)

    @Test func theDMCARowsAreCitedRules() throws {
        let dmca = try #require(rulebook.dmca)
        #expect(Set(dmca.rows.map(\.id)) == ["dmca.takedown", "dmca.counter_notice", "dmca.repeat_infringer"])
        #expect(dmca.noticeElements.count == 6 && dmca.counterNoticeElements.count == 4)
        // § 512(c)(3)(B)(ii): elements (ii)–(iv) are the ones a curable notice must have.
        #expect(Set(dmca.noticeElements.filter { $0.curableWithout == false }.map(\.id)) == ["N-ii", "N-iii", "N-iv"])
    }

    @Test(arguments: [
        // received Monday 16 Nov 2026: Thanksgiving is skipped; 10th business day is Tue 1 Dec, 14th is Mon 7 Dec (New York time)
        ("2026-11-16T15:00:00Z", "2026-12-01T05:00:00Z", "2026-12-08T05:00:00Z"),
        // received Friday 18 Dec 2026: Christmas and New Year's Day are skipped
        ("2026-12-18T15:00:00Z", "2027-01-05T05:00:00Z", "2027-01-12T05:00:00Z"),
    ])
    func counterNoticeRestoreWindowCountsBusinessDays(received: String, earliest: String, latest: String) throws {
        let window = try #require(rulebook.restoreWindow(afterCounterNoticeAt: Timestamp.parse(received)!))
        #expect(window.earliest == Timestamp.parse(earliest))
        #expect(window.latest == Timestamp.parse(latest))
        #expect(window.covered)
    }

    // MARK: The CLI's input format

    @Test func assessmentInputRejectsUnknownFieldsAndBadValues() {
        let input = #"{"demand": {"instrument": "us.subpoena", "jurisdiction": "US", "issuingAuthority": {"name": "GJ", "role": "prosecutor"}, "caseReference": "1", "targets": [{"type": "email", "value": "a@b.c"}], "categories": ["subscriber_info"], "catgories": []}, "custmer": {}, "customer": {"kind": "household", "nationality": "Germany"}, "at": "2026-05-04T09:00:00Z"}"#
        do {
            _ = try AssessmentRequest.parse(Data(input.utf8), now: nil)
            Issue.record("invalid input accepted")
        } catch {
            let fields = Set(error.issues.map(\.field))
            #expect(fields == ["custmer", "demand.catgories", "customer.kind", "customer.nationality"])
        }
        #expect(throws: DemandValidationError.self) { try AssessmentRequest.parse(Data("[1]".utf8), now: nil) }
        #expect(throws: DemandValidationError.self) { try AssessmentRequest.parse(Data("{\"at\": \"2026-05-04T09:00:00Z\"}".utf8), now: nil) }
        do {
            _ = try AssessmentRequest.parse(Data(#"{"demand": {"instrument": "us.subpoena"}}"#.utf8), now: nil)
        } catch {
            #expect(error.issues.contains { $0.field == "at" })
            #expect(error.issues.contains { $0.field == "demand.jurisdiction" })
        }
    }
}
