import Foundation
import Logging
import ServiceLifecycle

/// The loop of the background services (package builds, emergency paging): run `tick`, log a
/// failed round without stopping, sleep, and end quietly on graceful shutdown.
func repeatUntilShutdown(every interval: Duration, logger: Logger, what: String, _ tick: @escaping @Sendable () async throws -> Void) async throws {
    do {
        try await cancelWhenGracefulShutdown {
            while true {
                do {
                    try await tick()
                } catch is CancellationError {
                    throw CancellationError()
                } catch {
                    logger.error("\(what) tick failed: \(error)")
                }
                try await Task.sleep(for: interval)
            }
        }
    } catch is CancellationError {
        return
    }
}

/// How long a periodic job's lease lasts: three rounds, at least a minute, so a holder that dies
/// hands its job to another instance within minutes while a live one renews it every round.
func leaderSpan(_ interval: Duration) -> TimeInterval {
    max(60, 3 * Double(interval.components.seconds))
}
