import CustosDomain
import Foundation
import Logging
import ServiceLifecycle

/// Keeps the logs published: a signed, witnessed audit checkpoint every
/// `CUSTOS_AUDIT_CHECKPOINT_SECONDS` when the log grew, and every `CUSTOS_LEGAL_PROCESS_BATCH_HOURS`
/// a legal-process batch and a fresh canary. The first round runs at start.
public struct TransparencyRunner: Service {
    let services: CustosServices

    public init(services: CustosServices) { self.services = services }

    public func run() async throws {
        let checkpointEvery = Duration.seconds(max(1, services.configuration.auditCheckpointSeconds))
        let batchEvery = TimeInterval(max(1, services.configuration.legalProcessBatchHours) * 3600)
        do {
            try await cancelWhenGracefulShutdown {
                while true {
                    do {
                        // One instance publishes at a time (issue 28); the schedule is the installation's,
                        // read from the latest canary, so a new leader does not publish a batch early.
                        let span = max(60, 2 * Double(checkpointEvery.components.seconds) + 30)
                        _ = try await services.asLeader(.transparency, for: span, at: services.now()) {
                            try await services.checkpoint(.audit)
                            let lastBatch = try await services.canaries.latestTime()
                            if lastBatch.map({ services.now().timeIntervalSince($0) >= batchEvery }) ?? true {
                                let report = try await services.publishLegalProcessBatch()
                                try await services.publishCanary()
                                services.logger.info("legal-process batch: \(report.demands) demands, \(report.dispositions) dispositions, \(report.openings) openings; size \(report.size)")
                            }
                        }
                    } catch is CancellationError {
                        throw CancellationError()
                    } catch {
                        services.logger.error("transparency round failed: \(error)")
                    }
                    try await Task.sleep(for: checkpointEvery)
                }
            }
        } catch is CancellationError {
            return
        }
    }
}
