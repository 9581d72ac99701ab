import Foundation
import SQLKit

/// Request counts per client and fixed window, in the database so that every instance counts
/// against one limit (issue 28: N instances with counters in memory allowed N times the
/// sign-ins). Written by hand: no rate-limit package is among those available to Custos.
public struct RateCounters: Sendable {
    let store: CustosDatabase
    public init(store: CustosDatabase) { self.store = store }

    /// Counts one hit of `bucket` in the window of `window` seconds that holds `time`; returns the
    /// seconds to wait when this hit is over `limit`, else nil. Fixed windows: at a window's edge a
    /// client may get up to twice the limit in one window's length, which a flood limit tolerates.
    public func admit(_ bucket: String, limit: Int, window: TimeInterval, at time: Date) async throws -> Int? {
        let windowMS = Int64(window * 1000)
        let start = Keyring.milliseconds(time) / windowMS * windowMS
        let rows = try await store.sql.raw("""
            INSERT INTO rate_counters (bucket, window_ms, hits) VALUES (\(bind: bucket), \(bind: start), 1)
            ON CONFLICT (bucket, window_ms) DO UPDATE SET hits = rate_counters.hits + 1 RETURNING hits
            """).all()
        let hits = try rows.first?.decode(column: "hits", as: Int64.self) ?? 1
        if hits % 1000 == 1 {
            // Now and then, forget windows long past.
            try await store.sql.raw("DELETE FROM rate_counters WHERE window_ms < \(bind: start - 2 * windowMS)").run()
        }
        guard hits > Int64(limit) else { return nil }
        let end = Double(start + windowMS) / 1000
        return max(1, Int((end - time.timeIntervalSince1970).rounded(.up)))
    }
}
