import Foundation
import SQLKit

/// Named leases for the periodic work that must run once per period across the installation
/// (audit checkpoints, legal-process batches, the canary, notice release, retention, copyright
/// ticks): one holder at a time, renewed while it works, taken over by another run once it
/// expires (its holder died). On one server it is simply always granted.
public struct Leases: Sendable {
    let store: CustosDatabase
    public init(store: CustosDatabase) { self.store = store }

    /// Takes or renews `name` for `holder` until `time + duration`; false when another holder's
    /// lease is still running. One statement each way, so two runs asking at once cannot both win.
    public func acquire(_ name: String, holder: String, at time: Date, for duration: TimeInterval) async throws -> Bool {
        let now = Keyring.milliseconds(time), until = Keyring.milliseconds(time.addingTimeInterval(duration))
        let taken = try await store.sql.raw("""
            UPDATE leases SET holder = \(bind: holder), expires_ms = \(bind: until)
            WHERE name = \(bind: name) AND (holder = \(bind: holder) OR expires_ms < \(bind: now)) RETURNING name
            """).all()
        if !taken.isEmpty { return true }
        let inserted = try await store.sql.raw("""
            INSERT INTO leases (name, holder, expires_ms) VALUES (\(bind: name), \(bind: holder), \(bind: until))
            ON CONFLICT (name) DO NOTHING RETURNING name
            """).all()
        return !inserted.isEmpty
    }

    /// Gives `name` up early (a clean shutdown), so another run takes it without waiting.
    public func release(_ name: String, holder: String) async throws {
        try await store.sql.raw("DELETE FROM leases WHERE name = \(bind: name) AND holder = \(bind: holder)").run()
    }

    /// The holder of `name` while its lease runs, else nil.
    public func holder(of name: String, at time: Date) async throws -> String? {
        try await store.sql.raw("SELECT holder FROM leases WHERE name = \(bind: name) AND expires_ms >= \(bind: Keyring.milliseconds(time))").first()?
            .decode(column: "holder", as: String.self)
    }
}
