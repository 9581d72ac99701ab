import Foundation

/// Where an agency user stands as a requester (issue 8). Set by staff, with a reason, and kept
/// with its history: a requester is trusted because someone checked, not because it signed up.
public enum RequesterStanding: String, Codable, CaseIterable, Sendable {
    /// Registered, not yet approved by staff: cannot submit.
    case pending
    /// Checked and trusted.
    case active
    /// May submit, but its demands carry a red flag until staff have checked it.
    case unverified
    /// Temporarily barred (a suspected takeover, a dispute).
    case suspended
    /// Known to be fraudulent or compromised: barred, and shared on the blocklist feed.
    case blocklisted

    /// Why a demand from a requester in this standing is refused, or nil when it may submit.
    /// An emergency request needs an active requester with the emergency permission as well
    /// (legal-rules.md §6.3 E1: emergencies only from verified agency accounts).
    public func refusal(emergency: Bool, mayRequestEmergency: Bool) -> String? {
        switch self {
        case .pending: return "your account waits for approval by the provider's staff; demands can be submitted once it is approved"
        case .suspended: return "your account is suspended; contact the provider's legal team by the channel you know"
        case .blocklisted: return "your account may not submit demands"
        case .active, .unverified:
            guard emergency else { return nil }
            if self != .active { return "emergency requests are accepted only from verified requesters" }
            if !mayRequestEmergency { return "your account is not permitted to submit emergency requests; your agency's administrator can ask the provider to allow it" }
            return nil
        }
    }
}

/// One change of a requester's standing or emergency permission, with who decided it and why.
public struct StandingChange: Codable, Equatable, Sendable {
    public var standing: RequesterStanding
    public var mayRequestEmergency: Bool
    public var reason: String
    public var by: String
    public var at: Date

    public init(standing: RequesterStanding, mayRequestEmergency: Bool, reason: String, by: String, at: Date) {
        self.standing = standing
        self.mayRequestEmergency = mayRequestEmergency
        self.reason = reason
        self.by = by
        self.at = at
    }
}

/// A requester's current standing and everything that led to it.
public struct RequesterStatus: Equatable, Sendable {
    public var standing: RequesterStanding
    public var mayRequestEmergency: Bool
    /// Oldest first.
    public var history: [StandingChange]

    public init(standing: RequesterStanding, mayRequestEmergency: Bool, history: [StandingChange]) {
        self.standing = standing
        self.mayRequestEmergency = mayRequestEmergency
        self.history = history
    }
}
