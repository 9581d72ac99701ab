import CustosDomain
import CustosStorage
import Foundation
import Logging
import ServiceLifecycle

/// The job runner (a ServiceLifecycle service): on every tick it releases notices whose bars have
/// lapsed, records renewal reminders, then leases due deliveries and hands them to the channel,
/// with retries, exponential backoff and a dead-letter state. Several runners may share one
/// PostgreSQL database; leases keep them from delivering the same job at the same time.
public struct NoticeRunner: Service {
    public struct Report: Equatable, Sendable {
        public var released = 0
        public var reminded = 0
        public var sent = 0
        public var retried = 0
        public var deadLettered = 0
        /// Due notices no configured channel can carry yet (no address, no endpoint).
        public var waiting = 0
    }

    /// How long a notice that no channel can carry waits before the runner looks again.
    static let noChannelRecheck: TimeInterval = 600

    enum Outcome: Equatable {
        case sent
        /// Already sent, or no longer due.
        case nothingToSend
        case noChannel(String)
    }

    let services: CustosServices
    /// Every configured channel; each notice goes out once through each of them.
    let channels: [any NoticeChannel]
    let interval: Duration
    let leaseFor: TimeInterval
    let policy: RetryPolicy
    let owner: String
    /// Set for a server's runner: its earlier runs' leases are taken back as it starts.
    let restartOf: RunIdentity?
    let logger: Logger
    /// Deliveries leased per tick.
    let batchSize = 20

    public init(
        services: CustosServices, channel: (any NoticeChannel)?, interval: Duration = .seconds(5), leaseFor: TimeInterval = 120,
        policy: RetryPolicy = RetryPolicy(), owner: String = "runner-\(UUID().uuidString.prefix(8).lowercased())"
    ) {
        self.init(services: services, channels: channel.map { [$0] } ?? [], interval: interval, leaseFor: leaseFor, policy: policy, owner: owner)
    }

    public init(
        services: CustosServices, channels: [any NoticeChannel], interval: Duration = .seconds(5), leaseFor: TimeInterval = 120,
        policy: RetryPolicy = RetryPolicy(), owner: String = "runner-\(UUID().uuidString.prefix(8).lowercased())", restartOf: RunIdentity? = nil
    ) {
        self.restartOf = restartOf
        self.services = services
        self.channels = channels
        self.interval = interval
        self.leaseFor = leaseFor
        self.policy = policy
        self.owner = owner
        self.logger = services.logger
    }

    public func run() async throws {
        await restartOf?.reclaim(kinds: [NoticeStore.deliveryJob], services: services, what: "notice runner")
        if channels.isEmpty {
            logger.warning("no notice channel configured (CUSTOS_SMTP_HOST or CUSTOS_NOTICE_WEBHOOK_URL): due notices wait on the notices board")
        } else {
            logger.info("customer notices go out by \(channels.map(\.name).joined(separator: " and "))")
        }
        do {
            try await cancelWhenGracefulShutdown {
                while true {
                    var busy = false
                    do {
                        let report = try await tick(at: services.now())
                        // A full batch means more may be waiting: drain before sleeping.
                        busy = report.sent + report.retried + report.deadLettered >= batchSize
                    } catch is CancellationError {
                        throw CancellationError()
                    } catch {
                        logger.error("notice runner tick failed: \(error)")
                    }
                    if !busy { try await Task.sleep(for: interval) }
                }
            }
        } catch is CancellationError {
            return
        }
    }

    /// One round of scheduling and delivery. Tests call it with a chosen time.
    public func tick(at time: Date) async throws -> Report {
        var report = Report()
        // Releasing lapsed gag orders and reminders run on one instance at a time (issue 28).
        if let (released, reminded) = try await services.asLeader(.noticeRelease, for: leaderSpan(interval), at: time, {
            (try await services.notices.releaseLapsed(at: time).count, try await services.notices.remindOfLapsingBars(at: time).count)
        }) {
            report.released = released
            report.reminded = reminded
        }
        if channels.isEmpty, try await !services.directory.hasTenantWebhooks() { return report }
        let jobs = try await services.jobs.lease(kinds: [NoticeStore.deliveryJob], limit: batchSize, owner: owner, at: time, leaseFor: leaseFor)
        for job in jobs {
            do {
                switch try await deliver(job, at: time) {
                case .sent: report.sent += 1
                case .nothingToSend: break
                case .noChannel(let reason):
                    // Not a failed try: nothing could be attempted. Offered again later, with the reason shown.
                    try await services.jobs.postpone(job.id, owner: owner, until: time.addingTimeInterval(Self.noChannelRecheck), reason: reason)
                    report.waiting += 1
                    continue
                }
                try await services.jobs.complete(job.id, owner: owner, at: services.now())
            } catch {
                // A permanent refusal (an SMTP 5xx: unknown mailbox, bad credentials) will not pass on a
                // retry; it goes straight to the dead letters, where staff fix the cause and retry.
                let permanent = (error as? SMTPError)?.isPermanent ?? false
                let status = try await services.jobs.fail(
                    job.id, owner: owner, error: "\(error)", at: services.now(), policy: policy, permanent: permanent)
                if status == .dead {
                    report.deadLettered += 1
                    if let id = UUID(uuidString: job.payload) {
                        try await services.notices.markFailed(noticeID: id, error: "\(error)", at: services.now())
                    }
                } else {
                    report.retried += 1
                }
                logger.warning("notice delivery \(job.dedupeKey ?? job.id.uuidString) attempt \(job.attempt) failed: \(error)")
            }
        }
        return report
    }

    /// Sends one notice through every channel that carries it and has not yet accepted it: the
    /// configured ones and the tenant's own endpoint. Each channel's acceptance is stored before
    /// the next is tried, so a failure or crash half-way repeats no channel.
    func deliver(_ job: LeasedJob, at time: Date) async throws -> Outcome {
        guard let id = UUID(uuidString: job.payload), let notice = try await services.notices.notice(id: id) else {
            throw DeliveryError("job \(job.id) names no notice")
        }
        guard notice.state == .due else { return .nothingToSend }
        let delivery = NoticeDelivery(message: try await message(for: notice))
        var candidates = channels
        if let tenantID = notice.tenantID, let endpoint = try await services.directory.webhook(tenantID: tenantID) {
            candidates.append(WebhookChannel(url: endpoint.url, secret: endpoint.secret, name: "tenant_webhook"))
        }
        let carrying = candidates.filter { $0.carries(delivery) }
        guard !carrying.isEmpty else {
            return .noChannel("no configured channel reaches this customer (no email channel or address, no webhook)")
        }
        let remaining = carrying.filter { !notice.wasDelivered(via: $0.name) }
        guard !remaining.isEmpty else {
            try await services.notices.markSent(noticeID: id, at: services.now())
            return .sent
        }
        for (index, channel) in remaining.enumerated() {
            let receipt = try await channel.deliver(delivery, at: time)
            try await services.notices.markDelivered(
                noticeID: id, channel: channel.name, receipt: String(receipt.prefix(500)), completes: index == remaining.count - 1,
                at: services.now())
        }
        return .sent
    }

    func message(for notice: CustomerNotice) async throws -> NoticeMessage {
        guard let subject = try await services.cases.findCase(id: notice.caseID),
            let demand = try await services.cases.findDemand(id: subject.demandID)
        else { throw DeliveryError("notice \(notice.id) names no case") }
        var copies: [NoticeMessage.Copy] = []
        for document in demand.documents {
            guard let stored = try await services.cases.findDocument(id: document.id) else { continue }
            copies.append(.init(filename: document.filename, mediaType: document.mediaType, sha256: document.sha256, bytes: stored.bytes))
        }
        let answerBy = subject.dueAt.map(Timestamp.format) ?? "the deadline"
        return NoticeMessage(
            deliveryId: notice.deliveryID, noticeId: notice.id, caseNumber: subject.number, tenant: subject.customer?.tenantName,
            recipients: notice.recipients,
            message: "We received a legal demand for data of your account. A copy is attached. You may answer the requester directly, consent, or object; please tell us before \(answerBy).",
            portalURL: services.configuration.publicURL + "/customer", answerBy: subject.dueAt,
            demand: .init(
                instrument: demand.instrument.rawValue, jurisdiction: demand.jurisdiction.country,
                issuingAuthority: demand.issuingAuthority.name, caseReference: demand.caseReference, receivedAt: demand.receivedAt,
                categories: demand.categories.map(\.rawValue)),
            documents: copies)
    }
}
