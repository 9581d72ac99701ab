import CustosStorage
import Foundation
import Logging

/// Who holds a job lease: `<instance>#<run>/<runner>`. The instance is this server's name
/// (`CUSTOS_INSTANCE`, the host name by default; unique per server sharing a database); the run is
/// new at every start. A server that starts again after a crash gives back, at once, the leases its
/// earlier runs still held (`SQLJobQueue.reclaimLeases`), since nobody else can be working on them;
/// leases of other instances are left to expire, as they may be alive.
public struct RunIdentity: Sendable {
    /// `<instance>#`: the prefix every run of this instance shares.
    public let instancePrefix: String
    /// `<instance>#<run>/`: this run's prefix.
    public let runPrefix: String
    /// `<instance>#<run>`: this run's row in `instance_runs` and the holder of its periodic jobs' leases.
    public var runID: String { String(runPrefix.dropLast()) }

    /// `<instance>@<host>`, as `instance_runs` records it.
    public let instanceAndHost: String

    public init(instance: String, run: String = String(UUID().uuidString.prefix(8)).lowercased()) {
        instanceAndHost = "\(instance)@\(ProcessInfo.processInfo.hostName)"
        instancePrefix = "\(instance)#"
        runPrefix = "\(instance)#\(run)/"
    }

    /// The lease owner of one runner of this run.
    public func owner(_ runner: String) -> String { runPrefix + runner }

    /// Gives back this instance's earlier runs' leases of `kinds`; called once as a runner starts.
    /// Not while another run of the same name is alive (two servers given one `CUSTOS_INSTANCE`
    /// would take each other's work in flight): its leases are then taken back only once its
    /// heartbeat stops (`InstallationRunner`).
    func reclaim(kinds: [String], services: CustosServices, what: String) async {
        do {
            // On this host, `custos serve` holds the instance's lock in the data folder, so an earlier
            // run of this name here is dead; one on another host may not be.
            let namesakes = try await services.instanceRuns.live(at: services.now(), staleAfter: services.staleAfter)
                .filter { $0.id.hasPrefix(instancePrefix) && $0.id != runID && $0.instance != services.run.instanceAndHost }
            if !namesakes.isEmpty {
                services.logger.warning("\(what): another server runs as instance \(instancePrefix.dropLast()) (\(namesakes.map(\.id).joined(separator: ", "))); give each server its own CUSTOS_INSTANCE. Its leases are left to it")
                return
            }
            let given = try await services.jobs.reclaimLeases(kinds: kinds, instance: instancePrefix, currentRun: runPrefix, at: services.now())
            if !given.isEmpty {
                services.logger.notice("\(what): took back \(given.count) job(s) an earlier run of this instance left leased when it stopped")
            }
        } catch {
            // Not fatal: the leases still expire on their own.
            services.logger.warning("\(what): could not take back earlier runs' leases: \(error)")
        }
    }
}
