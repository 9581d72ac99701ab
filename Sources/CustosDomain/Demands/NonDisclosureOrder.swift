import Foundation

/// A gag order attached to a demand: it bars the customer notice of C5 until it lapses.
public struct NonDisclosureOrder: Codable, Equatable, Hashable, Sendable {
    /// The statute or decision it rests on, e.g. "18 U.S.C. § 2705(b)".
    public var basis: String
    /// Last day of the bar (UTC, inclusive); nil when `isIndefinite`.
    public var until: Date?
    public var isIndefinite: Bool

    public init(basis: String, until: Date?, isIndefinite: Bool) {
        self.basis = basis
        self.until = until
        self.isIndefinite = isIndefinite
    }

    /// Whether the order still bars notice at `time`. A dated order lapses at the end of its last day.
    public func isInForce(at time: Date) -> Bool {
        if isIndefinite { return true }
        guard let until else { return false }
        return time < until.addingTimeInterval(24 * 3600)
    }
}
