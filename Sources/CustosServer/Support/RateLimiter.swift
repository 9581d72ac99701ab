import CustosStorage
import Foundation

/// A limit per client address for what needs no account (sign-in attempts, public copyright
/// forms), counted in the database so every instance of the installation counts against the
/// same limit and a restart resets nothing (issue 28).
public struct RateLimiter: Sendable {
    let counters: RateCounters
    /// Names the limit in its counters' keys (`sign-in`, `public-form`).
    let name: String
    let limit: Int
    let window: TimeInterval

    public init(counters: RateCounters, name: String, limit: Int, window: TimeInterval) {
        self.counters = counters
        self.name = name
        self.limit = limit
        self.window = window
    }

    /// Counts a request; returns the seconds to wait when the key is over its limit, else nil.
    public func admit(_ key: String, at time: Date) async throws -> Int? {
        try await counters.admit("\(name):\(key)", limit: limit, window: window, at: time)
    }
}
