import CustosDomain
import CustosServer
import CustosStorage
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// C5 delivery against a real HTTP receiver that checks Standard Webhooks signatures.
@Suite struct NoticeDeliveryTests {
    static let secret = "whsec_" + Data("custos-test-webhook-secret-32byte".utf8).base64EncodedString()

    /// What the receiver saw: verified deliveries by webhook-id, and rejected ones.
    actor Receiver {
        var deliveries: [String: [Data]] = [:]
        var badSignatures = 0
        var failing: Set<String> = []

        func record(id: String, body: Data) { deliveries[id, default: []].append(body) }
        func rejectSignature() { badSignatures += 1 }
        func fail(_ id: String) { failing.insert(id) }
        func succeed(_ id: String) { failing.remove(id) }
        func shouldFail(_ id: String) -> Bool { failing.contains(id) }
        func count(_ id: String) -> Int { deliveries[id]?.count ?? 0 }
        func first(_ id: String) -> Data? { deliveries[id]?.first }
    }

    /// Runs `body` with a live receiver at `http://127.0.0.1:<port>/hook`.
    static func withReceiver(secret: String = secret, _ body: @escaping @Sendable (String, Receiver) async throws -> Void) async throws {
        let receiver = Receiver()
        let router = Router()
        router.post("/hook") { request, context -> Response in
            let bytes = try await request.body.collect(upTo: 1 << 20)
            let data = Data(buffer: bytes)
            let id = request.headers[HTTPField.Name("webhook-id")!] ?? ""
            let timestamp = Int(request.headers[HTTPField.Name("webhook-timestamp")!] ?? "") ?? 0
            let signature = request.headers[HTTPField.Name("webhook-signature")!] ?? ""
            guard signature == WebhookChannel.signature(id: id, timestamp: timestamp, body: data, secret: secret) else {
                await receiver.rejectSignature()
                return Response(status: .unauthorized)
            }
            if await receiver.shouldFail(id) { return Response(status: .internalServerError) }
            await receiver.record(id: id, body: data)
            return Response(status: .noContent)
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in
            try await body("http://127.0.0.1:\(client.port!)/hook", receiver)
        }
    }

    /// A consumer tenant with one account, a warrant for it, and the case taken into review.
    static func caseInReview(_ client: any TestClientProtocol, _ tokens: ServerTests.Tokens, _ services: CustosServices, reference: String) async throws -> Case {
        let email = "\(reference.lowercased())@example.com"
        let tenant = Tenant(id: UUID(), name: "Tenant \(reference)", kind: .consumer, country: "US", dataLocation: "US")
        try await services.directory.createTenant(tenant, accounts: [CustomerAccount(id: UUID(), tenantID: tenant.id, accountID: "acct-\(reference)", email: email)])
        let body = ServerTests.demandJSON(reference: reference)
            .replacingOccurrences(of: "alice@example.com", with: email)
            .replacingOccurrences(of: #""nonDisclosureOrder": {"basis": "18 U.S.C. § 2705(b)", "until": "2027-05-04"}"#, with: #""preservation": false"#)
        let demandID = try await client.execute(uri: "/api/v1/demands", method: .post, headers: ServerTests.headers(tokens.officer), body: ByteBuffer(string: body)) { response in
            #expect(response.status == .created)
            return try #require(try ServerTests.json(response.body)["id"] as? String)
        }
        let opened = try #require(try await services.cases.findCase(demandID: UUID(uuidString: demandID)!))
        try await client.execute(uri: "/api/v1/cases/\(opened.id.uuidString.lowercased())/events", method: .post, headers: ServerTests.headers(tokens.reviewer), body: ByteBuffer(string: #"{"type": "begin_review"}"#)) { response throws in
            #expect(response.status == .ok)
        }
        return try #require(try await services.cases.findCase(id: opened.id))
    }

    @Test func aDueNoticeIsDeliveredSignedWithACopyOfTheDemandAndMarkedSent() async throws {
        try await Self.withReceiver { url, receiver in
            try await ServerTests.withApp { client, tokens, services in
                let subject = try await Self.caseInReview(client, tokens, services, reference: "W-1")
                let notice = try #require(try await services.notices.notice(caseID: subject.id))
                #expect(notice.state == .due)
                let runner = NoticeRunner(services: services, channel: WebhookChannel(url: url, secret: Self.secret), owner: "t")
                let report = try await runner.tick(at: services.now())
                #expect(report.sent == 1)
                #expect(await receiver.count(notice.deliveryID) == 1)
                let raw = try #require(await receiver.first(notice.deliveryID))
                let body = try #require(try JSONSerialization.jsonObject(with: raw) as? [String: Any])
                #expect(body["caseNumber"] as? String == subject.number)
                let copy = try #require((body["documents"] as? [[String: Any]])?.first)
                #expect(copy["base64"] as? String == ServerTests.pdfBase64)
                #expect(try await services.notices.notice(caseID: subject.id)?.state == .sent)
                // nothing is sent twice
                #expect(try await runner.tick(at: services.now().addingTimeInterval(3600)).sent == 0)
                #expect(await receiver.count(notice.deliveryID) == 1)
                #expect(await receiver.badSignatures == 0)
                let actions = try await services.cases.timeline(caseID: subject.id).map(\.record.action)
                #expect(actions.contains("notice.due") && actions.contains("notice.sent"))
            }
        }
    }

    @Test func theBoardAndTheCasePageShowAHeldNoticeWithItsReasonAndALiftForReviewers() async throws {
        try await ServerTests.withApp { client, tokens, services in
            let tenant = Tenant(id: UUID(), name: "Gagged Co", kind: .consumer, country: "US", dataLocation: "US")
            try await services.directory.createTenant(tenant, accounts: [CustomerAccount(id: UUID(), tenantID: tenant.id, accountID: "acct-g", email: "g@example.com")])
            let body = ServerTests.demandJSON(reference: "G-1").replacingOccurrences(of: "alice@example.com", with: "g@example.com")
                .replacingOccurrences(of: #""until": "2027-05-04"}"#, with: #""indefinite": true}"#)
            let demandID = try await client.execute(uri: "/api/v1/demands", method: .post, headers: ServerTests.headers(tokens.officer), body: ByteBuffer(string: body)) { response in
                try #require(try ServerTests.json(response.body)["id"] as? String)
            }
            let opened = try #require(try await services.cases.findCase(demandID: UUID(uuidString: demandID)!))
            try await client.execute(uri: "/api/v1/cases/\(opened.id.uuidString.lowercased())/events", method: .post, headers: ServerTests.headers(tokens.reviewer), body: ByteBuffer(string: #"{"type": "begin_review"}"#)) { response throws in
                #expect(response.status == .ok)
            }
            let notice = try #require(try await services.notices.notice(caseID: opened.id))
            #expect(notice.isHeldIndefinitely)
            let board = try await ServerTests.consolePage("/staff/notices", client: client, services: services, roles: [.reviewer])
            #expect(board.contains(#"data-notice="\#(notice.id.uuidString.lowercased())""#))
            #expect(board.contains("held indefinitely"))
            #expect(board.contains("Lift bar and send"))
            #expect(board.contains("No delivery channel is configured"))
            // counted: one indefinite bar planned this year, one held right now
            #expect(board.contains(#"<strong id="held-indefinitely">1</strong>"#))
            #expect(board.contains(#"<tr data-bar="indefinite"><td>Notices planned with no end date (each flagged for a challenge)</td><td class="mono">1</td>"#))
            #expect(opened.assessment?.has(.indefiniteNDOChallenge) == true)
            let auditorBoard = try await ServerTests.consolePage("/staff/notices", client: client, services: services, roles: [.auditor])
            #expect(!auditorBoard.contains("Lift bar and send"), "only reviewers lift bars")
            // a reviewer logs an effort to obtain a waiver; it is kept with the notice and audited
            _ = try await services.notices.logWaiverEffort(noticeID: notice.id, note: "Asked the AUSA to consent to notice", at: services.now(), by: .system)
            let casePage = try await ServerTests.consolePage("/staff/cases/\(opened.id.uuidString.lowercased())", client: client, services: services, roles: [.reviewer])
            #expect(casePage.contains(#"id="customer-notice""#) && casePage.contains("held indefinitely"))
            #expect(casePage.contains(#"id="waiver-efforts""#) && casePage.contains("Asked the AUSA to consent to notice"))
            #expect(casePage.contains("Log waiver effort"))
            #expect(try await services.cases.timeline(caseID: opened.id).contains { $0.record.action == "notice.waiver_effort" })
        }
    }

    @Test func aDeliveryInFlightWhenTheRunnerDiesIsDeliveredExactlyOnceAfterRestart() async throws {
        try await Self.withReceiver { url, receiver in
            try await ServerTests.withApp { client, tokens, services in
                let subject = try await Self.caseInReview(client, tokens, services, reference: "W-2")
                let notice = try #require(try await services.notices.notice(caseID: subject.id))
                let now = services.now()
                // a runner leases the delivery and is killed before it sends or completes it
                let crashed = try await services.jobs.lease(kinds: [NoticeStore.deliveryJob], limit: 10, owner: "killed", at: now, leaseFor: 120)
                #expect(crashed.count == 1)
                // the restarted runner waits out the lease, then delivers once
                let restarted = NoticeRunner(services: services, channel: WebhookChannel(url: url, secret: Self.secret), leaseFor: 120, owner: "restarted")
                #expect(try await restarted.tick(at: now.addingTimeInterval(60)).sent == 0)
                #expect(try await restarted.tick(at: now.addingTimeInterval(121)).sent == 1)
                #expect(try await restarted.tick(at: now.addingTimeInterval(500)).sent == 0)
                #expect(await receiver.count(notice.deliveryID) == 1)
                #expect(try await services.notices.notice(caseID: subject.id)?.state == .sent)
            }
        }
    }

    /// After a SIGKILL the restarted server takes back, at once, what its own earlier run had
    /// leased, instead of waiting out the lease; another instance's lease is left alone.
    @Test func aRestartedServerTakesBackItsOwnEarlierRunsLeasesButNotAnotherInstances() async throws {
        try await Self.withReceiver { url, receiver in
            try await ServerTests.withApp { client, tokens, services in
                let mine = try await Self.caseInReview(client, tokens, services, reference: "W-4")
                let theirs = try await Self.caseInReview(client, tokens, services, reference: "W-5")
                let now = services.now()
                let dead = RunIdentity(instance: "node-a", run: "dead0001")
                let other = RunIdentity(instance: "node-b", run: "alive001")
                let first = try await services.jobs.lease(kinds: [NoticeStore.deliveryJob], limit: 1, owner: dead.owner("notices"), at: now, leaseFor: 120)
                let second = try await services.jobs.lease(kinds: [NoticeStore.deliveryJob], limit: 1, owner: other.owner("notices"), at: now, leaseFor: 120)
                #expect(first.count == 1 && second.count == 1)
                // node-a starts again as a new run: it takes back its own dead run's lease only
                let restarted = RunIdentity(instance: "node-a", run: "new00001")
                let given = try await services.jobs.reclaimLeases(
                    kinds: [NoticeStore.deliveryJob], instance: restarted.instancePrefix, currentRun: restarted.runPrefix, at: now)
                #expect(given.map(\.id) == first.map(\.id))
                // a prefix that merely starts the same ("node-a" vs "node-ab") is another instance
                #expect(try await services.jobs.reclaimLeases(kinds: [NoticeStore.deliveryJob], instance: "node-#", currentRun: "node-#x/", at: now).isEmpty)
                let runner = NoticeRunner(services: services, channel: WebhookChannel(url: url, secret: Self.secret), owner: restarted.owner("notices"))
                #expect(try await runner.tick(at: now.addingTimeInterval(1)).sent == 1, "delivered now, not after the 120 s lease")
                let mineNotice = try #require(try await services.notices.notice(caseID: mine.id))
                let theirNotice = try #require(try await services.notices.notice(caseID: theirs.id))
                #expect(await receiver.count(mineNotice.deliveryID) == 1)
                #expect(await receiver.count(theirNotice.deliveryID) == 0, "node-b may still be sending it")
                #expect(try await runner.tick(at: now.addingTimeInterval(121)).sent == 1, "once node-b's lease expires, it is taken")
            }
        }
    }

    /// A package build a killed run had claimed starts again at once after the restart, instead
    /// of waiting for the claim to go stale (5 minutes) and the job's lease to expire (an hour).
    @Test func aBuildClaimedByAKilledRunIsQueuedAgainAtRestart() async throws {
        try await ServerTests.withApp { client, tokens, services in
            let subject = try await Self.caseInReview(client, tokens, services, reference: "W-6")
            let now = services.now()
            try await services.packages.requeue(caseID: subject.id, purpose: .production, by: "test", at: now)
            let dead = RunIdentity(instance: "node-a", run: "dead0002")
            #expect(try await services.jobs.lease(kinds: [PackageStore.buildJob], limit: 1, owner: dead.owner("packages"), at: now, leaseFor: 3600).count == 1)
            #expect(try await services.packages.claim(caseID: subject.id, purpose: .production, requestedBy: "test", expected: nil, at: now))
            #expect(try await services.packages.record(caseID: subject.id, purpose: .production)?.status == .building)
            let restarted = RunIdentity(instance: "node-a", run: "new00002")
            let given = try await services.jobs.reclaimLeases(kinds: [PackageStore.buildJob], instance: restarted.instancePrefix, currentRun: restarted.runPrefix, at: now)
            #expect(given.count == 1)
            #expect(try await services.packages.record(caseID: subject.id, purpose: .production)?.status == .queued)
            #expect(try await services.packages.claim(caseID: subject.id, purpose: .production, requestedBy: "test", expected: nil, at: now), "claimable again at once")
            #expect(try await services.jobs.lease(kinds: [PackageStore.buildJob], limit: 1, owner: restarted.owner("packages"), at: now, leaseFor: 3600).count == 1)
        }
    }

    @Test func aReceiverThatKeepsFailingDeadLettersTheJobAndTheNoticeShowsFailed() async throws {
        try await Self.withReceiver { url, receiver in
            try await ServerTests.withApp { client, tokens, services in
                let subject = try await Self.caseInReview(client, tokens, services, reference: "W-3")
                let notice = try #require(try await services.notices.notice(caseID: subject.id))
                await receiver.fail(notice.deliveryID)
                let runner = NoticeRunner(
                    services: services, channel: WebhookChannel(url: url, secret: Self.secret),
                    policy: RetryPolicy(baseDelay: 0, maxDelay: 0, maxAttempts: 2), owner: "t")
                let first = try await runner.tick(at: services.now())
                #expect(first.retried == 1)
                let second = try await runner.tick(at: services.now().addingTimeInterval(1))
                #expect(second.deadLettered == 1)
                let failed = try #require(try await services.notices.notice(caseID: subject.id))
                #expect(failed.state == .failed)
                #expect(failed.reason.contains("HTTP 500"))
                #expect(try await services.jobs.jobs(kinds: [NoticeStore.deliveryJob], statuses: [.dead]).count == 1)
                // staff see the dead letter, with its error and a retry button
                let board = try await ServerTests.consolePage("/staff/notices", client: client, services: services, roles: [.reviewer])
                #expect(board.contains(#"id="dead-letters""#) && board.contains("HTTP 500") && board.contains(">Retry</button>"))
            }
        }
    }

    /// A tenant's own endpoint (set by the provider's admin) receives its notices signed with its own
    /// secret, even when the tenant has no notice contact; a notice no channel can carry waits
    /// without using up its retries.
    @Test func aTenantsOwnWebhookGetsItsNoticesAndOthersWaitForAChannel() async throws {
        let tenantSecret = WebhookChannel.newSecret()
        try await Self.withReceiver(secret: tenantSecret) { url, receiver in
            try await ServerTests.withApp { client, tokens, services in
                let hooked = Tenant(id: UUID(), name: "Hooked Inc", kind: .enterprise, country: "US", dataLocation: "US")
                try await services.directory.createTenant(hooked, accounts: [CustomerAccount(id: UUID(), tenantID: hooked.id, accountID: "acct-h", email: "ops@hooked.example")])
                try await services.directory.setWebhook(TenantWebhook(tenantID: hooked.id, url: url, secret: tenantSecret, createdAt: services.now()), by: "test")
                #expect(try await services.directory.webhook(tenantID: hooked.id)?.url == url)

                let body = ServerTests.demandJSON(reference: "H-1").replacingOccurrences(of: "alice@example.com", with: "ops@hooked.example")
                    .replacingOccurrences(of: #""nonDisclosureOrder": {"basis": "18 U.S.C. § 2705(b)", "until": "2027-05-04"}"#, with: #""preservation": false"#)
                let demandID = try await client.execute(uri: "/api/v1/demands", method: .post, headers: ServerTests.headers(tokens.officer), body: ByteBuffer(string: body)) { response in
                    try #require(try ServerTests.json(response.body)["id"] as? String)
                }
                let hookedCase = try #require(try await services.cases.findCase(demandID: UUID(uuidString: demandID)!))
                try await client.execute(uri: "/api/v1/cases/\(hookedCase.id.uuidString.lowercased())/events", method: .post, headers: ServerTests.headers(tokens.reviewer), body: ByteBuffer(string: #"{"type": "begin_review"}"#)) { response throws in
                    #expect(response.status == .ok)
                }
                let notice = try #require(try await services.notices.notice(caseID: hookedCase.id))
                #expect(notice.state == .due, "no contact, but the tenant's webhook can carry it")
                #expect(notice.recipients.isEmpty)
                // a consumer without any channel that reaches it: no global channel is configured
                let waiting = try await Self.caseInReview(client, tokens, services, reference: "H-2")
                let waitingNotice = try #require(try await services.notices.notice(caseID: waiting.id))

                let runner = NoticeRunner(services: services, channels: [], owner: "t")
                let report = try await runner.tick(at: services.now())
                #expect(report.sent == 1 && report.waiting == 1)
                #expect(await receiver.count(notice.deliveryID) == 1)
                #expect(await receiver.badSignatures == 0)
                let sent = try #require(try await services.notices.notice(id: notice.id))
                #expect(sent.state == .sent && sent.deliveries?.map(\.channel) == ["tenant_webhook"])
                #expect(await receiver.count(waitingNotice.deliveryID) == 0, "another tenant's notice never goes to this endpoint")
                #expect(try await services.notices.notice(id: waitingNotice.id)?.state == .due)
                let pending = try await services.jobs.jobs(kinds: [NoticeStore.deliveryJob], statuses: [.pending])
                #expect(pending.count == 1 && pending.first?.attempts == 0, "waiting for a channel is not a failed try")
                #expect(pending.first?.lastError?.contains("no configured channel") == true)

                // the customer sees where its notices go; changing the endpoint is audited
                let (session, _) = try await CustomerPortalTests.signIn(hooked, client, services)
                let portal = try await client.execute(uri: "/customer", method: .get, headers: session) { String(buffer: $0.body) }
                #expect(portal.contains(url))
                #expect(try await services.cases.auditTrail().contains { $0.record.action == "tenant.webhook_set" && $0.record.details["url"] == url })
                #expect(try await services.directory.removeWebhook(tenantID: hooked.id, at: services.now(), by: "test"))
                #expect(try await services.directory.webhook(tenantID: hooked.id) == nil)
            }
        }
    }
}
