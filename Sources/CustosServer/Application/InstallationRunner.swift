import CustosStorage
import Foundation
import Logging
import ServiceLifecycle

/// What makes one server a member of the installation (issue 28), every
/// `CUSTOS_HEARTBEAT_SECONDS`: it records that this run is alive and which storage keys it holds
/// (`instance_runs`), reloads the storage keys from the keyring (so a rotation made elsewhere
/// reaches it without a restart), and gives back the job leases of runs that went silent.
public struct InstallationRunner: Service {
    let services: CustosServices
    let startedAt: Date

    public init(services: CustosServices) {
        self.services = services
        self.startedAt = services.now()
    }

    /// Every job kind a runner leases.
    static let jobKinds = [NoticeStore.deliveryJob, PackageStore.buildJob, CopyrightStore.mailJob, EmergencyPageStore.pageJob]

    public func run() async throws {
        // Announced at once, so a rotation or a namesake check sees this server from its start; a
        // database that fails this first time is retried by the next round, not fatal.
        do { try await beat() } catch { services.logger.warning("installation heartbeat failed: \(error)") }
        try await repeatUntilShutdown(every: .seconds(services.configuration.heartbeatSeconds), logger: services.logger, what: "installation heartbeat") {
            try await tick()
        }
        // A clean stop says so at once, and gives up its periodic jobs, so others take over now.
        try? await services.instanceRuns.remove(services.run.runID)
        for name in LeaderJob.allCases { try? await services.leases.release(name.rawValue, holder: services.run.runID) }
    }

    /// One round; tests call it.
    public func tick() async throws {
        try await refreshKeys()
        try await beat()
        let time = services.now()
        let live = Set(try await services.instanceRuns.live(at: time, staleAfter: services.staleAfter).map(\.id))
        let given = try await services.jobs.reclaimLeasesOfDeadRuns(kinds: Self.jobKinds, live: live.union([services.run.runID]), at: time)
        if !given.isEmpty { services.logger.notice("took back \(given.count) job(s) from servers that stopped answering") }
        try await services.instanceRuns.forgetSilent(at: time)
    }

    func beat() async throws {
        let sealer = services.database.sealer
        try await services.instanceRuns.beat(
            InstanceRuns.Run(
                id: services.run.runID, instance: services.run.instanceAndHost, heartbeat: services.now(),
                masterKeyID: services.keys.keyring.master.id, storageCurrent: sealer.currentID ?? "", storageKnown: sealer.keyIDs),
            startedAt: startedAt)
    }

    /// Loads the storage keys again; a keyring this run's master key no longer opens (rotated
    /// meanwhile) leaves it with the keys it has, and says so. When the current key changed (a
    /// rotation), this server reseals the packages in its own data folder before its next
    /// heartbeat reports the new key, so the rotation retires the old one only once no running
    /// server's packages need it.
    func refreshKeys() async throws {
        do {
            let stored = try await services.keys.keyring.storageSealer(at: services.now(), create: false)
            let before = services.database.sealer.currentID
            services.database.use(services.database.sealer.merging(stored))
            // A shared blob store is resealed once, by the rotation itself.
            if before != stored.currentID, !services.configuration.inMemoryDatabase, !services.blobs.isShared {
                let resealed = try await services.resealPackages()
                services.logger.notice("storage key \(stored.currentID ?? "-") is current: resealed \(resealed) package(s) in this server's data folder")
            }
        } catch let error as KeyringError {
            services.logger.warning("the keyring no longer opens with this server's master key (\(error)); it keeps the keys it loaded. Restart it with the installation's current master key")
        }
    }
}

/// The periodic jobs that run on one instance at a time, by lease name.
public enum LeaderJob: String, CaseIterable, Sendable {
    case transparency = "job.transparency"
    case noticeRelease = "job.notice-release"
    case packageHousekeeping = "job.package-housekeeping"
    case copyrightDeadlines = "job.copyright-deadlines"
}
