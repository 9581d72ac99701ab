import CustosDomain
import CustosStorage
import Foundation
import Logging
import ServiceLifecycle

/// The package runner (a ServiceLifecycle service beside the notice runner). On every tick it:
/// 1. ends preservations whose time is up (`preservation_ended` by the system: § 2703(f) and
///    Art. 11(1) obligations lapse without follow-up process);
/// 2. builds queued packages, one at a time (a build streams records, so memory stays flat);
/// 3. deletes packages whose retention is over, leaving an audit tombstone.
/// Builds are leased jobs: a runner that dies mid-build leaves the job to be taken again once the
/// lease expires, and the package's claim keeps two builders off one package.
public struct PackageRunner: Service {
    public struct Report: Equatable, Sendable {
        public var preservationsEnded = 0
        public var built = 0
        public var failed = 0
        public var deleted = 0
    }

    let services: CustosServices
    let interval: Duration
    let owner: String
    /// Builds are retried a few times (a connector may be briefly down), then left failed on the case page.
    let policy = RetryPolicy(baseDelay: 60, maxDelay: 3600, maxAttempts: 3)
    /// Long enough for a large build; progress keeps the package's claim fresh meanwhile.
    let leaseFor: TimeInterval = 3600
    let logger: Logger

    /// Set for a server's runner: its earlier runs' leases (and their build claims) are taken back as it starts.
    let restartOf: RunIdentity?

    public init(
        services: CustosServices, interval: Duration = .seconds(5), owner: String = "packages-\(UUID().uuidString.prefix(8).lowercased())",
        restartOf: RunIdentity? = nil
    ) {
        self.restartOf = restartOf
        self.services = services
        self.interval = interval
        self.owner = owner
        self.logger = services.logger
    }

    public func run() async throws {
        await restartOf?.reclaim(kinds: [PackageStore.buildJob], services: services, what: "package runner")
        try await repeatUntilShutdown(every: interval, logger: logger, what: "package runner") { _ = try await tick(at: services.now()) }
    }

    /// One round. Tests call it with a chosen time.
    public func tick(at time: Date) async throws -> Report {
        var report = Report()
        // Preservation expiry and retention run on one instance at a time (issue 28); builds are leased jobs.
        let housekeeping = try await services.leases.acquire(LeaderJob.packageHousekeeping.rawValue, holder: services.run.runID, at: time, for: leaderSpan(interval))
        if housekeeping {
            report.preservationsEnded = try await endLapsedPreservations(at: time)
            // Lagging cases whose build job is long done are found here.
            for record in try await services.packages.builtWhileCollecting() { try await finishLagging(record) }
        }
        for job in try await services.jobs.lease(kinds: [PackageStore.buildJob], limit: 1, owner: owner, at: time, leaseFor: leaseFor) {
            if try await build(job) { report.built += 1 } else { report.failed += 1 }
        }
        if housekeeping { report.deleted = try await deleteExpiredPackages(at: time) }
        return report
    }

    func endLapsedPreservations(at time: Date) async throws -> Int {
        var ended = 0
        for subject in try await services.cases.listCases(CaseFilter(state: .preserving, limit: 100_000)) {
            guard let until = subject.preservedUntil, until <= time else { continue }
            _ = try await services.cases.apply(.preservationEnded(followUpReceived: false), toCase: subject.id, at: time, by: .system)
            ended += 1
        }
        return ended
    }

    /// Builds one queued package; true when it was built (or needed no build any more).
    func build(_ job: LeasedJob) async throws -> Bool {
        guard let (caseID, purpose) = PackageStore.buildTarget(ofPayload: job.payload) else {
            _ = try await services.jobs.fail(job.id, owner: owner, error: "unreadable payload \(job.payload)", at: services.now(), policy: policy, permanent: true)
            return false
        }
        // Built meanwhile (by `custos production build`), or the case moved on: nothing to do.
        let record = try await services.packages.record(caseID: caseID, purpose: purpose)
        let state = try await services.cases.findCase(id: caseID)?.state
        if let record, record.status == .built, purpose == .production, state == .collecting {
            // Built, but the case never moved on (an older version saved the finish in steps).
            try await finishLagging(record)
            try await services.jobs.complete(job.id, owner: owner, at: services.now())
            return true
        }
        if record?.status == .built || record?.status == .deleted || state != purpose.buildState {
            try await services.jobs.complete(job.id, owner: owner, at: services.now())
            return true
        }
        do {
            try await services.buildPackage(caseID: caseID, purpose: purpose, by: .system)
            try await services.jobs.complete(job.id, owner: owner, at: services.now())
            return true
        } catch PackageBuildRefusal.alreadyBuilding(let reason) {
            try await services.jobs.postpone(job.id, owner: owner, until: services.now().addingTimeInterval(60), reason: reason)
            return false
        } catch {
            // A plan that cannot be made will not succeed on a retry; a source that failed may.
            let permanent: Bool
            if case PackageBuildRefusal.nothingToCollect = error { permanent = true } else { permanent = false }
            _ = try await services.jobs.fail(job.id, owner: owner, error: "\(error)", at: services.now(), policy: policy, permanent: permanent)
            logger.warning("package build for case \(caseID) (\(purpose.rawValue)) attempt \(job.attempt) failed: \(error)")
            return false
        }
    }

    /// Moves on a case whose production package is built while the case is still collecting:
    /// the `collectionFinished` its build did not get to apply, with the count the build recorded.
    func finishLagging(_ record: PackageRecord) async throws {
        logger.warning("case \(record.caseID): its production package is built but the case was still collecting; moving it on")
        do {
            _ = try await services.cases.apply(.collectionFinished(recordCount: record.files ?? 0), toCase: record.caseID, at: services.now(), by: .system)
        } catch is WorkflowRefusal {
            // Moved on meanwhile (another instance repaired it, or staff acted): nothing left to do.
        }
    }

    /// Deletes packages whose time is up and records each deletion as a tombstone.
    func deleteExpiredPackages(at time: Date) async throws -> Int {
        let retention = TimeInterval(services.configuration.packageRetentionDays) * 86_400
        var deleted = 0
        for record in try await services.packages.dueForDeletion(productionRetention: retention, at: time) {
            let sealed = CustosServices.packageKey(caseID: record.caseID, purpose: record.purpose)
            // The sealed package, and a plain one a version before sealing left in a data folder.
            for key in [sealed, String(sealed.dropLast(7))] { try await services.blobs.delete(key) }
            let reason = record.purpose == .production
                ? "retention: \(services.configuration.packageRetentionDays) days after the build (CUSTOS_PACKAGE_RETENTION_DAYS)"
                : "the preservation ended"
            try await services.packages.markDeleted(caseID: record.caseID, purpose: record.purpose, reason: reason, by: Actor.system.auditName, at: time)
            deleted += 1
        }
        return deleted
    }
}
