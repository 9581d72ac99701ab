import AsyncHTTPClient
import CustosDomain
import CustosStorage
import Foundation
import Logging
import NIOCore
import ServiceLifecycle

/// The emergency lane's paging (issue 8; a ServiceLifecycle service, run when
/// `CUSTOS_EMERGENCY_PAGE_URL` is set): on every tick it queues the pages that are due (new
/// emergencies, overdue follow-up process) and posts each to the on-call webhook, signed as
/// Standard Webhooks like customer notices, with retries and dead letters from the job queue.
public struct EmergencyPager: Service {
    public struct Report: Equatable, Sendable {
        public var queued = 0
        public var sent = 0
        public var retried = 0
        public var deadLettered = 0
    }

    let services: CustosServices
    let url: String
    let secret: String
    let interval: Duration
    let policy: RetryPolicy
    let owner: String
    /// Set for a server's runner: its earlier runs' leases are taken back as it starts.
    let restartOf: RunIdentity?

    public init(
        services: CustosServices, url: String, secret: String, interval: Duration = .seconds(5),
        policy: RetryPolicy = RetryPolicy(baseDelay: 15, maxDelay: 900, maxAttempts: 12),
        owner: String = "pager-\(UUID().uuidString.prefix(8).lowercased())", restartOf: RunIdentity? = nil
    ) {
        self.owner = owner
        self.restartOf = restartOf
        self.services = services
        self.url = url
        self.secret = secret
        self.interval = interval
        self.policy = policy
    }

    public func run() async throws {
        services.logger.info("emergencies page \(url)")
        await restartOf?.reclaim(kinds: [EmergencyPageStore.pageJob], services: services, what: "emergency pager")
        try await repeatUntilShutdown(every: interval, logger: services.logger, what: "emergency pager") { _ = try await tick(at: services.now()) }
    }

    /// One round. Tests call it with a chosen time.
    public func tick(at time: Date) async throws -> Report {
        var report = Report()
        report.queued = try await EmergencyPageStore(store: services.database).queueDuePages(at: time)
        for job in try await services.jobs.lease(kinds: [EmergencyPageStore.pageJob], limit: 20, owner: owner, at: time, leaseFor: 60) {
            do {
                let body = Data(job.payload.utf8)
                let timestamp = Int(time.timeIntervalSince1970)
                let id = job.dedupeKey ?? job.id.uuidString
                var request = HTTPClientRequest(url: url)
                request.method = .POST
                request.headers.add(name: "content-type", value: "application/json")
                request.headers.add(name: "webhook-id", value: id)
                request.headers.add(name: "webhook-timestamp", value: String(timestamp))
                request.headers.add(name: "webhook-signature", value: WebhookChannel.signature(id: id, timestamp: timestamp, body: body, secret: secret))
                request.body = .bytes(ByteBuffer(data: body))
                let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
                guard (200..<300).contains(response.status.code) else { throw DeliveryError("pager \(url) answered HTTP \(response.status.code)") }
                _ = try await services.jobs.complete(job.id, owner: owner, at: services.now())
                report.sent += 1
            } catch {
                let status = try await services.jobs.fail(job.id, owner: owner, error: "\(error)", at: services.now(), policy: policy)
                if status == .dead { report.deadLettered += 1 } else { report.retried += 1 }
                services.logger.warning("emergency page \(job.dedupeKey ?? "") attempt \(job.attempt) failed: \(error)")
            }
        }
        return report
    }
}
