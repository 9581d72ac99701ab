import CustosDomain
import CustosStorage
import Foundation
import ServiceLifecycle

/// The copyright notices' clock and post (issue 9; a ServiceLifecycle service): on every tick it
/// marks notices whose customer did not answer in time, and sends the queued copyright mail
/// through the account mailer (the SMTP relay, or `.eml` files without one), with retries and
/// dead letters from the job queue.
public struct CopyrightRunner: Service {
    public struct Report: Equatable, Sendable {
        public var unanswered = 0
        public var sent = 0
        public var retried = 0
    }

    let services: CustosServices
    let interval: Duration
    let policy = RetryPolicy(baseDelay: 30, maxDelay: 3600, maxAttempts: 10)
    let owner: String
    /// Set for a server's runner: its earlier runs' leases are taken back as it starts.
    let restartOf: RunIdentity?

    public init(
        services: CustosServices, interval: Duration, owner: String = "copyright-\(UUID().uuidString.prefix(8).lowercased())",
        restartOf: RunIdentity? = nil
    ) {
        self.services = services
        self.interval = interval
        self.owner = owner
        self.restartOf = restartOf
    }

    public func run() async throws {
        await restartOf?.reclaim(kinds: [CopyrightStore.mailJob], services: services, what: "copyright runner")
        try await repeatUntilShutdown(every: interval, logger: services.logger, what: "copyright runner") { _ = try await tick() }
    }

    /// One round. Tests call it directly.
    public func tick() async throws -> Report {
        var report = Report()
        // Deadlines pass on one instance at a time (issue 28); the mail is leased jobs.
        report.unanswered = try await services.asLeader(.copyrightDeadlines, for: leaderSpan(interval), at: services.now()) {
            try await services.passCopyrightDeadlines()
        } ?? 0
        let mailer = try services.accountMailer()
        for job in try await services.jobs.lease(kinds: [CopyrightStore.mailJob], limit: 20, owner: owner, at: services.now(), leaseFor: 60) {
            do {
                let mail = try CustosJSON.decode(CopyrightStore.CopyrightMail.self, from: job.payload)
                for recipient in mail.to { try await mailer.send(to: recipient, subject: mail.subject, text: mail.text, at: services.now()) }
                _ = try await services.jobs.complete(job.id, owner: owner, at: services.now())
                report.sent += 1
            } catch {
                _ = try await services.jobs.fail(job.id, owner: owner, error: "\(error)", at: services.now(), policy: policy)
                report.retried += 1
                services.logger.warning("copyright mail \(job.id) attempt \(job.attempt) failed: \(error)")
            }
        }
        return report
    }
}
