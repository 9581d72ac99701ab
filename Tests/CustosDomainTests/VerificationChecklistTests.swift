import CustosDomain
import Foundation
import Testing

/// Issue 8's checklist: each line follows from what the case records, and a callback the agency
/// did not confirm keeps the demand out of review.
@Suite struct VerificationChecklistTests {
    let later = Fixture.t0.addingTimeInterval(3600)

    func status(_ list: VerificationChecklist, _ key: String) -> VerificationChecklist.Status? {
        list.items.first { $0.key == key }?.status
    }

    @Test func aFreshDemandHasItsAutomaticLinesDecidedAndTheManualOnesOpen() {
        var demand = Fixture.demand()
        demand.credential = .secondFactor
        let list = VerificationChecklist(case: Fixture.newCase(demand: demand), demand: demand)
        #expect(list.items.map(\.key) == ["second_factor", "sender_domain", "issuer_competent", "document_signed", "callback"])
        #expect(status(list, "second_factor") == .passed)
        #expect(status(list, "sender_domain") == .passed)
        #expect(status(list, "issuer_competent") == .passed, "a judge's search warrant meets the rulebook's issuer requirement")
        #expect(status(list, "document_signed") == .open && status(list, "callback") == .open)
        #expect(!list.isComplete && list.failed.isEmpty)
    }

    @Test func eachLineFailsOnItsOwnEvidence() {
        var demand = Fixture.demand()
        demand.credential = .passwordOnly
        demand.redFlags = [RedFlag(.lookalikeDomain, "agency-example.com imitates agency.example"), RedFlag(.newRequester, "registered 2 days ago")]
        demand.issuingAuthority = IssuingAuthority(name: "Detective", role: .police)
        var subject = Fixture.newCase(demand: demand)
        subject.checks = [VerificationCheck(name: VerificationChecklist.documentCheck, passed: false, note: "no signature", by: "intake", at: later)]
        subject.callbacks = [CallbackRecord(phone: Fixture.switchboard, spokeWith: "Duty desk", confirmed: false, note: nil, by: "intake", at: later)]
        let list = VerificationChecklist(case: subject, demand: demand)
        #expect(status(list, "second_factor") == .failed)
        #expect(status(list, "sender_domain") == .failed)
        #expect(list.items.first { $0.key == "sender_domain" }?.detail.contains("agency-example.com") == true)
        #expect(list.items.first { $0.key == "sender_domain" }?.detail.contains("registered") == false, "only the address's flags count here")
        #expect(status(list, "issuer_competent") == .failed, "a police officer cannot issue a search warrant")
        #expect(status(list, "document_signed") == .failed && status(list, "callback") == .failed)
        #expect(list.failed.count == 5)
    }

    @Test func anEmergencyAlsoNeedsTheSupervisorAndAllPassedIsComplete() {
        var demand = Fixture.demand(categories: [.subscriberInfo], emergency: true)
        demand.credential = .apiToken
        var subject = Fixture.newCase(demand: demand)
        var list = VerificationChecklist(case: subject, demand: demand)
        #expect(list.items.last?.key == "supervisor_confirmation" && status(list, "supervisor_confirmation") == .open)
        subject.checks = [
            VerificationCheck(name: VerificationChecklist.documentCheck, passed: true, note: nil, by: "intake", at: later),
            VerificationCheck(name: "supervisor_confirmation", passed: true, note: "Lt. Diaz", by: "intake", at: later),
        ]
        subject.callbacks = [CallbackRecord(phone: Fixture.switchboard, spokeWith: "Duty desk", confirmed: true, note: nil, by: "intake", at: later)]
        list = VerificationChecklist(case: subject, demand: demand)
        #expect(list.items.filter { $0.key != "issuer_competent" }.allSatisfy { $0.status == .passed })
        #expect(list.isComplete == (status(list, "issuer_competent") == .passed))
        // Demands from before sign-ins were recorded stay open on that line, never passed.
        demand.credential = nil
        #expect(status(VerificationChecklist(case: subject, demand: demand), "second_factor") == .open)
    }

    @Test func aCallbackTheAgencyDidNotConfirmBlocksPassingVerification() throws {
        var subject = Fixture.newCase()
        subject.state = .verifying
        subject.callbacks = [CallbackRecord(phone: Fixture.switchboard, spokeWith: "Duty desk", confirmed: false, note: "no such case", by: "intake", at: later)]
        #expect(throws: WorkflowRefusal.self) { try CaseWorkflow.apply(.verificationPassed, to: subject, at: later, by: Fixture.intake.actor) }
        // A later confirmed callback (the right officer called back) clears it.
        subject.callbacks?.append(CallbackRecord(phone: Fixture.switchboard, spokeWith: "Sgt. Miller", confirmed: true, note: nil, by: "intake", at: later))
        let (next, _) = try CaseWorkflow.apply(.verificationPassed, to: subject, at: later, by: Fixture.intake.actor)
        #expect(next.state == .inReview)
    }
}
