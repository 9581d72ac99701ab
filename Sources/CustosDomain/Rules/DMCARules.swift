import Foundation

/// The DMCA rows of legal-rules.md §7 (17 U.S.C. § 512): takedown on a valid notice, restoration
/// after a counter-notice within a business-day window, and termination of repeat infringers.
/// The notice workflow that uses them is its own issue; the rules and their arithmetic live here,
/// in the rulebook, so a provider's file can state them like every other rule.
public struct DMCARules: Codable, Equatable, Sendable {
    public struct Row: Codable, Equatable, Sendable {
        public var id: String
        public var title: String
        public var citation: String
        public var confidence: Confidence
        public var explanation: String
    }

    /// One element a notice or counter-notice must substantially contain.
    public struct Element: Codable, Equatable, Sendable {
        public var id: String
        public var requirement: String
        public var citation: String
        /// § 512(c)(3)(B)(ii): a notice with elements (ii)–(iv) is curable; the provider must contact the sender.
        public var curableWithout: Bool?
    }

    /// § 512(g)(2)(C): restore "not less than 10, nor more than 14, business days following receipt".
    public struct RestoreWindow: Codable, Equatable, Sendable {
        public var fromBusinessDays: Int
        public var toBusinessDays: Int
        public var calendar: String
        public var citation: String
    }

    public var rows: [Row]
    public var noticeElements: [Element]
    public var counterNoticeElements: [Element]
    public var restoreWindow: RestoreWindow
}

extension Rulebook {
    /// When material taken down may, and must, be restored after a valid counter-notice: from the
    /// start of the 10th business day after receipt to the end of the 14th (weekends and the
    /// calendar's holidays excluded), unless the complainant first reports a lawsuit.
    public func restoreWindow(afterCounterNoticeAt receipt: Date) -> (earliest: Date, latest: Date, covered: Bool)? {
        guard let window = dmca?.restoreWindow else { return nil }
        let calendar = resolvedCalendar(window.calendar)
        var day = calendar.day(of: receipt)
        var counted = 0
        var earliest: Date?
        while counted < window.toBusinessDays {
            day = calendar.adding(1, to: day)
            if calendar.isWorkingDay(day) {
                counted += 1
                if counted == window.fromBusinessDays { earliest = calendar.start(of: day) }
            }
        }
        return (earliest ?? calendar.start(of: day), calendar.start(of: calendar.adding(1, to: day)), calendar.covers(day))
    }
}
