import Foundation

/// Guessing passwords gets slower with every miss (issue 10): after `freeFailures` wrong passwords
/// in a row an account locks for 30 seconds, doubling with each further miss up to an hour. A
/// correct password (while not locked) resets the count.
public enum LoginThrottle {
    public static let freeFailures = 5
    public static let firstLock: TimeInterval = 30
    public static let longestLock: TimeInterval = 3600

    /// Until when an account with `failures` consecutive wrong passwords is locked, the last at `time`.
    public static func lockedUntil(failures: Int, lastFailureAt time: Date) -> Date? {
        guard failures >= freeFailures else { return nil }
        let doublings = min(failures - freeFailures, 20)
        return time.addingTimeInterval(min(longestLock, firstLock * pow(2, Double(doublings))))
    }
}
