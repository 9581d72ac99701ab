import CustosDomain
import CustosStorage
import Foundation
import Testing

/// C5 on both databases: notices planned in the case's transaction, bars lifting on schedule,
/// and the leased job queue that delivers them without losing or doubling one. Part of the
/// serialized contract suite, because every test resets the one PostgreSQL schema.
extension StorageContractTests {
    /// Validates, assesses against the bundled rulebook, stores and takes into review, as the server does.
    static func caseInReview(_ draft: DemandDraft, _ world: World) async throws -> Case {
        let accepted = try Demand.validate(
            draft, uploads: [DocumentUpload(filename: "s.pdf", mediaType: "application/pdf", bytes: Data("%PDF".utf8), field: "d")],
            limits: DemandLimits(), agencyID: world.officer.agencyID!, submittedBy: world.officer.id, now: t0, makeID: { UUID() })
        let customer = try await world.directory.resolveCustomer(for: accepted.demand.targets)
        let assessment = try Rulebook.bundled().assess(accepted.demand, customer: CustomerFacts(customer), at: t0)
        let submission = try await world.cases.submit(
            accepted, idempotencyKey: nil, requestHash: draft.caseReference ?? "", customer: customer, assessment: assessment, at: t0, by: world.officer)
        return try await world.cases.apply(.beginReview, toCase: submission.caseRecord.id, at: t0.addingTimeInterval(60), by: world.reviewer.actor)
    }

    /// A subpoena on Alice's account with a gag order until 2026-06-30, in review.
    static func gaggedCaseInReview(_ world: World) async throws -> Case {
        var draft = try JSONDecoder().decode(DemandDraft.self, from: Data("""
            {"instrument": "us.subpoena", "jurisdiction": "US", "issuingAuthority": {"name": "GJ", "role": "prosecutor"},
             "caseReference": "N-1", "receivedAt": "2026-05-04T08:00:00Z", "targets": [{"type": "email", "value": "alice@example.com"}],
             "categories": ["subscriber_info"], "nonDisclosureOrder": {"basis": "18 U.S.C. § 2705(b)", "until": "2026-06-30"}}
            """.utf8))
        draft.documents = nil
        return try await caseInReview(draft, world)
    }

    @Test(arguments: locations)
    func aGaggedNoticeIsHeldRemindedAndReleasedOnScheduleAndQueuedOnce(location: DatabaseLocation) async throws {
        try await Self.withWorld(location) { world in
            let notices = NoticeStore(store: world.database)
            let jobs = SQLJobQueue(store: world.database)
            let subject = try await Self.gaggedCaseInReview(world)
            // held, with the account's address as recipient (a consumer has no separate contacts)
            let held = try #require(try await notices.notice(caseID: subject.id))
            #expect(held.state == .held)
            #expect(held.recipients == ["alice@example.com"])
            #expect(held.holdUntil == Timestamp.parse("2026-07-01T00:00:00Z"))
            #expect(try await jobs.lease(kinds: [NoticeStore.deliveryJob], limit: 10, owner: "a", at: Self.t0, leaseFor: 60).isEmpty)

            // 14 days before the bar lapses staff get one renewal reminder
            #expect(try await notices.remindOfLapsingBars(at: Timestamp.parse("2026-06-16T00:00:00Z")!).isEmpty)
            #expect(try await notices.remindOfLapsingBars(at: Timestamp.parse("2026-06-17T00:00:00Z")!).count == 1)
            #expect(try await notices.remindOfLapsingBars(at: Timestamp.parse("2026-06-18T00:00:00Z")!).isEmpty)

            // the bar lapses: released without anyone touching the case, queued exactly once
            #expect(try await notices.releaseLapsed(at: Timestamp.parse("2026-06-30T23:59:59Z")!).isEmpty)
            let released = try await notices.releaseLapsed(at: Timestamp.parse("2026-07-01T00:00:00Z")!)
            #expect(released.map(\.state) == [.due])
            #expect(try await notices.releaseLapsed(at: Timestamp.parse("2026-07-02T00:00:00Z")!).isEmpty)
            let leased = try await jobs.lease(kinds: [NoticeStore.deliveryJob], limit: 10, owner: "a", at: Timestamp.parse("2026-07-01T00:00:01Z")!, leaseFor: 60)
            #expect(leased.count == 1)
            #expect(leased.first?.dedupeKey == held.deliveryID)

            let actions = try await world.cases.timeline(caseID: subject.id).map(\.record.action)
            #expect(actions.suffix(3) == ["notice.held", "notice.renewal_reminder", "notice.released"])
            try AuditChain.verify(try await world.cases.auditTrail())
        }
    }

    @Test(arguments: locations)
    func aLeaseLostInACrashIsTakenOverAndTheJobCompletesOnce(location: DatabaseLocation) async throws {
        try await Self.withWorld(location) { world in
            let notices = NoticeStore(store: world.database)
            let jobs = SQLJobQueue(store: world.database)
            let subject = try await Self.gaggedCaseInReview(world)
            let held = try #require(try await notices.notice(caseID: subject.id))
            _ = try await notices.lift(noticeID: held.id, reason: "order vacated", at: Self.t0.addingTimeInterval(120), by: world.reviewer.actor)
            let start = Self.t0.addingTimeInterval(200)
            // runner A leases the job, then "dies" before completing it
            let first = try await jobs.lease(kinds: [NoticeStore.deliveryJob], limit: 10, owner: "runner-a", at: start, leaseFor: 60)
            #expect(first.count == 1 && first[0].attempt == 1)
            // while A's lease runs, runner B gets nothing
            #expect(try await jobs.lease(kinds: [NoticeStore.deliveryJob], limit: 10, owner: "runner-b", at: start.addingTimeInterval(30), leaseFor: 60).isEmpty)
            // after it expires, B takes the same job over, with the same delivery id
            let second = try await jobs.lease(kinds: [NoticeStore.deliveryJob], limit: 10, owner: "runner-b", at: start.addingTimeInterval(61), leaseFor: 60)
            #expect(second.map(\.id) == first.map(\.id))
            #expect(second[0].attempt == 2 && second[0].dedupeKey == first[0].dedupeKey)
            // A comes back: its lease is gone, so it cannot complete the job; B can, once
            #expect(try await jobs.complete(first[0].id, owner: "runner-a", at: start.addingTimeInterval(62)) == false)
            #expect(try await jobs.complete(first[0].id, owner: "runner-b", at: start.addingTimeInterval(62)) == true)
            #expect(try await jobs.complete(first[0].id, owner: "runner-b", at: start.addingTimeInterval(63)) == false)
            #expect(try await jobs.lease(kinds: [NoticeStore.deliveryJob], limit: 10, owner: "runner-c", at: start.addingTimeInterval(10_000), leaseFor: 60).isEmpty)
            let actions = try await world.cases.timeline(caseID: subject.id).map(\.record.action)
            #expect(actions.contains("notice.lifted"))
        }
    }

    @Test(arguments: locations)
    func failuresBackOffExponentiallyThenDeadLetterAndStaffCanRetry(location: DatabaseLocation) async throws {
        try await Self.withWorld(location) { world in
            let notices = NoticeStore(store: world.database)
            let jobs = SQLJobQueue(store: world.database)
            let subject = try await Self.gaggedCaseInReview(world)
            let held = try #require(try await notices.notice(caseID: subject.id))
            _ = try await notices.lift(noticeID: held.id, reason: "waiver obtained", at: Self.t0, by: world.reviewer.actor)
            let policy = RetryPolicy(baseDelay: 10, maxDelay: 25, maxAttempts: 3)
            var now = Self.t0.addingTimeInterval(1)
            var delays: [TimeInterval] = []
            for attempt in 1...3 {
                let leased = try await jobs.lease(kinds: [NoticeStore.deliveryJob], limit: 1, owner: "r", at: now, leaseFor: 60)
                #expect(leased.first?.attempt == attempt)
                let status = try await jobs.fail(leased[0].id, owner: "r", error: "connection refused", at: now, policy: policy)
                #expect(status == (attempt < 3 ? .pending : .dead))
                // not due again before its backoff
                #expect(try await jobs.lease(kinds: [NoticeStore.deliveryJob], limit: 1, owner: "r", at: now.addingTimeInterval(1), leaseFor: 60).isEmpty)
                delays.append(policy.delay(after: attempt))
                now = now.addingTimeInterval(policy.delay(after: attempt))
            }
            #expect(delays == [10, 20, 25])
            let dead = try await jobs.jobs(kinds: [NoticeStore.deliveryJob], statuses: [.dead])
            #expect(dead.count == 1 && dead[0].lastError == "connection refused")
            #expect(try await jobs.lease(kinds: [NoticeStore.deliveryJob], limit: 1, owner: "r", at: now.addingTimeInterval(1_000_000), leaseFor: 60).isEmpty)
            #expect(try await jobs.retry(dead[0].id, at: now))
            #expect(try await jobs.lease(kinds: [NoticeStore.deliveryJob], limit: 1, owner: "r", at: now, leaseFor: 60).count == 1)
        }
    }

    @Test(arguments: locations)
    func theEmergencyMarkedOverReleasesTheNotice(location: DatabaseLocation) async throws {
        try await Self.withWorld(location) { world in
            var draft = DemandDraft(
                instrument: "us.emergency_2702", jurisdiction: "US", issuingAuthority: .init(name: "Seattle PD", role: "police"),
                caseReference: "E-1", targets: [.init(type: "email", value: "alice@example.com")], categories: ["subscriber_info"], emergency: true)
            draft.receivedAt = "2026-05-04T08:00:00Z"
            let subject = try await Self.caseInReview(draft, world)
            let notices = NoticeStore(store: world.database)
            #expect(try await notices.notice(caseID: subject.id)?.waitsForEmergencyEnd == true)
            #expect(try await notices.notice(caseID: subject.id)?.state == .held)
            _ = try await world.cases.apply(.endEmergency(note: "found safe"), toCase: subject.id, at: Self.t0.addingTimeInterval(3600), by: world.reviewer.actor)
            #expect(try await notices.notice(caseID: subject.id)?.state == .due)
            #expect(try await SQLJobQueue(store: world.database).lease(kinds: [NoticeStore.deliveryJob], limit: 5, owner: "r", at: Self.t0.addingTimeInterval(3601), leaseFor: 60).count == 1)
        }
    }

    @Test(arguments: locations)
    func anEnterpriseWithoutAContactGetsNoNoticeAndTheReasonIsRecorded(location: DatabaseLocation) async throws {
        try await Self.withWorld(location) { world in
            let tenant = Tenant(id: UUID(), name: "Contactless GmbH", kind: .enterprise, country: "DE", dataLocation: "DE")
            try await world.directory.createTenant(tenant, accounts: [CustomerAccount(id: UUID(), tenantID: tenant.id, accountID: "acct-x", email: "employee@contactless.example")])
            let draft = DemandDraft(
                instrument: "us.subpoena", jurisdiction: "US", issuingAuthority: .init(name: "GJ", role: "prosecutor"), caseReference: "X-1",
                receivedAt: "2026-05-04T08:00:00Z", targets: [.init(type: "email", value: "employee@contactless.example")], categories: ["subscriber_info"])
            let subject = try await Self.caseInReview(draft, world)
            let notice = try #require(try await NoticeStore(store: world.database).notice(caseID: subject.id))
            #expect(notice.state == .notPossible)
            #expect(notice.recipients.isEmpty, "an enterprise's end users are never notified in its place")
            #expect(notice.reason.contains("no notice contact"))
        }
    }
}

extension StorageContractTests {
    /// C8/C12: the kind of bar is counted when the notice is planned and stays counted after the
    /// bar lifts; a customer's objection documents are stored with the accepted answer, or not at all.
    @Test(arguments: locations)
    func barsAreCountedByKindAndSurviveALift(location: DatabaseLocation) async throws {
        try await Self.withWorld(location) { world in
            let notices = NoticeStore(store: world.database)
            let dated = try await Self.gaggedCaseInReview(world)
            var draft = try JSONDecoder().decode(DemandDraft.self, from: Data("""
                {"instrument": "us.subpoena", "jurisdiction": "US", "issuingAuthority": {"name": "GJ", "role": "prosecutor"},
                 "caseReference": "N-2", "receivedAt": "2026-05-04T08:00:00Z", "targets": [{"type": "email", "value": "alice@example.com"}],
                 "categories": ["subscriber_info"], "nonDisclosureOrder": {"basis": "18 U.S.C. § 2705(b)", "indefinite": true}}
                """.utf8))
            draft.documents = nil
            let indefinite = try await Self.caseInReview(draft, world)
            #expect(indefinite.assessment?.has(.indefiniteNDOChallenge) == true)
            let held = try #require(try await notices.notice(caseID: indefinite.id))
            #expect(held.bar == .indefinite && held.isHeldIndefinitely)
            #expect(try await notices.notice(caseID: dated.id)?.bar == .dated)
            _ = try await notices.lift(noticeID: held.id, reason: "order vacated", at: Self.t0.addingTimeInterval(3600), by: world.reviewer.actor)

            let counts = try await notices.barCounts(from: Self.t0.addingTimeInterval(-86_400), to: Self.t0.addingTimeInterval(86_400))
            #expect(counts[.indefinite] == 1, "still counted after the lift")
            #expect(counts[.dated] == 1)
            #expect(try await notices.barCounts(from: Self.t0.addingTimeInterval(86_400), to: Self.t0.addingTimeInterval(2 * 86_400)).isEmpty)
        }
    }

    @Test(arguments: locations)
    func objectionDocumentsAreStoredOnlyWithTheAcceptedAnswer(location: DatabaseLocation) async throws {
        try await Self.withWorld(location) { world in
            let subject = try await Self.gaggedCaseInReview(world)
            let bytes = Data("%PDF-1.4 evidence".utf8)
            let checked = DemandDocument.check(
                [DocumentUpload(filename: "evidence.pdf", mediaType: "application/pdf", bytes: bytes, field: "attachment")], limits: DemandLimits(),
                makeID: { UUID() })
            let customer = Principal(id: UUID(), email: "c@example.com", displayName: "C", kind: .customer, tenantID: subject.customer?.tenantID)
            // refused (no reasons): nothing is stored
            await #expect(throws: WorkflowRefusal.self) {
                try await world.cases.apply(
                    .customerAnswer(.object, note: nil, attachments: checked.documents), toCase: subject.id, at: Self.t0, by: customer.actor,
                    attachmentBytes: checked.bytes)
            }
            #expect(try await world.cases.findAttachment(id: checked.documents[0].id) == nil)
            let objected = try await world.cases.apply(
                .customerAnswer(.object, note: "wrong person", attachments: checked.documents), toCase: subject.id, at: Self.t0, by: customer.actor,
                attachmentBytes: checked.bytes)
            #expect(objected.awaitsChallengeReview)
            let stored = try #require(try await world.cases.findAttachment(id: checked.documents[0].id))
            #expect(stored.caseID == subject.id && stored.bytes == bytes && stored.document.sha256 == checked.documents[0].sha256)
        }
    }
}
