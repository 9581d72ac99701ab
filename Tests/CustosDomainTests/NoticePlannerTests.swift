import CustosDomain
import Foundation
import Testing

/// C5: every accepted demand either produces a notice or records why it cannot, and bars lift
/// into notices without anyone touching the case.
@Suite struct NoticePlannerTests {
    let later = Fixture.t0.addingTimeInterval(3600)

    func plan(_ demand: Demand, kind: TenantKind = .consumer, unlinked: Bool = false, recipients: [String] = ["alice@example.com"]) -> CustomerNotice {
        var subject = Fixture.newCase(kind: kind, demand: demand)
        if unlinked {
            subject.customer?.isUnlinkedService = true
            subject.assessment = Fixture.rulebook.assess(demand, customer: CustomerFacts(subject.customer), at: Fixture.t0)
        }
        return NoticePlanner.plan(for: subject, recipients: recipients, id: UUID(), at: later)
    }

    @Test func withoutABarTheNoticeIsDueAtOnce() {
        let notice = plan(Fixture.demand())
        #expect(notice.state == .due)
        #expect(notice.recipients == ["alice@example.com"])
        #expect(notice.deliveryID.hasPrefix("notice_"))
    }

    @Test func aDatedGagOrderHoldsTheNoticeUntilItLapsesWithAReminderBefore() throws {
        let order = NonDisclosureOrder(basis: "18 U.S.C. § 2705(b)", until: Timestamp.parseDay("2026-11-04"), isIndefinite: false)
        let notice = plan(Fixture.demand(order: order))
        #expect(notice.state == .held)
        #expect(notice.holdUntil == Timestamp.parse("2026-11-05T00:00:00Z"))
        #expect(notice.reminderAt == Timestamp.parse("2026-10-22T00:00:00Z"), "14 days before the bar lapses")
        #expect(notice.reason.contains("us.2705b.ndo"))
        // the day before it lapses it stays held; at the lapse it is released with the reason recorded
        #expect(NoticePlanner.releaseIfLapsed(notice, emergencyOver: false, at: Timestamp.parse("2026-11-04T23:59:59Z")!) == nil)
        let released = try #require(NoticePlanner.releaseIfLapsed(notice, emergencyOver: false, at: Timestamp.parse("2026-11-05T00:00:00Z")!))
        #expect(released.state == .due)
        #expect(released.reason.contains("lapsed"))
    }

    @Test func anIndefiniteBarHoldsUntilStaffLiftIt() throws {
        let order = NonDisclosureOrder(basis: "18 U.S.C. § 2705(b)", until: nil, isIndefinite: true)
        let notice = plan(Fixture.demand(order: order))
        #expect(notice.isHeldIndefinitely)
        #expect(NoticePlanner.releaseIfLapsed(notice, emergencyOver: true, at: Fixture.t0.addingTimeInterval(10 * 365 * 86400)) == nil)
        let lifted = try #require(NoticePlanner.lift(notice, reason: "order vacated by W.D. Wash. on 2027-01-10", at: later))
        #expect(lifted.state == .due && lifted.reason.contains("vacated"))
        #expect(NoticePlanner.lift(lifted, reason: "again", at: later) == nil, "only a held notice can be lifted")
    }

    @Test func waiverEffortsAreKeptInOrderOnAHeldNoticeOnly() throws {
        let order = NonDisclosureOrder(basis: "18 U.S.C. § 2705(b)", until: nil, isIndefinite: true)
        let held = plan(Fixture.demand(order: order))
        let once = try #require(NoticePlanner.logWaiverEffort(held, note: "Asked AUSA Smith to agree to notice", by: "staff:r@p", at: later))
        let twice = try #require(NoticePlanner.logWaiverEffort(once, note: "Moved to modify the order", by: "staff:r@p", at: later))
        #expect(twice.waiverEfforts?.map(\.note) == ["Asked AUSA Smith to agree to notice", "Moved to modify the order"])
        #expect(NoticePlanner.logWaiverEffort(held, note: "  ", by: "x", at: later) == nil)
        #expect(NoticePlanner.logWaiverEffort(plan(Fixture.demand()), note: "no bar", by: "x", at: later) == nil)
    }

    @Test func unlinkedServicesGetNoNoticeAndTheReasonIsRecorded() {
        let notice = plan(Fixture.demand(), unlinked: true)
        #expect(notice.state == .notPossible)
        #expect(notice.reason.contains("policy.unlinked_service"))
    }

    @Test func noContactOnRecordIsRecordedAsTheReason() {
        let notice = plan(Fixture.demand(), recipients: [])
        #expect(notice.state == .notPossible)
        #expect(notice.reason.contains("no notice contact"))
    }

    @Test func anEmergencyHoldsTheNoticeUntilItIsMarkedOver() throws {
        var demand = Fixture.demand(categories: [.subscriberInfo], emergency: true)
        demand.instrument = .usEmergency2702
        demand.issuingAuthority = IssuingAuthority(name: "Seattle PD", role: .police)
        let notice = plan(demand)
        #expect(notice.state == .held && notice.waitsForEmergencyEnd)
        #expect(NoticePlanner.releaseIfLapsed(notice, emergencyOver: false, at: later) == nil)
        let released = try #require(NoticePlanner.releaseIfLapsed(notice, emergencyOver: true, at: later))
        #expect(released.state == .due && released.reason.contains("emergency"))
    }

    @Test func aCaseWithoutCustomerOrAssessmentIsNeverNotifiedBlindly() {
        var subject = Fixture.newCase(demand: Fixture.demand())
        subject.customer = nil
        #expect(NoticePlanner.plan(for: subject, recipients: ["x@example.com"], id: UUID(), at: later).state == .notPossible)
        var unassessed = Fixture.newCase(demand: Fixture.demand())
        unassessed.assessment = nil
        #expect(NoticePlanner.plan(for: unassessed, recipients: ["x@example.com"], id: UUID(), at: later).state == .held)
    }
}

/// Where a tenant's notices may be posted: never across a network in clear, never with credentials in the URL.
@Suite struct TenantWebhookTests {
    @Test(arguments: [
        ("https://hooks.customer.example/custos", true),
        ("http://127.0.0.1:8088/hook", true),
        ("http://localhost/hook", true),
        ("http://hooks.customer.example/custos", false),
        ("https://user:pw@hooks.customer.example/", false),
        ("ftp://hooks.customer.example/", false),
        ("/relative/path", false),
        ("not a url", false),
    ])
    func onlyHTTPSOrLocalhostIsAccepted(url: String, ok: Bool) {
        #expect((TenantWebhook.problem(with: url) == nil) == ok)
    }

    @Test func anEnterpriseWithoutAContactButWithItsOwnWebhookStillGetsItsNotice() {
        var subject = Fixture.newCase(kind: .enterprise)
        subject.state = .inReview
        let withHook = NoticePlanner.plan(for: subject, recipients: [], tenantEndpoint: "https://hooks.example/c", id: UUID(), at: Fixture.t0)
        #expect(withHook.state == .due && withHook.bar == NoticeBarKind.none)
        let without = NoticePlanner.plan(for: subject, recipients: [], id: UUID(), at: Fixture.t0)
        #expect(without.state == .notPossible)
    }
}
