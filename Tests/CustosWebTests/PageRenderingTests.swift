import CustosDomain
import CustosWeb
import Foundation
import Testing

/// Pages rendered from plain view models, without a server or database.
@Suite struct PageRenderingTests {
    static let t0 = Timestamp.parse("2026-05-04T09:00:00Z")!
    static let viewer = Viewer(name: "Rae", email: "r@p.example", kindLabel: "staff", roles: "reviewer", logoutPath: "/staff/logout", homePath: "/staff/queue")

    static func demand(reference: String = "2:26-mj-00412") -> Demand {
        Demand(
            id: UUID(), agencyID: UUID(), submittedBy: UUID(), instrument: .usSearchWarrant, jurisdiction: Jurisdiction(country: "US", subdivision: "US-WA"),
            issuingAuthority: IssuingAuthority(name: "U.S. District Court", role: .judge), caseReference: reference, receivedAt: t0,
            targets: [Target(type: .email, value: "alice@example.com")], categories: [.subscriberInfo, .content],
            nonDisclosureOrder: NonDisclosureOrder(basis: "18 U.S.C. § 2705(b)", until: Timestamp.parseDay("2027-05-04"), isIndefinite: false),
            documents: [DemandDocument(id: UUID(), filename: "warrant.pdf", mediaType: "application/pdf", byteCount: 10, sha256: String(repeating: "ab", count: 32))])
    }

    static func openCase(_ demand: Demand, emergency: Bool = false) -> Case {
        var value = Case(id: UUID(), number: "C-2026-00007", demand: demand, customer: CustomerLink(tenantID: UUID(), tenantName: "Northwind", kind: .enterprise, isUnlinkedService: false), openedAt: t0, dueAt: t0.addingTimeInterval(86400))
        value.isEmergency = emergency
        return value
    }

    @Test func casePageShowsFactsDocumentsTimelineAndOnlyTheGivenActions() async throws {
        // setup
        let renderer = try await PageRenderer()
        let demand = Self.demand()
        let value = Self.openCase(demand, emergency: true)
        let entry = try AuditChain.append(AuditRecord(caseID: value.id, subject: "case", action: "case.opened", actor: "agency:o@a.example", at: Self.t0), after: nil)
        // when
        let html = try renderer.render(Page(
            template: "case", title: "Case", viewer: Self.viewer, csrfToken: "tok123",
            model: CaseModel(value, demand: demand, timeline: [entry], actions: [.beginReview], now: Self.t0)))
        // then
        #expect(html.contains("Case C-2026-00007"))
        #expect(html.contains("emergency"))
        #expect(html.contains("Northwind (enterprise)"))
        #expect(html.contains("18 U.S.C. § 2705(b), until 2027-05-04"))
        #expect(html.contains("/staff/documents/\(demand.documents[0].id.uuidString.lowercased())"))
        #expect(html.contains("case.opened"))
        #expect(html.contains(#"value="begin_review""#))
        #expect(html.contains(#"name="_csrf" value="tok123""#))
        #expect(!html.contains("approve_scope"))
        #expect(!html.contains(#"class="badge"></span>"#), "an open case shows no empty outcome badge")
        #expect(!html.contains("<script"), "pages work without JavaScript")
    }

    @Test func assessmentSectionShowsVerdictsDeadlinesAndOffersOnlyApprovableCategories() async throws {
        // setup: a subpoena for subscriber information and content, assessed by the bundled rulebook
        let renderer = try await PageRenderer()
        var demand = Self.demand()
        demand.instrument = .usSubpoena
        demand.issuingAuthority = IssuingAuthority(name: "Grand jury", role: .prosecutor)
        var value = Self.openCase(demand)
        value.assessment = try Rulebook.bundled().assess(demand, customer: CustomerFacts(kind: .enterprise, nationality: "US"), at: Self.t0)
        value.state = .inReview
        // when: rendered two weeks later, under a newer rulebook
        let html = try renderer.render(Page(
            template: "case", title: "Case", viewer: Self.viewer, csrfToken: "t",
            model: CaseModel(value, demand: demand, timeline: [], actions: [.approveScope], now: Self.t0.addingTimeInterval(14 * 86400), rulebookInForce: "2027.01")))
        // then
        #expect(html.contains(#"<tr data-category="content"><td>Content</td><td><span class="verdict denied">denied</span>"#))
        #expect(html.contains("us.subpoena.content"))
        #expect(html.contains("redirect_first"))
        #expect(html.contains("overdue by"), "the 10-day production deadline has passed")
        #expect(html.contains(#"id="stale""#) && html.contains("Rulebook 2027.01 is now in force"))
        #expect(html.contains(#"name="categories[]" value="subscriber_info""#))
        #expect(!html.contains(#"name="categories[]" value="content""#), "denied categories are not offered for approval")
    }

    @Test func caseWithoutAnAssessmentSaysSo() async throws {
        let renderer = try await PageRenderer()
        let demand = Self.demand()
        let html = try renderer.render(Page(template: "case", title: "Case", viewer: Self.viewer, csrfToken: "t", model: CaseModel(Self.openCase(demand), demand: demand, timeline: [], actions: [], now: Self.t0)))
        #expect(html.contains("no rulebook assessment yet"))
        #expect(!html.contains(#"id="verdicts""#))
    }

    @Test func caseWithoutActionsHasNoActionsSection() async throws {
        let renderer = try await PageRenderer()
        let demand = Self.demand()
        let html = try renderer.render(Page(template: "case", title: "Case", viewer: Self.viewer, csrfToken: "t", model: CaseModel(Self.openCase(demand), demand: demand, timeline: [], actions: [], now: Self.t0)))
        #expect(!html.contains(#"id="actions""#))
    }

    @Test func hostileTextIsEscaped() async throws {
        let renderer = try await PageRenderer()
        let demand = Self.demand(reference: "<script>alert(1)</script>")
        let row = CaseRowModel(Self.openCase(demand), reference: demand.caseReference, now: Self.t0)
        let html = try renderer.render(Page(template: "agency_demands", title: "Demands", viewer: Self.viewer, csrfToken: "t", model: AgencyDemandsModel(agencyName: "A & B", rows: [row])))
        #expect(!html.contains("<script>alert(1)</script>"))
        #expect(html.contains("&lt;script&gt;"))
        #expect(html.contains("A &amp; B"))
    }

    @Test func queueMarksOverdueAndEmptyStates() async throws {
        let renderer = try await PageRenderer()
        let late = CaseRowModel(Self.openCase(Self.demand()), now: Self.t0.addingTimeInterval(2 * 86400))
        #expect(late.isOverdue)
        let full = try renderer.render(Page(template: "queue", title: "Queue", viewer: Self.viewer, csrfToken: "t", model: QueueModel(rows: [late], states: [], instruments: [], country: "")))
        #expect(full.contains("overdue"))
        #expect(full.contains(#"data-case="C-2026-00007""#))
        let empty = try renderer.render(Page(template: "queue", title: "Queue", viewer: Self.viewer, csrfToken: "t", model: QueueModel(rows: [], states: [], instruments: [], country: "")))
        #expect(empty.contains("No cases match."))
        #expect(!empty.contains(#"id="queue""#))
    }

    /// legal-rules.md §6.3 E8: a released emergency whose follow-up legal process is overdue is
    /// counted and filtered in the queue, and its case page shows the date in red.
    @Test func queueAndCasePageFlagAnOverdueFollowUpProcess() async throws {
        let renderer = try await PageRenderer()
        var released = Self.openCase(Self.demand(reference: "E-1"), emergency: true)
        released.number = "C-2026-00201"
        released.state = .released
        released.followUp = FollowUpProcess(dueAt: Self.t0.addingTimeInterval(2 * 86400), basis: "policy")
        let plain = Self.openCase(Self.demand(reference: "P-1"))
        let before = Self.t0.addingTimeInterval(86400), after = Self.t0.addingTimeInterval(3 * 86400)
        #expect(!CaseRowModel(released, now: before).followUpOverdue)
        let rows = [CaseRowModel(released, now: after), CaseRowModel(plain, now: after)]
        let all = try renderer.render(Page(template: "queue", title: "Queue", viewer: Self.viewer, csrfToken: "t", model: QueueModel(rows: rows, states: [], instruments: [], country: "")))
        #expect(all.contains(#"id="follow-up-overdue-count""#) && all.contains("follow-up process overdue"))
        let filtered = QueueModel(rows: rows, states: [], instruments: [], country: "", attention: .followUpOverdue)
        #expect(filtered.rows.map(\.number) == ["C-2026-00201"])
        let terms = try #require(CaseTermsModel(released, now: after))
        #expect(terms.followUpOverdue && terms.followUpDue == Timestamp.format(released.followUp!.dueAt))
        released.followUp?.resolvedAt = after
        released.followUp?.received = true
        released.followUp?.reference = "26-MJ-0042"
        #expect(CaseTermsModel(released, now: after)?.followUpOutcome?.contains("26-MJ-0042") == true)
        #expect(!CaseRowModel(released, now: after).followUpOverdue)
    }

    /// C4/C8: the queue counts and filters cases that need attention: an unanswered redirect past
    /// its date, and a customer objection no reviewer has dealt with.
    @Test func queueFlagsOverdueRedirectsAndObjectionsAndFiltersOnThem() async throws {
        let renderer = try await PageRenderer()
        var redirected = Self.openCase(Self.demand(reference: "R-1"))
        redirected.number = "C-2026-00101"
        redirected.state = .redirectPending
        redirected.redirectAnswerDueAt = Self.t0.addingTimeInterval(10 * 86400)
        var objected = Self.openCase(Self.demand(reference: "O-1"))
        objected.number = "C-2026-00102"
        objected.state = .inReview
        objected.customerAnswer = CustomerAnswerRecord(answer: .object, note: "wrong account", by: "customer:x", at: Self.t0)
        let later = Self.t0.addingTimeInterval(11 * 86400)
        #expect(!CaseRowModel(redirected, now: Self.t0.addingTimeInterval(9 * 86400)).redirectAnswerOverdue)
        let rows = [CaseRowModel(redirected, now: later), CaseRowModel(objected, now: later)]
        #expect(rows[0].redirectAnswerOverdue && !rows[0].awaitsChallengeReview)
        #expect(rows[1].awaitsChallengeReview && !rows[1].redirectAnswerOverdue)

        let all = try renderer.render(Page(template: "queue", title: "Queue", viewer: Self.viewer, csrfToken: "t", model: QueueModel(rows: rows, states: [], instruments: [], country: "")))
        #expect(all.contains(#"id="challenge-review-count""#) && all.contains(#"id="redirect-overdue-count""#))
        #expect(all.contains("redirect unanswered") && all.contains("customer objected"))
        let objections = try renderer.render(Page(
            template: "queue", title: "Queue", viewer: Self.viewer, csrfToken: "t",
            model: QueueModel(rows: rows, states: [], instruments: [], country: "", attention: .challengeReview)))
        #expect(objections.contains(#"data-case="C-2026-00102""#) && !objections.contains(#"data-case="C-2026-00101""#))
        #expect(objections.contains(#"<option value="challenge_review" selected>"#))

        // once a reviewer dismissed the objection, nothing is flagged
        objected.customerAnswer?.review = ObjectionReview(outcome: .dismissed, note: "valid order", by: "staff:r", at: later)
        #expect(!CaseRowModel(objected, now: later).awaitsChallengeReview)
    }

    /// C8: a challenge is shown as a record: kind, forum, filing, the rulebook's deadline, status and outcome.
    @Test func caseShowsItsChallengeAsARecord() async throws {
        let renderer = try await PageRenderer()
        let demand = Self.demand()
        var value = Self.openCase(demand)
        value.state = .challenged
        value.challenge = Challenge(
            kind: .comityMotion, court: "W.D. Wash.", grounds: "customer is a UK national living in the UK", filedAt: Self.t0,
            deadline: Self.t0.addingTimeInterval(14 * 86400), filedBy: "staff:r@p.example")
        func page(_ subject: Case) throws -> String {
            try renderer.render(Page(
                template: "case", title: "Case", viewer: Self.viewer, csrfToken: "t",
                model: CaseModel(subject, demand: demand, timeline: [], actions: [], now: Self.t0.addingTimeInterval(86400))))
        }
        let pending = try page(value)
        #expect(pending.contains("§ 2703(h) comity motion before W.D. Wash."))
        #expect(pending.contains("2026-05-18T09:00:00.000Z"))
        #expect(pending.contains("pending: the data is preserved and nothing is produced"))
        value.challenge?.decidedAt = Self.t0.addingTimeInterval(20 * 86400)
        value.challenge?.demandUpheld = false
        value.challenge?.decisionNote = "order quashed for comity"
        let decided = try page(value)
        #expect(decided.contains("demand set aside (order quashed for comity)"))
        #expect(!decided.contains("pending: the data"))
    }
}
