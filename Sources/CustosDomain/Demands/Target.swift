import Foundation

/// How a demand identifies whose data it wants.
public enum TargetType: String, Codable, CaseIterable, Sendable {
    case accountID = "account_id"
    case email
    case tenantID = "tenant_id"
    case phone
    case ipAddress = "ip_address"
    case username
    case other
}

/// One selector named in the order. C6: collection is limited to what the order names.
public struct Target: Codable, Equatable, Hashable, Sendable {
    public var type: TargetType
    public var value: String
    /// For `ip_address`: the time range the address was in use; an IP alone identifies no one.
    public var range: DateWindow?

    public init(type: TargetType, value: String, range: DateWindow? = nil) {
        self.type = type
        self.value = value
        self.range = range
    }
}

/// A closed-open time window `[from, to)`.
public struct DateWindow: Codable, Equatable, Hashable, Sendable {
    public var from: Date
    public var to: Date

    public init(from: Date, to: Date) {
        self.from = from
        self.to = to
    }

    public func contains(_ date: Date) -> Bool { date >= from && date < to }
}
