import CustosDomain
import CustosStorage
import Foundation
import Logging
import ServiceLifecycle

/// The message a customer receives (C5): what was demanded, by whom, and a copy of the demand.
struct NoticeMessage: Encodable {
    struct DemandFacts: Encodable {
        var instrument: String
        var jurisdiction: String
        var issuingAuthority: String
        var caseReference: String
        var receivedAt: Date
        var categories: [String]
    }

    struct Copy: Encodable {
        var filename: String
        var mediaType: String
        var sha256: String
        var base64: String
    }

    var type = "customer_notice"
    var deliveryId: String
    var noticeId: UUID
    var caseNumber: String
    var tenant: String?
    var recipients: [String]
    var message: String
    var demand: DemandFacts
    var documents: [Copy]
}

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
    }

    let services: CustosServices
    let channel: (any NoticeChannel)?
    let interval: Duration
    let leaseFor: TimeInterval
    let policy: RetryPolicy
    let owner: String
    let logger: Logger
    /// Deliveries leased per tick.
    let batchSize = 20

    public init(
        services: CustosServices, channel: (any NoticeChannel)?, interval: Duration = .seconds(5), leaseFor: TimeInterval = 120,
        policy: RetryPolicy = RetryPolicy(), owner: String = "runner-\(UUID().uuidString.prefix(8).lowercased())"
    ) {
        self.services = services
        self.channel = channel
        self.interval = interval
        self.leaseFor = leaseFor
        self.policy = policy
        self.owner = owner
        self.logger = services.logger
    }

    public func run() async throws {
        if channel == nil {
            logger.warning("no notice channel configured (CUSTOS_NOTICE_WEBHOOK_URL): due notices wait on the notices board")
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
        report.released = try await services.notices.releaseLapsed(at: time).count
        report.reminded = try await services.notices.remindOfLapsingBars(at: time).count
        guard let channel else { return report }
        let jobs = try await services.jobs.lease(kinds: [NoticeStore.deliveryJob], limit: batchSize, owner: owner, at: time, leaseFor: leaseFor)
        for job in jobs {
            do {
                if try await deliver(job, via: channel, at: time) { report.sent += 1 }
                try await services.jobs.complete(job.id, owner: owner, at: services.now())
            } catch {
                let status = try await services.jobs.fail(job.id, owner: owner, error: "\(error)", at: services.now(), policy: policy)
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

    /// Sends one notice; false when there was nothing left to send (already sent, or no longer due).
    func deliver(_ job: LeasedJob, via channel: any NoticeChannel, at time: Date) async throws -> Bool {
        guard let id = UUID(uuidString: job.payload), let notice = try await services.notices.notice(id: id) else {
            throw DeliveryError("job \(job.id) names no notice")
        }
        guard notice.state == .due else { return false }
        guard let subject = try await services.cases.findCase(id: notice.caseID),
            let demand = try await services.cases.findDemand(id: subject.demandID)
        else { throw DeliveryError("notice \(id) names no case") }
        var copies: [NoticeMessage.Copy] = []
        for document in demand.documents {
            guard let stored = try await services.cases.findDocument(id: document.id) else { continue }
            copies.append(.init(filename: document.filename, mediaType: document.mediaType, sha256: document.sha256, base64: stored.bytes.base64EncodedString()))
        }
        let message = NoticeMessage(
            deliveryId: notice.deliveryID, noticeId: notice.id, caseNumber: subject.number, tenant: subject.customer?.tenantName,
            recipients: notice.recipients,
            message: "We received a legal demand for data of your account. A copy is attached. You may answer the requester directly, consent, or object; contact us before \(subject.dueAt.map(Timestamp.format) ?? "the deadline").",
            demand: .init(
                instrument: demand.instrument.rawValue, jurisdiction: demand.jurisdiction.country,
                issuingAuthority: demand.issuingAuthority.name, caseReference: demand.caseReference, receivedAt: demand.receivedAt,
                categories: demand.categories.map(\.rawValue)),
            documents: copies)
        try await channel.deliver(NoticeDelivery(id: notice.deliveryID, body: try CustosJSON.makeEncoder().encode(message)), at: time)
        try await services.notices.markSent(noticeID: id, at: services.now())
        return true
    }
}
