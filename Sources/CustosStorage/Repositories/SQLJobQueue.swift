import CustosDomain
import FluentKit
import Foundation
import SQLKit

public enum JobStatus: String, Codable, Sendable {
    case pending, leased, done, dead
}

/// One leased job, as the runner sees it.
public struct LeasedJob: Sendable, Equatable {
    public var id: UUID
    public var kind: String
    public var caseID: UUID?
    public var recipient: String
    public var payload: String
    /// 1 on the first try.
    public var attempt: Int
    public var dedupeKey: String?
}

/// A job as the staff board shows it.
public struct JobRecord: Sendable, Equatable {
    public var id: UUID
    public var kind: String
    public var caseID: UUID?
    public var status: JobStatus
    public var attempts: Int
    public var runAt: Date?
    public var lastError: String?
    public var createdAt: Date
}

/// Retries with exponential backoff, then the dead-letter state.
public struct RetryPolicy: Sendable {
    public var baseDelay: TimeInterval
    public var maxDelay: TimeInterval
    public var maxAttempts: Int

    public init(baseDelay: TimeInterval = 30, maxDelay: TimeInterval = 6 * 3600, maxAttempts: Int = 8) {
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.maxAttempts = maxAttempts
    }

    /// Delay before the next try after `attempt` failed: base × 2^(attempt−1), capped.
    public func delay(after attempt: Int) -> TimeInterval {
        min(maxDelay, baseDelay * pow(2, Double(max(0, attempt - 1))))
    }
}

/// The outbox as a leased job queue. A job is leased for a while; if its runner dies, the lease
/// expires and another runner takes it again, so a delivery in flight is never lost (it may be
/// tried twice, which is why each delivery carries a stable id the receiver can deduplicate on).
/// On PostgreSQL, runners skip rows another runner has locked (`FOR UPDATE SKIP LOCKED`).
public struct SQLJobQueue: Sendable {
    let store: CustosDatabase

    public init(store: CustosDatabase) { self.store = store }

    var isPostgres: Bool { store.location.isPostgres }

    /// Leases up to `limit` due jobs of `kinds` (pending and due, or leased with an expired lease).
    public func lease(kinds: [String], limit: Int, owner: String, at time: Date, leaseFor: TimeInterval) async throws -> [LeasedJob] {
        let isPostgres = self.isPostgres
        return try await store.database.transaction { tx in
            let sql = tx as! any SQLDatabase
            var query = sql.select().column("id").from("outbox")
                .where("kind", .in, kinds)
                .where { group in
                    group.where { due in
                        due.where("status", .equal, JobStatus.pending.rawValue)
                            .where { $0.where("run_at", .is, SQLLiteral.null).orWhere("run_at", .lessThanOrEqual, time) }
                    }
                    .orWhere { expired in
                        expired.where("status", .equal, JobStatus.leased.rawValue).where("lease_until", .lessThan, time)
                    }
                }
                .orderBy("created_at").limit(limit)
            if isPostgres { query = query.lockingClause(SQLRaw("FOR UPDATE SKIP LOCKED")) }
            let ids = try await query.all(decodingColumn: "id", as: UUID.self)
            var leased: [LeasedJob] = []
            for id in ids {
                guard let row = try await OutboxRow.find(id, on: tx) else { continue }
                row.status = JobStatus.leased.rawValue
                row.leaseOwner = owner
                row.leaseUntil = time.addingTimeInterval(leaseFor)
                row.attempts += 1
                try await row.update(on: tx)
                leased.append(LeasedJob(
                    id: id, kind: row.kind, caseID: row.caseID, recipient: row.recipient, payload: row.payload, attempt: row.attempts,
                    dedupeKey: row.dedupeKey))
            }
            return leased
        }
    }

    /// Gives back, due at once, the jobs an earlier run of this instance still held when it died
    /// (SIGKILL, a crash, power loss), instead of letting them wait out their leases (up to an hour
    /// for a package build). Only leases whose owner starts with `instance` and not with
    /// `currentRun` are touched: another instance on the same database may be alive and working.
    /// A package build given back also releases its build claim, so the build starts again now.
    /// Returns the jobs given back.
    @discardableResult
    public func reclaimLeases(kinds: [String], instance: String, currentRun: String, at time: Date) async throws -> [LeasedJob] {
        // Owners are compared in Swift, not with LIKE, so `_` or `%` in a host name match only themselves.
        try await reclaim(kinds: kinds, at: time, reason: "the run that held it stopped without finishing (reclaimed at restart)") {
            $0.hasPrefix(instance) && !$0.hasPrefix(currentRun)
        }
    }

    /// Gives back the jobs held by runs that are no longer alive, whatever their instance's name
    /// (issue 28: a pod replaced under a new host name left its package build leased for an hour).
    /// An owner is `<instance>#<run>/<runner>` (`RunIdentity`); `live` holds the live runs'
    /// `<instance>#<run>`. Owners of another shape (tests' runners) are left alone.
    @discardableResult
    public func reclaimLeasesOfDeadRuns(kinds: [String], live: Set<String>, at time: Date) async throws -> [LeasedJob] {
        try await reclaim(kinds: kinds, at: time, reason: "the server that held it stopped answering (reclaimed by another)") { owner in
            guard owner.contains("#"), let slash = owner.lastIndex(of: "/") else { return false }
            return !live.contains(String(owner[..<slash]))
        }
    }

    func reclaim(kinds: [String], at time: Date, reason: String, owner isReclaimable: @escaping @Sendable (String) -> Bool) async throws -> [LeasedJob] {
        try await store.database.transaction { tx in
            let held = try await OutboxRow.query(on: tx).filter(\.$status == JobStatus.leased.rawValue).filter(\.$kind ~~ kinds).all()
                .filter { isReclaimable($0.leaseOwner ?? "") }
            var reclaimed: [LeasedJob] = []
            for row in held {
                row.status = JobStatus.pending.rawValue
                row.runAt = time
                row.leaseOwner = nil
                row.leaseUntil = nil
                row.lastError = reason
                try await row.update(on: tx)
                if row.kind == PackageStore.buildJob, let target = PackageStore.buildTarget(ofPayload: row.payload) {
                    try await PackageRow.query(on: tx).filter(\.$caseID == target.caseID).filter(\.$purpose == target.purpose.rawValue)
                        .filter(\.$status == PackageRecord.Status.building.rawValue)
                        .set(\.$status, to: PackageRecord.Status.queued.rawValue).set(\.$updatedAt, to: time).update()
                }
                reclaimed.append(LeasedJob(
                    id: row.id!, kind: row.kind, caseID: row.caseID, recipient: row.recipient, payload: row.payload, attempt: row.attempts,
                    dedupeKey: row.dedupeKey))
            }
            return reclaimed
        }
    }

    /// Marks a job done, if `owner` still holds its lease. Returns false when the lease was lost.
    @discardableResult
    public func complete(_ id: UUID, owner: String, at time: Date) async throws -> Bool {
        try await store.database.transaction { tx in
            guard let row = try await OutboxRow.find(id, on: tx), row.status == JobStatus.leased.rawValue, row.leaseOwner == owner else {
                return false
            }
            row.status = JobStatus.done.rawValue
            row.deliveredAt = time
            row.leaseUntil = nil
            row.lastError = nil
            try await row.update(on: tx)
            return true
        }
    }

    /// Records a failed try: back to pending after the backoff, or dead after the last attempt (or
    /// at once, when `permanent` says a retry cannot succeed).
    @discardableResult
    public func fail(_ id: UUID, owner: String, error: String, at time: Date, policy: RetryPolicy, permanent: Bool = false) async throws -> JobStatus? {
        try await store.database.transaction { tx in
            guard let row = try await OutboxRow.find(id, on: tx), row.status == JobStatus.leased.rawValue, row.leaseOwner == owner else {
                return nil
            }
            row.lastError = String(error.prefix(1000))
            row.leaseUntil = nil
            if permanent || row.attempts >= policy.maxAttempts {
                row.status = JobStatus.dead.rawValue
            } else {
                row.status = JobStatus.pending.rawValue
                row.runAt = time.addingTimeInterval(policy.delay(after: row.attempts))
            }
            try await row.update(on: tx)
            return JobStatus(rawValue: row.status)
        }
    }

    /// Gives a leased job back without counting the try: nothing could be attempted yet (no channel
    /// reaches its recipient). It is offered again at `until`, with `reason` shown to staff.
    @discardableResult
    public func postpone(_ id: UUID, owner: String, until: Date, reason: String) async throws -> Bool {
        try await store.database.transaction { tx in
            guard let row = try await OutboxRow.find(id, on: tx), row.status == JobStatus.leased.rawValue, row.leaseOwner == owner else {
                return false
            }
            row.status = JobStatus.pending.rawValue
            row.attempts = max(0, row.attempts - 1)
            row.leaseUntil = nil
            row.runAt = until
            row.lastError = String(reason.prefix(1000))
            try await row.update(on: tx)
            return true
        }
    }

    /// Staff send a dead letter again: it becomes pending now, with a fresh attempt count.
    public func retry(_ id: UUID, at time: Date) async throws -> Bool {
        try await store.database.transaction { tx in
            guard let row = try await OutboxRow.find(id, on: tx), row.status == JobStatus.dead.rawValue else { return false }
            row.status = JobStatus.pending.rawValue
            row.attempts = 0
            row.runAt = time
            try await row.update(on: tx)
            return true
        }
    }

    public func jobs(kinds: [String], statuses: [JobStatus], limit: Int = 500) async throws -> [JobRecord] {
        try await OutboxRow.query(on: store.database).filter(\.$kind ~~ kinds).filter(\.$status ~~ statuses.map(\.rawValue))
            .sort(\.$createdAt, .descending).limit(limit).all().map { row in
                JobRecord(
                    id: row.id!, kind: row.kind, caseID: row.caseID, status: JobStatus(rawValue: row.status) ?? .pending,
                    attempts: row.attempts, runAt: row.runAt, lastError: row.lastError, createdAt: row.createdAt)
            }
    }
}
