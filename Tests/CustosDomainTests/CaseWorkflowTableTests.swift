import CustosDomain
import Foundation
import Testing

/// Every (state × event) pair, checked against the table in Fixtures/transitions.json, which
/// transcribes workflow.md independently of the code.
@Suite struct CaseWorkflowTableTests {
    static let table: [String: [String: String]] = {
        let url = Bundle.module.url(forResource: "transitions", withExtension: "json", subdirectory: "Fixtures")!
        let raw = try! JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        return raw.filter { !$0.key.hasPrefix("_") }.mapValues { $0 as! [String: String] }
    }()

    /// A representative event of each kind whose guards pass on a prepared case, and who sends it.
    static func sample(_ kind: CaseEvent.Kind) -> (CaseEvent, Actor) {
        switch kind {
        case .beginVerification: (.beginVerification, Fixture.intake.actor)
        case .recordCheck: (.recordCheck(name: "document signature", passed: true, note: nil), Fixture.intake.actor)
        case .recordCallback: (.recordCallback(phone: Fixture.switchboard, spokeWith: "Sgt. Miller", confirmed: true, note: nil), Fixture.intake.actor)
        case .verificationPassed: (.verificationPassed, Fixture.intake.actor)
        case .verificationFailed: (.verificationFailed(reason: "forged seal"), Fixture.intake.actor)
        case .beginReview: (.beginReview, Fixture.reviewer.actor)
        case .askAgency: (.askAgency(question: "Narrow the window?"), Fixture.reviewer.actor)
        case .agencyReplied: (.agencyReplied(answer: "Narrowed"), Fixture.officer.actor)
        case .reject: (.reject(reason: "overbroad", ruleIDs: ["us.2703.overbroad"]), Fixture.reviewer.actor)
        case .redirect: (.redirect(note: nil, contacts: Fixture.legalContacts), Fixture.reviewer.actor)
        case .agencyAnswer: (.agencyAnswer(.insist, note: "the customer is the suspect"), Fixture.officer.actor)
        case .fileChallenge: (.fileChallenge(kind: .motionToQuash, court: "W.D. Wash.", grounds: "overbroad", deadline: nil), Fixture.reviewer.actor)
        case .challengeDecided: (.challengeDecided(demandUpheld: true, note: nil), Fixture.reviewer.actor)
        case .beginPreservation: (.beginPreservation(until: Fixture.t0.addingTimeInterval(90 * 86400)), Fixture.reviewer.actor)
        case .preservationEnded: (.preservationEnded(followUpReceived: true), Fixture.reviewer.actor)
        case .approveScope: (.approveScope(categories: [.subscriberInfo], excuse: nil), Fixture.approver1.actor)
        case .startCollection: (.startCollection, Fixture.custodian.actor)
        case .collectionFinished: (.collectionFinished(recordCount: 5), .system)
        case .approveRelease: (.approveRelease, Fixture.approver1.actor)
        case .release: (.release, Fixture.custodian.actor)
        case .withdraw: (.withdraw(reason: nil), Fixture.officer.actor)
        case .close: (.close, Fixture.reviewer.actor)
        case .reassess: (.reassess(Fixture.newCase().assessment!), Fixture.reviewer.actor)
        case .endEmergency: (.endEmergency(note: "person found safe"), Fixture.reviewer.actor)
        case .customerAnswer: (.customerAnswer(.consent, note: nil), Fixture.customer.actor)
        case .dismissObjection: (.dismissObjection(note: "the order is narrow and valid"), Fixture.reviewer.actor)
        case .renewPreservation: (.renewPreservation(note: "renewed request of 3 May"), Fixture.reviewer.actor)
        case .recordFollowUp: (.recordFollowUp(received: true, reference: "Warrant 26-MJ-0042", note: nil), Fixture.reviewer.actor)
        }
    }

    /// An enterprise case (so `redirect` applies) placed in `state` with the facts that state implies.
    static func prepared(in state: CaseState, for kind: CaseEvent.Kind) -> Case {
        var subject = Fixture.newCase(kind: .enterprise)
        subject.state = state
        subject.redirect = .requesterInsisted
        subject.isEmergency = kind == .endEmergency
        if [.scopeApproved, .collecting, .readyForRelease, .released].contains(state) {
            subject.approvedScope = [.subscriberInfo]
        }
        if state == .readyForRelease && kind == .release {
            subject.releaseApprovals = [
                Approval(principalID: Fixture.approver1.id, by: "a1", at: Fixture.t0),
                Approval(principalID: Fixture.approver2.id, by: "a2", at: Fixture.t0),
            ]
        }
        if state == .closed { subject.outcome = .withdrawn }
        if kind == .beginPreservation { subject.isPreservation = true }
        if kind == .renewPreservation {
            subject.isPreservation = true
            subject.preservedUntil = Fixture.t0.addingTimeInterval(90 * 86400)
            subject.assessment?.deadlines.append(AssessedDeadline.preservation(renewal: DeadlineRenewal(amountDays: 90, times: 1, citation: "18 U.S.C. § 2703(f)(2)")))
        }
        if kind == .recordFollowUp { subject.followUp = FollowUpProcess(dueAt: Fixture.t0.addingTimeInterval(86400), basis: "policy") }
        if kind == .dismissObjection {
            subject.customerAnswer = CustomerAnswerRecord(answer: .object, note: "wrong account", by: "customer", at: Fixture.t0)
        }
        return subject
    }

    static let pairs: [(CaseState, CaseEvent.Kind)] = CaseState.allCases.flatMap { state in CaseEvent.Kind.allCases.map { (state, $0) } }

    @Test func tableNamesEveryEvent() {
        #expect(Set(Self.table.keys) == Set(CaseEvent.Kind.allCases.map(\.rawValue)))
    }

    @Test(arguments: pairs)
    func stateEventPair(state: CaseState, kind: CaseEvent.Kind) throws {
        // setup
        let subject = Self.prepared(in: state, for: kind)
        let (event, actor) = Self.sample(kind)
        let expected = Self.table[kind.rawValue]?[state.rawValue]
        // when
        let result = Result(catching: { () throws(WorkflowRefusal) in try CaseWorkflow.apply(event, to: subject, at: Fixture.t0.addingTimeInterval(60), by: actor) })
        // then
        switch (result, expected) {
        case (.success(let (next, effects)), let expected?):
            #expect(next.state.rawValue == expected)
            #expect(next.version == subject.version + 1)
            let audits = effects.filter { if case .audit = $0 { true } else { false } }
            #expect(audits.count == 1, "every accepted event yields exactly one audit entry")
            if case .audit(let record)? = audits.first {
                #expect(record.action == "case.\(kind.rawValue)")
                #expect(record.details["from"] == state.rawValue)
                #expect(record.details["to"] == expected)
            }
        case (.failure(let refusal), nil):
            #expect(!refusal.reason.isEmpty, "every rejection carries a reason")
            if state == .closed { #expect(refusal.code == .caseClosed) } else { #expect(refusal.code == .wrongState) }
        case (.success(let (next, _)), nil):
            Issue.record("\(kind.rawValue) in \(state.rawValue) was accepted (→ \(next.state.rawValue)) but the table refuses it")
        case (.failure(let refusal), let expected?):
            Issue.record("\(kind.rawValue) in \(state.rawValue) was refused (\(refusal.reason)) but the table expects \(expected)")
        }
    }
}

extension Result where Failure == WorkflowRefusal {
    init(catching body: () throws(WorkflowRefusal) -> Success) {
        do { self = .success(try body()) } catch { self = .failure(error) }
    }
}
