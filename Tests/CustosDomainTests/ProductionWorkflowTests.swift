import CustosDomain
import Foundation
import Testing

/// Issue 5's workflow rules: emergency release checks and the follow-up timer (legal-rules.md §6.3
/// E2, E7, E8), preservation terms and renewals (§ 2703(f); Art. 11(1)), and the build effects.
@Suite struct ProductionWorkflowTests {
    let later = Fixture.t0.addingTimeInterval(3600)

    /// A case ready for release with both release approvals.
    func readyForRelease(emergency: Bool) throws -> Case {
        var subject = Fixture.newCase(demand: Fixture.demand(categories: [.subscriberInfo], emergency: emergency))
        subject.state = .readyForRelease
        subject.approvedScope = [.subscriberInfo]
        subject.releaseApprovals = [
            Approval(principalID: Fixture.approver1.id, by: "a1", at: Fixture.t0), Approval(principalID: Fixture.approver2.id, by: "a2", at: Fixture.t0),
        ]
        return subject
    }

    func check(_ name: String, passed: Bool) -> VerificationCheck {
        VerificationCheck(name: name, passed: passed, note: nil, by: "intake", at: Fixture.t0)
    }

    func callback(confirmed: Bool) -> CallbackRecord {
        CallbackRecord(phone: Fixture.switchboard, spokeWith: "Sgt. Miller", confirmed: confirmed, note: nil, by: "intake", at: Fixture.t0)
    }

    /// Issue 8 / legal-rules.md §6.3 E2: a confirmed callback on a directory number, the supervisor's
    /// confirmation and two release approvals; a free-form "callback" check counts for nothing.
    @Test func anEmergencyIsReleasedOnlyAfterADirectoryCallbackAndASupervisorConfirmation() throws {
        var subject = try readyForRelease(emergency: true)
        func refusal() -> String? {
            do {
                _ = try CaseWorkflow.apply(.release, to: subject, at: later, by: Fixture.custodian.actor)
                return nil
            } catch { return error.reason }
        }
        #expect(refusal()?.contains("confirmed callback on a number from the agency directory") == true)
        subject.checks = [check("callback", passed: true), check("supervisor_confirmation", passed: true)]
        #expect(refusal()?.contains("agency directory") == true, "a check named callback is not a directory callback")
        subject.callbacks = [callback(confirmed: true)]
        subject.checks = []
        #expect(refusal()?.contains("supervisor_confirmation") == true)
        // the latest callback counts: one that later failed to confirm does not pass
        subject.checks = [check("supervisor_confirmation", passed: true)]
        subject.callbacks = [callback(confirmed: true), callback(confirmed: false)]
        #expect(refusal()?.contains("agency directory") == true)
        subject.callbacks?.append(callback(confirmed: true))
        #expect(refusal() == nil)
        // two approvals by different people are still needed
        subject.releaseApprovals = Array(subject.releaseApprovals.prefix(1))
        #expect(refusal()?.contains("two release approvals") == true)
        // a non-emergency case needs neither
        #expect(throws: Never.self) { try CaseWorkflow.apply(.release, to: try readyForRelease(emergency: false), at: later, by: Fixture.custodian.actor) }
    }

    /// legal-rules.md §6.3 E6: an emergency's scope stays minimal unless legal on-call escalated it.
    @Test func anEmergencyDisclosesOnlyTheMinimalScopeUnlessEscalated() throws {
        var subject = Fixture.newCase(demand: Fixture.demand(categories: [.subscriberInfo, .identificationData, .content], emergency: true))
        subject.state = .inReview
        func approve(_ categories: [DataCategory]) -> String? {
            do {
                _ = try CaseWorkflow.apply(.approveScope(categories: categories, excuse: nil), to: subject, at: later, by: Fixture.approver1.actor)
                return nil
            } catch { return error.reason }
        }
        #expect(approve([.subscriberInfo, .identificationData]) == nil)
        #expect(approve([.subscriberInfo, .content])?.contains("emergency_scope_escalation") == true)
        subject.checks = [check("emergency_scope_escalation", passed: false)]
        #expect(approve([.subscriberInfo, .content])?.contains("asked for content") == true)
        subject.checks.append(check("emergency_scope_escalation", passed: true))
        #expect(approve([.subscriberInfo, .content]) == nil)
        // Not an emergency: no such limit.
        subject = Fixture.newCase(demand: Fixture.demand(categories: [.subscriberInfo, .content]))
        subject.state = .inReview
        #expect(approve([.subscriberInfo, .content]) == nil)
    }

    /// Staff cannot put a callback on record as a plain check, and a callback names whom they reached.
    @Test func callbacksAreRecordedOnlyWithTheirDirectoryNumber() throws {
        var subject = Fixture.newCase()
        subject.state = .verifying
        #expect(throws: WorkflowRefusal.self) {
            try CaseWorkflow.apply(.recordCheck(name: "Issuer callback", passed: true, note: nil), to: subject, at: later, by: Fixture.intake.actor)
        }
        #expect(throws: WorkflowRefusal.self) {
            try CaseWorkflow.apply(.recordCallback(phone: Fixture.switchboard, spokeWith: " ", confirmed: true, note: nil), to: subject, at: later, by: Fixture.intake.actor)
        }
        let (next, effects) = try CaseWorkflow.apply(
            .recordCallback(phone: Fixture.switchboard, spokeWith: "Sgt. Miller, duty desk", confirmed: false, note: "no such officer"), to: subject, at: later,
            by: Fixture.intake.actor)
        #expect(next.callbacks == [CallbackRecord(phone: Fixture.switchboard, spokeWith: "Sgt. Miller, duty desk", confirmed: false, note: "no such officer", by: Fixture.intake.actor.auditName, at: later)])
        let audit = effects.compactMap { if case .audit(let record) = $0 { record } else { nil } }.first
        #expect(audit?.details["number"] == Fixture.switchboard.number && audit?.details["source"] == Fixture.switchboard.source && audit?.details["confirmed"] == "false")
    }

    @Test func anEmergencyReleaseStartsTheFollowUpTimerAndTheCaseStaysOpenUntilItIsAccountedFor() throws {
        var subject = try readyForRelease(emergency: true)
        subject.checks = [check("supervisor_confirmation", passed: true)]
        subject.callbacks = [callback(confirmed: true)]
        let policy = WorkflowPolicy(emergencyFollowUp: 7 * 86400)
        let (released, effects) = try CaseWorkflow.apply(.release, to: subject, at: later, by: Fixture.custodian.actor, policy: policy)
        let followUp = try #require(released.followUp)
        #expect(followUp.dueAt == later.addingTimeInterval(7 * 86400) && followUp.basis == "policy")
        #expect(effects.contains { if case .audit(let record) = $0 { record.details["followUpDue"] == Timestamp.format(followUp.dueAt) } else { false } })
        #expect(!released.isFollowUpOverdue(at: later) && released.isFollowUpOverdue(at: followUp.dueAt.addingTimeInterval(1)))
        // close waits for the follow-up process
        #expect(throws: WorkflowRefusal.self) { try CaseWorkflow.apply(.close, to: released, at: later, by: Fixture.reviewer.actor) }
        // "it never came" needs a note; "it arrived" needs its reference
        #expect(throws: WorkflowRefusal.self) {
            try CaseWorkflow.apply(.recordFollowUp(received: false, reference: nil, note: " "), to: released, at: later, by: Fixture.reviewer.actor)
        }
        #expect(throws: WorkflowRefusal.self) {
            try CaseWorkflow.apply(.recordFollowUp(received: true, reference: nil, note: nil), to: released, at: later, by: Fixture.reviewer.actor)
        }
        let (recorded, _) = try CaseWorkflow.apply(
            .recordFollowUp(received: true, reference: "Warrant 26-MJ-0042", note: nil), to: released, at: later, by: Fixture.reviewer.actor)
        #expect(recorded.followUp?.received == true && recorded.followUp?.reference == "Warrant 26-MJ-0042" && !recorded.isFollowUpOverdue(at: .distantFuture))
        #expect(throws: WorkflowRefusal.self) {
            try CaseWorkflow.apply(.recordFollowUp(received: true, reference: "again", note: nil), to: recorded, at: later, by: Fixture.reviewer.actor)
        }
        let (closed, _) = try CaseWorkflow.apply(.close, to: recorded, at: later, by: Fixture.reviewer.actor)
        #expect(closed.state == .closed)
    }

    @Test func anUnvalidatedEmergencyEPOCTakesItsFollowUpDateFromArticle4Paragraph5() throws {
        var subject = try readyForRelease(emergency: true)
        subject.checks = [check("supervisor_confirmation", passed: true)]
        subject.callbacks = [callback(confirmed: true)]
        let ruled = AssessedDeadline(
            kind: "ex_post_validation", due: later.addingTimeInterval(48 * 3600), rule: "eu.epoc.ex_post_validation", amount: 48, unit: .hours,
            regime: .eu1182, calendar: "FR", timeZone: "Europe/Paris", local: "", covered: true, fromRequester: false,
            citation: "Reg. (EU) 2023/1543 Art. 4(5)")
        subject.assessment?.deadlines.append(ruled)
        let (released, _) = try CaseWorkflow.apply(.release, to: subject, at: later, by: Fixture.custodian.actor)
        #expect(released.followUp?.dueAt == ruled.due && released.followUp?.basis == "eu.epoc.ex_post_validation")
    }

    func preservationCase() -> Case {
        var demand = Fixture.demand(categories: [.content, .encryptionKeys])
        demand.instrument = .usPreservation2703f
        demand.issuingAuthority = IssuingAuthority(name: "FBI", role: .police)
        var subject = Fixture.newCase(demand: demand)
        subject.state = .inReview
        return subject
    }

    @Test func aPreservationRunsForTheRulebooksTermAndIsRenewedOnceOnly() throws {
        let subject = preservationCase()
        // the bundled rulebook flags a § 2703(f) letter preservation-only and gives 90 days, renewable once by 90
        #expect(subject.isPreservationDemand)
        let deadline = try #require(subject.preservationDeadline)
        #expect(deadline.renewal == DeadlineRenewal(amountDays: 90, times: 1, citation: "18 U.S.C. § 2703(f)(2)"))
        let (preserving, effects) = try CaseWorkflow.apply(.beginPreservation(until: nil), to: subject, at: later, by: Fixture.reviewer.actor)
        #expect(preserving.state == .preserving && preserving.preservedUntil == deadline.due)
        #expect(effects.contains(.buildPackage(caseID: subject.id, purpose: .preservation, requestedBy: Fixture.reviewer.actor.auditName)))
        let (renewed, _) = try CaseWorkflow.apply(.renewPreservation(note: "renewed request"), to: preserving, at: later, by: Fixture.reviewer.actor)
        let days = Calendar(identifier: .gregorian).dateComponents([.day], from: deadline.due, to: try #require(renewed.preservedUntil)).day
        #expect(days == 90 && renewed.preservationRenewals == 1)
        #expect(throws: WorkflowRefusal.self) { try CaseWorkflow.apply(.renewPreservation(note: nil), to: renewed, at: later, by: Fixture.reviewer.actor) }
        // preservation never unlocks disclosure
        var followed = renewed
        followed.state = .inReview
        #expect(throws: WorkflowRefusal.self) {
            try CaseWorkflow.apply(.approveScope(categories: [.content], excuse: nil), to: followed, at: later, by: Fixture.approver1.actor)
        }
    }

    @Test func onlyAPreservationDemandIsPreserved() {
        let subject = Fixture.newCase(demand: Fixture.demand(categories: [.subscriberInfo]))
        var inReview = subject
        inReview.state = .inReview
        #expect(throws: WorkflowRefusal.self) {
            try CaseWorkflow.apply(.beginPreservation(until: later.addingTimeInterval(86400)), to: inReview, at: later, by: Fixture.reviewer.actor)
        }
    }

    @Test func startCollectionQueuesTheProductionBuildAndOnlyTheBuilderFinishesIt() throws {
        var subject = Fixture.newCase(demand: Fixture.demand(categories: [.subscriberInfo]))
        subject.state = .scopeApproved
        subject.approvedScope = [.subscriberInfo]
        let (collecting, effects) = try CaseWorkflow.apply(.startCollection, to: subject, at: later, by: Fixture.custodian.actor)
        #expect(collecting.state == .collecting)
        #expect(effects.contains(.buildPackage(caseID: subject.id, purpose: .production, requestedBy: Fixture.custodian.actor.auditName)))
        // no person can declare a collection finished (and so a case ready for release) without a package
        for person in [Fixture.custodian, Fixture.reviewer, Fixture.approver1] {
            #expect(throws: WorkflowRefusal.self) { try CaseWorkflow.apply(.collectionFinished(recordCount: 3), to: collecting, at: later, by: person.actor) }
        }
        #expect(try CaseWorkflow.apply(.collectionFinished(recordCount: 3), to: collecting, at: later, by: .system).0.state == .readyForRelease)
    }

    @Test func thePreservationSnapshotPlanTakesWhatTheDemandNamesButNeverKeys() throws {
        let subject = preservationCase()
        let demand = Fixture.demand(categories: [.content, .encryptionKeys])
        let plan = try CollectionPlan.preservation(for: subject, demand: demand, accounts: ["acct-1"])
        #expect(plan.categories == [.content] && plan.approved.isEmpty)
        let key = CustomerRecord(account: "acct-1", category: .encryptionKeys, timestamp: Fixture.t0, mediaType: "application/json", bytes: Data())
        #expect(plan.cut(key) == .keyMaterial)
        #expect(throws: PlanError.self) { try CollectionPlan.preservation(for: Fixture.newCase(), demand: demand, accounts: ["acct-1"]) }
    }
}
