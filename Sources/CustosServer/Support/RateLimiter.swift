import Foundation

/// A sliding-window limit per key (the client's address) for public forms that need no account:
/// copyright notices (issue 9). Kept in memory: it resets when the server restarts, which is
/// acceptable for a limit against floods, not a security boundary. Written by hand: no rate-limit
/// package is among those available to Custos.
public actor RateLimiter {
    let limit: Int
    let window: TimeInterval
    var hits: [String: [Date]] = [:]

    public init(limit: Int, window: TimeInterval) {
        self.limit = limit
        self.window = window
    }

    /// Counts a request; returns the seconds to wait when the key is over its limit, else nil.
    public func admit(_ key: String, at time: Date) -> Int? {
        var recent = (hits[key] ?? []).filter { time.timeIntervalSince($0) < window }
        if recent.count >= limit {
            hits[key] = recent
            return max(1, Int((window - time.timeIntervalSince(recent[0])).rounded(.up)))
        }
        recent.append(time)
        hits[key] = recent
        if hits.count > 10_000 { hits = hits.filter { !$0.value.isEmpty && time.timeIntervalSince($0.value.last!) < window } }
        return nil
    }
}
