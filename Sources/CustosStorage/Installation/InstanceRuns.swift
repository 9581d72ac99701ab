import Foundation
import SQLKit

/// The servers running on this database, each with a heartbeat (issue 28). A run is new at every
/// start; one silent for longer than the staleness limit is taken for dead, whatever its name,
/// so its job leases can be taken back at once and a key rotation stops waiting for it.
public struct InstanceRuns: Sendable {
    let store: CustosDatabase
    public init(store: CustosDatabase) { self.store = store }

    public struct Run: Sendable, Equatable {
        public var id: String
        public var instance: String
        public var heartbeat: Date
        public var masterKeyID: String
        /// The storage key this run seals with, and every one it can open.
        public var storageCurrent: String
        public var storageKnown: [String]

        public init(id: String, instance: String, heartbeat: Date, masterKeyID: String, storageCurrent: String, storageKnown: [String]) {
            self.id = id
            self.instance = instance
            self.heartbeat = heartbeat
            self.masterKeyID = masterKeyID
            self.storageCurrent = storageCurrent
            self.storageKnown = storageKnown
        }
    }

    /// Records that `run` is alive, with the keys it holds now.
    public func beat(_ run: Run, startedAt: Date) async throws {
        let known = run.storageKnown.sorted().joined(separator: ",")
        try await store.sql.raw("""
            INSERT INTO instance_runs (run_id, instance, started_ms, heartbeat_ms, master_key_id, storage_current, storage_known)
            VALUES (\(bind: run.id), \(bind: run.instance), \(bind: Keyring.milliseconds(startedAt)), \(bind: Keyring.milliseconds(run.heartbeat)),
                    \(bind: run.masterKeyID), \(bind: run.storageCurrent), \(bind: known))
            ON CONFLICT (run_id) DO UPDATE SET heartbeat_ms = \(bind: Keyring.milliseconds(run.heartbeat)),
                master_key_id = \(bind: run.masterKeyID), storage_current = \(bind: run.storageCurrent), storage_known = \(bind: known)
            """).run()
    }

    /// Runs heard from within `staleAfter` of `time`.
    public func live(at time: Date, staleAfter: TimeInterval) async throws -> [Run] {
        let since = Keyring.milliseconds(time.addingTimeInterval(-staleAfter))
        return try await store.sql.raw("""
            SELECT run_id, instance, heartbeat_ms, master_key_id, storage_current, storage_known FROM instance_runs
            WHERE heartbeat_ms >= \(bind: since) ORDER BY run_id
            """).all().map { row in
            Run(
                id: try row.decode(column: "run_id", as: String.self), instance: try row.decode(column: "instance", as: String.self),
                heartbeat: Date(timeIntervalSince1970: Double(try row.decode(column: "heartbeat_ms", as: Int64.self)) / 1000),
                masterKeyID: try row.decode(column: "master_key_id", as: String.self),
                storageCurrent: try row.decode(column: "storage_current", as: String.self),
                storageKnown: try row.decode(column: "storage_known", as: String.self).split(separator: ",").map(String.init))
        }
    }

    /// A run that stopped cleanly says so; a dead one just goes silent.
    public func remove(_ id: String) async throws {
        try await store.sql.raw("DELETE FROM instance_runs WHERE run_id = \(bind: id)").run()
    }

    /// Forgets runs silent for a day (their leases were taken back long ago).
    public func forgetSilent(at time: Date) async throws {
        try await store.sql.raw("DELETE FROM instance_runs WHERE heartbeat_ms < \(bind: Keyring.milliseconds(time.addingTimeInterval(-86_400)))").run()
    }
}
