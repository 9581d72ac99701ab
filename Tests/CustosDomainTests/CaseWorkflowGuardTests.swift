import CustosDomain
import Foundation
import Testing

@Suite struct CaseWorkflowGuardTests {
    let later = Fixture.t0.addingTimeInterval(3600)

    func inReview(_ kind: TenantKind = .consumer, demand: Demand = Fixture.demand()) -> Case {
        var subject = Fixture.newCase(kind: kind, demand: demand)
        subject.state = .inReview
        return subject
    }

    func refusal(_ event: CaseEvent, _ subject: Case, by actor: Actor) -> WorkflowRefusal? {
        do {
            _ = try CaseWorkflow.apply(event, to: subject, at: later, by: actor)
            return nil
        } catch { return error }
    }

    @Test func scopeNeedsTwoDifferentApprovers() throws {
        // setup
        let scope = CaseEvent.approveScope(categories: [.subscriberInfo], excuse: nil)
        // when
        let (first, _) = try CaseWorkflow.apply(scope, to: inReview(), at: later, by: Fixture.approver1.actor)
        // then
        #expect(first.state == .inReview)
        #expect(refusal(scope, first, by: Fixture.approver1.actor)?.code == .guardFailed)
        let (second, _) = try CaseWorkflow.apply(scope, to: first, at: later, by: Fixture.approver2.actor)
        #expect(second.state == .scopeApproved)
        #expect(second.approvedScope == [.subscriberInfo])
    }

    @Test func secondApprovalMustApproveTheSameScope() throws {
        let (first, _) = try CaseWorkflow.apply(.approveScope(categories: [.subscriberInfo], excuse: nil), to: inReview(), at: later, by: Fixture.approver1.actor)
        let refused = refusal(.approveScope(categories: [.subscriberInfo, .content], excuse: nil), first, by: Fixture.approver2.actor)
        #expect(refused?.code == .guardFailed)
    }

    @Test func encryptionKeysCanNeverBeApproved() {
        let subject = inReview(demand: Fixture.demand(categories: [.subscriberInfo, .encryptionKeys]))
        let refused = refusal(.approveScope(categories: [.encryptionKeys], excuse: nil), subject, by: Fixture.approver1.actor)
        #expect(refused?.code == .guardFailed)
        #expect(refused?.reason.contains("C9") == true)
    }

    @Test func scopeCannotExceedWhatWasRequested() {
        let subject = inReview(demand: Fixture.demand(categories: [.subscriberInfo]))
        #expect(refusal(.approveScope(categories: [.content], excuse: nil), subject, by: Fixture.approver1.actor)?.code == .guardFailed)
    }

    @Test func enterpriseNeedsRedirectOrRecordedExcuse() throws {
        let plain = inReview(.enterprise)
        #expect(refusal(.approveScope(categories: [.subscriberInfo], excuse: nil), plain, by: Fixture.approver1.actor)?.reason.contains("C4") == true)
        // An excuse that does not apply is refused too.
        #expect(refusal(.approveScope(categories: [.subscriberInfo], excuse: .nonDisclosureOrder), plain, by: Fixture.approver1.actor) != nil)
        // A gag order is a recorded excuse.
        let gagged = inReview(.enterprise, demand: Fixture.demand(order: NonDisclosureOrder(basis: "18 U.S.C. § 2705(b)", until: nil, isIndefinite: true)))
        let (approved, _) = try CaseWorkflow.apply(.approveScope(categories: [.subscriberInfo], excuse: .nonDisclosureOrder), to: gagged, at: later, by: Fixture.approver1.actor)
        #expect(approved.redirectExcuse == .nonDisclosureOrder)
        // After the requester insists, the redirect attempt is on record.
        let (redirected, _) = try CaseWorkflow.apply(.redirect(note: nil, contacts: Fixture.legalContacts), to: plain, at: later, by: Fixture.reviewer.actor)
        #expect(refusal(.agencyAnswer(.insist, note: " "), redirected, by: Fixture.officer.actor)?.code == .guardFailed, "insisting needs a reason")
        let (insisted, _) = try CaseWorkflow.apply(.agencyAnswer(.insist, note: "contacting the customer would alert the suspect"), to: redirected, at: later, by: Fixture.officer.actor)
        #expect(insisted.state == .inReview)
        #expect(refusal(.approveScope(categories: [.subscriberInfo], excuse: nil), insisted, by: Fixture.approver1.actor) == nil)
    }

    @Test func redirectAppliesToEnterpriseTenantsOnly() {
        #expect(refusal(.redirect(note: nil, contacts: Fixture.legalContacts), inReview(.consumer), by: Fixture.reviewer.actor)?.code == .guardFailed)
    }

    @Test func releaseNeedsTwoReleaseApprovalsByDifferentPeople() throws {
        var subject = inReview()
        subject.state = .readyForRelease
        subject.approvedScope = [.subscriberInfo]
        #expect(refusal(.release, subject, by: Fixture.custodian.actor)?.code == .guardFailed)
        let (once, _) = try CaseWorkflow.apply(.approveRelease, to: subject, at: later, by: Fixture.approver1.actor)
        #expect(refusal(.approveRelease, once, by: Fixture.approver1.actor)?.code == .guardFailed)
        #expect(refusal(.release, once, by: Fixture.custodian.actor)?.code == .guardFailed)
        let (twice, _) = try CaseWorkflow.apply(.approveRelease, to: once, at: later, by: Fixture.approver2.actor)
        let (released, effects) = try CaseWorkflow.apply(.release, to: twice, at: later, by: Fixture.custodian.actor)
        #expect(released.state == .released && released.releasedAt == later && twice.releasedAt == nil)
        #expect(effects.contains { if case .notifyAgency = $0 { true } else { false } })
        let (closed, _) = try CaseWorkflow.apply(.close, to: released, at: later, by: Fixture.reviewer.actor)
        #expect(closed.outcome == .nonContent)
    }

    @Test func closedCaseAcceptsNoEventFromAnyone() throws {
        let (closed, _) = try CaseWorkflow.apply(.withdraw(reason: nil), to: inReview(), at: later, by: Fixture.officer.actor)
        #expect(closed.outcome == .withdrawn)
        for kind in CaseEvent.Kind.allCases {
            let (event, actor) = CaseWorkflowTableTests.sample(kind)
            #expect(refusal(event, closed, by: actor)?.code == .caseClosed)
        }
        #expect(CaseWorkflow.availableEvents(on: closed, for: Fixture.reviewer.actor).isEmpty)
    }

    @Test func rolesAreDeniedByDefault() {
        let subject = Fixture.newCase()
        #expect(refusal(.beginReview, subject, by: Fixture.auditor.actor)?.code == .notPermitted)
        #expect(refusal(.beginReview, subject, by: Fixture.admin.actor)?.code == .notPermitted)
        #expect(refusal(.beginReview, subject, by: Fixture.intake.actor)?.code == .notPermitted)
        #expect(refusal(.withdraw(reason: nil), subject, by: Fixture.otherOfficer.actor)?.code == .notPermitted)
        #expect(refusal(.approveScope(categories: [.subscriberInfo], excuse: nil), inReview(), by: .system)?.code == .notPermitted)
        #expect(CaseWorkflow.availableEvents(on: subject, for: Fixture.auditor.actor).isEmpty)
    }

    @Test func rejectionNeedsReasonAndRules() {
        #expect(refusal(.reject(reason: "", ruleIDs: ["r"]), inReview(), by: Fixture.reviewer.actor)?.code == .guardFailed)
        #expect(refusal(.reject(reason: "overbroad", ruleIDs: []), inReview(), by: Fixture.reviewer.actor)?.code == .guardFailed)
    }

    @Test func collectionWithoutDataClosesAsNoData() throws {
        var subject = inReview()
        subject.state = .collecting
        subject.approvedScope = [.subscriberInfo]
        let (next, _) = try CaseWorkflow.apply(.collectionFinished(recordCount: 0), to: subject, at: later, by: .system)
        #expect(next.outcome == .noData)
    }

    @Test func queueSortsEmergenciesFirstThenByDueDate() {
        var late = Fixture.newCase(); late.dueAt = Fixture.t0.addingTimeInterval(900)
        var soon = Fixture.newCase(); soon.dueAt = Fixture.t0.addingTimeInterval(100)
        var urgent = Fixture.newCase(); urgent.isEmergency = true; urgent.dueAt = Fixture.t0.addingTimeInterval(5000)
        #expect(CaseQueue.sorted([late, soon, urgent]).map(\.id) == [urgent.id, soon.id, late.id])
    }
}

@Suite struct CaseIntakeTests {
    @Test func requestForKeyMaterialIsRecordedAtIntake() {
        // C9: a demand for encryption keys is logged so its refusal can be counted.
        let demand = Fixture.demand(categories: [.subscriberInfo, .encryptionKeys])
        let (_, effects) = CaseIntake.open(demand, customer: nil, assessment: nil, caseID: UUID(), number: "C-2026-00001", at: Fixture.t0, by: Fixture.officer.actor)
        let received = effects.compactMap { effect -> AuditRecord? in
            if case .audit(let record) = effect, record.action == "demand.received" { return record }
            return nil
        }
        #expect(received.first?.details["encryptionKeysRequested"] == "true")
        let (_, plain) = CaseIntake.open(Fixture.demand(), customer: nil, assessment: nil, caseID: UUID(), number: "C-2026-00002", at: Fixture.t0, by: Fixture.officer.actor)
        #expect(!plain.contains { if case .audit(let record) = $0 { record.details["encryptionKeysRequested"] != nil } else { false } })
    }

    @Test func provisionalDueDateFollowsTheRequesterThenEmergencyThenTenDays() {
        var demand = Fixture.demand()
        #expect(CaseIntake.provisionalDueDate(for: demand) == Fixture.t0.addingTimeInterval(10 * 86400))
        demand.isEmergency = true
        #expect(CaseIntake.provisionalDueDate(for: demand) == Fixture.t0.addingTimeInterval(86400))
        demand.responseDueAt = Fixture.t0.addingTimeInterval(3600)
        #expect(CaseIntake.provisionalDueDate(for: demand) == Fixture.t0.addingTimeInterval(3600))
    }
}

/// Issue 3: nothing can approve what the assessment denies.
@Suite struct AssessmentGuardTests {
    let later = Fixture.t0.addingTimeInterval(3600)

    func inReview(_ demand: Demand) -> Case {
        var subject = Fixture.newCase(demand: demand)
        subject.state = .inReview
        return subject
    }

    func subpoena(_ categories: [DataCategory]) -> Demand {
        var demand = Fixture.demand(categories: categories)
        demand.instrument = .usSubpoena
        demand.issuingAuthority = IssuingAuthority(name: "Grand jury", role: .prosecutor)
        return demand
    }

    @Test func approvalOfADeniedCategoryIsRefusedNamingTheRule() throws {
        let subject = inReview(subpoena([.subscriberInfo, .content]))
        #expect(subject.assessment?.verdict(for: .content) == .denied)
        do {
            _ = try CaseWorkflow.apply(.approveScope(categories: [.subscriberInfo, .content], excuse: nil), to: subject, at: later, by: Fixture.approver1.actor)
            Issue.record("a scope with denied content was approved")
        } catch {
            #expect(error.code == .guardFailed)
            #expect(error.reason.contains("us.subpoena.content"))
        }
        // The allowed part alone passes.
        let (approved, _) = try CaseWorkflow.apply(.approveScope(categories: [.subscriberInfo], excuse: nil), to: subject, at: later, by: Fixture.approver1.actor)
        #expect(approved.scopeApprovals.count == 1)
    }

    @Test func aSecrecyBarInTheInstrumentExcusesTheRedirect() throws {
        // An NSL to an enterprise tenant: the certification bars notice, so the customer cannot be approached.
        var demand = Fixture.demand(categories: [.subscriberInfo])
        demand.instrument = .usNSL
        demand.issuingAuthority = IssuingAuthority(name: "FBI SAC Seattle", role: .nationalSecurity)
        var subject = Fixture.newCase(kind: .enterprise, demand: demand)
        subject.state = .inReview
        #expect(subject.hasNonDisclosureOrder == false)
        #expect(subject.assessment?.notice.status == .barredIndefinitely)
        let (approved, _) = try CaseWorkflow.apply(.approveScope(categories: [.subscriberInfo], excuse: .nonDisclosureOrder), to: subject, at: later, by: Fixture.approver1.actor)
        #expect(approved.redirectExcuse == .nonDisclosureOrder)
        // A plain subpoena to an enterprise tenant has no such bar: the excuse is refused.
        var plain = Fixture.newCase(kind: .enterprise, demand: subpoena([.subscriberInfo]))
        plain.state = .inReview
        #expect(throws: WorkflowRefusal.self) {
            try CaseWorkflow.apply(.approveScope(categories: [.subscriberInfo], excuse: .nonDisclosureOrder), to: plain, at: later, by: Fixture.approver1.actor)
        }
    }

    @Test func preserveOnlyIsNotApprovable() {
        var demand = Fixture.demand(categories: [.nonContent])
        demand.instrument = .usPreservation2703f
        demand.issuingAuthority = IssuingAuthority(name: "FBI", role: .police)
        let subject = inReview(demand)
        #expect(subject.assessment?.verdict(for: .nonContent) == .preserveOnly)
        #expect(throws: WorkflowRefusal.self) {
            try CaseWorkflow.apply(.approveScope(categories: [.nonContent], excuse: nil), to: subject, at: later, by: Fixture.approver1.actor)
        }
    }

    @Test func aCaseWithoutAssessmentCannotBeApproved() {
        var subject = inReview(Fixture.demand(categories: [.subscriberInfo]))
        subject.assessment = nil
        #expect(throws: WorkflowRefusal.self) {
            try CaseWorkflow.apply(.approveScope(categories: [.subscriberInfo], excuse: nil), to: subject, at: later, by: Fixture.approver1.actor)
        }
    }

    @Test func intakeStoresTheAssessmentAndTakesTheLegalDeadline() {
        let demand = subpoena([.subscriberInfo])
        let subject = Fixture.newCase(demand: demand)
        #expect(subject.assessment?.rulebookVersion == Fixture.rulebook.version)
        // 10 days under Fed. R. Civ. P. 6(a) from Monday 4 May 2026: end of Thursday 14 May, New York time.
        #expect(subject.dueAt == Timestamp.parse("2026-05-15T04:00:00Z"))
    }

    @Test func reassessmentReplacesTheAssessmentAndVoidsAnApprovalItNoLongerCovers() throws {
        let subject = inReview(Fixture.demand(categories: [.subscriberInfo, .content]))
        let (approvedOnce, _) = try CaseWorkflow.apply(.approveScope(categories: [.content], excuse: nil), to: subject, at: later, by: Fixture.approver1.actor)
        // A stricter rulebook now denies content under warrants too (invariant: only compelling instruments).
        var strict = Fixture.rulebook
        strict.version = "strict"
        strict.instruments["us.search_warrant"]?.compelsContent = false
        let demand = Fixture.demand(categories: [.subscriberInfo, .content])
        let reassessed = strict.assess(demand, customer: CustomerFacts(kind: .consumer, nationality: "US"), at: later)
        #expect(reassessed.verdict(for: .content) == .denied)
        let (next, effects) = try CaseWorkflow.apply(.reassess(reassessed), to: approvedOnce, at: later, by: Fixture.reviewer.actor)
        #expect(next.assessment?.rulebookVersion == "strict")
        #expect(next.scopeApprovals.isEmpty)
        guard case .audit(let record)? = effects.first else { Issue.record("no audit entry"); return }
        #expect(record.action == "case.reassess")
        #expect(record.details["rulebookVersion"] == "strict")
        #expect(record.details["approvalsVoided"] == "1")
    }
}

/// The customer's answer in the portal (C2 consent, C8 objection, C4 answering directly).
@Suite struct CustomerAnswerTests {
    let later = Fixture.t0.addingTimeInterval(3600)

    func inReview() -> Case {
        var subject = Fixture.newCase(demand: Fixture.demand())
        subject.state = .inReview
        return subject
    }

    @Test func onlyTheCustomerConcernedMayAnswerAndOnlyOnce() throws {
        #expect(throws: WorkflowRefusal.self) { try CaseWorkflow.apply(.customerAnswer(.consent, note: nil), to: inReview(), at: later, by: Fixture.otherCustomer.actor) }
        #expect(throws: WorkflowRefusal.self) { try CaseWorkflow.apply(.customerAnswer(.consent, note: nil), to: inReview(), at: later, by: Fixture.reviewer.actor) }
        let (consented, effects) = try CaseWorkflow.apply(.customerAnswer(.consent, note: "go ahead"), to: inReview(), at: later, by: Fixture.customer.actor)
        #expect(consented.customerAnswer?.answer == .consent)
        #expect(consented.state == .inReview)
        guard case .audit(let record)? = effects.first else { Issue.record("no audit"); return }
        #expect(record.action == "case.customer_answer" && record.details["answer"] == "consent")
        #expect(throws: WorkflowRefusal.self) { try CaseWorkflow.apply(.customerAnswer(.object, note: "no"), to: consented, at: later, by: Fixture.customer.actor) }
    }

    @Test func anObjectionNeedsItsReasons() throws {
        #expect(throws: WorkflowRefusal.self) { try CaseWorkflow.apply(.customerAnswer(.object, note: "  "), to: inReview(), at: later, by: Fixture.customer.actor) }
        let (objected, _) = try CaseWorkflow.apply(.customerAnswer(.object, note: "The order names the wrong account."), to: inReview(), at: later, by: Fixture.customer.actor)
        #expect(objected.customerAnswer?.answer == .object)
    }

    /// C8: an objection sends the case to challenge review; nothing is approved or released until a
    /// reviewer files a challenge or dismisses the objection with reasons.
    @Test func anObjectionBlocksProductionUntilAReviewerDealsWithIt() throws {
        let document = DemandDocument(id: UUID(), filename: "lease.pdf", mediaType: "application/pdf", byteCount: 4, sha256: String(repeating: "ab", count: 32))
        let (objected, effects) = try CaseWorkflow.apply(
            .customerAnswer(.object, note: "The account was closed before the window.", attachments: [document]), to: inReview(), at: later,
            by: Fixture.customer.actor)
        #expect(objected.awaitsChallengeReview)
        #expect(objected.customerAnswer?.attachments == [document])
        guard case .audit(let record)? = effects.first else { Issue.record("no audit"); return }
        #expect(record.details["attachments"] == "lease.pdf sha256:\(document.sha256)")
        #expect(record.details["challengeReview"] == "required")
        #expect {
            try CaseWorkflow.apply(.approveScope(categories: [.subscriberInfo], excuse: nil), to: objected, at: later, by: Fixture.approver1.actor)
        } throws: { ($0 as? WorkflowRefusal)?.reason.contains("customer objected") == true }
        var ready = objected
        ready.state = .readyForRelease
        ready.approvedScope = [.subscriberInfo]
        #expect(throws: WorkflowRefusal.self) { try CaseWorkflow.apply(.approveRelease, to: ready, at: later, by: Fixture.approver1.actor) }
        // dismissing needs reasons and a reviewer; afterwards approval is judged on its own merits
        #expect(throws: WorkflowRefusal.self) { try CaseWorkflow.apply(.dismissObjection(note: " "), to: objected, at: later, by: Fixture.reviewer.actor) }
        #expect(throws: WorkflowRefusal.self) { try CaseWorkflow.apply(.dismissObjection(note: "valid"), to: objected, at: later, by: Fixture.approver1.actor) }
        let (dismissed, _) = try CaseWorkflow.apply(.dismissObjection(note: "Records show the account open throughout."), to: objected, at: later, by: Fixture.reviewer.actor)
        #expect(!dismissed.awaitsChallengeReview)
        #expect(dismissed.customerAnswer?.review?.outcome == .dismissed)
        #expect(throws: WorkflowRefusal.self) { try CaseWorkflow.apply(.dismissObjection(note: "again"), to: dismissed, at: later, by: Fixture.reviewer.actor) }
        #expect(try CaseWorkflow.apply(.approveScope(categories: [.subscriberInfo], excuse: nil), to: dismissed, at: later, by: Fixture.approver1.actor).0.scopeApprovals.count == 1)
        // filing a challenge also ends the review, and the case preserves without producing
        let (challenged, _) = try CaseWorkflow.apply(
            .fileChallenge(kind: .motionToQuash, court: "W.D. Wash.", grounds: "wrong account", deadline: nil), to: objected, at: later,
            by: Fixture.reviewer.actor)
        #expect(challenged.customerAnswer?.review?.outcome == .challengeFiled)
        #expect(challenged.state == .challenged)
        #expect(!CaseWorkflow.availableEvents(on: challenged, for: Fixture.approver1.actor).contains(.approveScope))
    }

    @Test func onlyAnObjectionCarriesDocuments() {
        let document = DemandDocument(id: UUID(), filename: "a.pdf", mediaType: "application/pdf", byteCount: 1, sha256: "00")
        #expect(throws: WorkflowRefusal.self) {
            try CaseWorkflow.apply(.customerAnswer(.consent, note: nil, attachments: [document]), to: inReview(), at: later, by: Fixture.customer.actor)
        }
    }

    @Test func answeringDirectlyClosesTheCaseAsRedirectedAndTellsTheAgency() throws {
        let (closed, effects) = try CaseWorkflow.apply(.customerAnswer(.answerDirectly, note: nil), to: inReview(), at: later, by: Fixture.customer.actor)
        #expect(closed.state == .closed && closed.outcome == .redirected)
        #expect(effects.contains { if case .notifyAgency = $0 { true } else { false } })
    }
}

/// C4 and C7: the redirect letter names the customer's legal contact, and that disclosure is on record.
@Suite struct RedirectLetterTests {
    @Test func theLetterNamesTheContactAndTheAuditEntryRecordsTheDisclosure() throws {
        var subject = Fixture.newCase(kind: .enterprise)
        subject.state = .inReview
        let at = Fixture.t0.addingTimeInterval(3600)
        let (next, effects) = try CaseWorkflow.apply(.redirect(note: nil, contacts: Fixture.legalContacts), to: subject, at: at, by: Fixture.reviewer.actor)
        #expect(next.state == .redirectPending)
        #expect(next.redirectLetter?.contains("Tenant Legal <legal@tenant.example>") == true)
        #expect(next.redirectAnswerDueAt == at.addingTimeInterval(10 * 86_400))
        guard case .audit(let record)? = effects.first else { Issue.record("no audit entry"); return }
        #expect(record.details["disclosed"] == "customer_contact")
        #expect(record.details["contacts"] == "Tenant Legal <legal@tenant.example>")
        let messages = effects.compactMap { effect -> AgencyMessage? in if case .notifyAgency(let message) = effect { message } else { nil } }
        #expect(messages.first?.body == next.redirectLetter)
    }

    @Test func noRedirectWithoutALegalContactToName() {
        var subject = Fixture.newCase(kind: .enterprise)
        subject.state = .inReview
        #expect(throws: WorkflowRefusal.self) {
            try CaseWorkflow.apply(.redirect(note: nil, contacts: []), to: subject, at: Fixture.t0, by: Fixture.reviewer.actor)
        }
    }
}

/// C8: challenges are records with a kind, a forum and the rulebook's deadline; the case waits.
@Suite struct ChallengeTests {
    @Test func aComityMotionTakesItsFourteenDayDeadlineFromTheRulebook() throws {
        var demand = Fixture.demand(categories: [.content])
        demand.receivedAt = Fixture.t0
        var subject = Fixture.newCase(demand: demand)
        // a UK resident's content: the rulebook opens a § 2703(h) motion, due 14 days after service
        subject.assessment = Fixture.rulebook.assess(demand, customer: CustomerFacts(kind: .consumer, nationality: "GB", residence: "GB", dataLocation: "GB"), at: Fixture.t0)
        subject.state = .inReview
        let (challenged, effects) = try CaseWorkflow.apply(
            .fileChallenge(kind: .comityMotion, court: "W.D. Wash.", grounds: "UK law conflict (QFG)", deadline: nil), to: subject, at: Fixture.t0, by: Fixture.reviewer.actor)
        #expect(challenged.state == .challenged)
        #expect(challenged.challenge?.kind == .comityMotion)
        #expect(challenged.challenge?.deadline == Timestamp.parse("2026-05-19T04:00:00Z"))
        guard case .audit(let record)? = effects.first else { Issue.record("no audit"); return }
        #expect(record.details["kind"] == "comity_motion" && record.details["deadline"] == "2026-05-19T04:00:00.000Z")
        // while it is pending the case preserves but does not produce: no scope approval, no collection
        #expect(throws: WorkflowRefusal.self) { try CaseWorkflow.apply(.approveScope(categories: [.content], excuse: nil), to: challenged, at: Fixture.t0, by: Fixture.approver1.actor) }
        #expect(throws: WorkflowRefusal.self) { try CaseWorkflow.apply(.startCollection, to: challenged, at: Fixture.t0, by: Fixture.custodian.actor) }
    }
}
