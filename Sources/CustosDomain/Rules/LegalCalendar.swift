import Foundation

public enum Weekday: String, Codable, CaseIterable, Sendable {
    case sunday, monday, tuesday, wednesday, thursday, friday, saturday

    /// Foundation's numbering: 1 is Sunday.
    var calendarWeekday: Int { Weekday.allCases.firstIndex(of: self)! + 1 }
}

/// A jurisdiction's calendar as the rulebook file states it.
public struct LegalCalendarSpec: Codable, Equatable, Sendable {
    /// IANA time zone in which the jurisdiction's days begin and end, e.g. `Europe/Berlin`.
    public var timeZone: String
    /// Another calendar whose holidays (and weekend, unless given) this one shares, e.g. `US-CA` inherits `US`.
    public var inherits: String?
    public var weekend: [Weekday]?
    /// Public holidays as local dates (`2026-12-25`).
    public var holidays: [String]?
    /// The first and last dates the holiday list is complete for; deadlines outside are flagged for a manual check.
    public var coveredFrom: String?
    public var coveredThrough: String?
    public var citation: String?

    public init(
        timeZone: String, inherits: String? = nil, weekend: [Weekday]? = nil, holidays: [String]? = nil,
        coveredFrom: String? = nil, coveredThrough: String? = nil, citation: String? = nil
    ) {
        self.coveredFrom = coveredFrom
        self.timeZone = timeZone
        self.inherits = inherits
        self.weekend = weekend
        self.holidays = holidays
        self.coveredThrough = coveredThrough
        self.citation = citation
    }
}

/// A calendar day, independent of time zone, as `yyyymmdd`; cheap to compare and hash.
struct LocalDay: Hashable, Comparable, Sendable {
    var year: Int
    var month: Int
    var day: Int

    static func < (lhs: LocalDay, rhs: LocalDay) -> Bool {
        (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day)
    }

    /// Parses `2026-12-25`.
    init?(_ text: String) {
        let parts = text.split(separator: "-")
        guard text.count == 10, parts.count == 3, let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2]),
            (1...12).contains(m), (1...31).contains(d)
        else { return nil }
        self.init(year: y, month: m, day: d)
    }

    init(year: Int, month: Int, day: Int) {
        self.year = year
        self.month = month
        self.day = day
    }

    var text: String { String(format: "%04d-%02d-%02d", year, month, day) }
}

/// A resolved calendar: days begin at local midnight in `timeZone`, so deadlines stay right
/// across daylight-saving changes; weekends and public holidays are not working days.
///
/// Written by hand: Foundation's `Calendar` does the date arithmetic, but no available package
/// carries legal holidays or the counting rules of legal-rules.md §9.
public struct LegalCalendar: Sendable {
    public let id: String
    public let timeZone: TimeZone
    let calendar: Calendar
    let weekend: Set<Int>
    let holidays: Set<LocalDay>
    let coveredFrom: LocalDay?
    let coveredThrough: LocalDay?

    init(id: String, timeZone: TimeZone, weekend: [Weekday], holidays: Set<LocalDay>, coveredFrom: LocalDay?, coveredThrough: LocalDay?) {
        self.coveredFrom = coveredFrom
        self.id = id
        self.timeZone = timeZone
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        self.calendar = calendar
        self.weekend = Set(weekend.map(\.calendarWeekday))
        self.holidays = holidays
        self.coveredThrough = coveredThrough
    }

    /// A calendar with no holidays, for jurisdictions the rulebook does not describe.
    static func plain(id: String, timeZone: TimeZone = TimeZone(identifier: "UTC")!) -> LegalCalendar {
        LegalCalendar(id: id, timeZone: timeZone, weekend: [.saturday, .sunday], holidays: [], coveredFrom: nil, coveredThrough: nil)
    }

    func day(of date: Date) -> LocalDay {
        let parts = calendar.dateComponents([.year, .month, .day], from: date)
        return LocalDay(year: parts.year!, month: parts.month!, day: parts.day!)
    }

    /// The instant the local day begins (local midnight, whatever the UTC offset that day).
    func start(of day: LocalDay) -> Date {
        calendar.date(from: DateComponents(year: day.year, month: day.month, day: day.day))!
    }

    func adding(_ days: Int, to day: LocalDay) -> LocalDay {
        let noon = calendar.date(from: DateComponents(year: day.year, month: day.month, day: day.day, hour: 12))!
        return self.day(of: calendar.date(byAdding: .day, value: days, to: noon)!)
    }

    func isWorkingDay(_ day: LocalDay) -> Bool {
        if holidays.contains(day) { return false }
        let noon = calendar.date(from: DateComponents(year: day.year, month: day.month, day: day.day, hour: 12))!
        return !weekend.contains(calendar.component(.weekday, from: noon))
    }

    /// The first working day on or after `day`.
    func workingDay(onOrAfter day: LocalDay) -> LocalDay {
        var current = day
        while !isWorkingDay(current) { current = adding(1, to: current) }
        return current
    }

    /// Whether the holiday list is known to be complete through `day`; a calendar without a
    /// stated coverage is never trusted for day counts.
    func covers(_ day: LocalDay) -> Bool {
        guard let coveredFrom, let coveredThrough else { return false }
        return coveredFrom <= day && day <= coveredThrough
    }

    /// The local wall-clock rendering of an instant, e.g. `2026-05-15T00:00:00+02:00`.
    public func localTime(_ date: Date) -> String {
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        let offset = timeZone.secondsFromGMT(for: date)
        let sign = offset < 0 ? "-" : "+"
        let minutes = abs(offset) / 60
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d%@%02d:%02d", parts.year!, parts.month!, parts.day!, parts.hour!,
            parts.minute!, parts.second!, sign, minutes / 60, minutes % 60)
    }

    /// Computes when a period ends (legal-rules.md §9), counted from `receipt`.
    ///
    /// - Returns: the instant the period expires and whether every day it depends on lies inside
    ///   the calendar's known holidays.
    public func deadline(from receipt: Date, amount: Int, unit: PeriodUnit, regime: CountingRegime) -> (due: Date, covered: Bool) {
        let receiptDay = day(of: receipt)
        switch (unit, regime) {
        case (.hours, .elapsed), (.hours, .duration):
            return (receipt.addingTimeInterval(TimeInterval(amount) * 3600), true)
        case (.hours, .eu1182):
            // Art. 3(1): the hour in which the event occurs is not counted; the period starts at the next hour.
            let nextHour = calendar.dateInterval(of: .hour, for: receipt)!.end
            return (nextHour.addingTimeInterval(TimeInterval(amount) * 3600), true)
        case (.hours, .usFRCP):
            // Rule 6(a)(2): count every hour; if the period ends on a weekend or legal holiday it runs
            // to the same time on the next day that is not.
            var due = receipt.addingTimeInterval(TimeInterval(amount) * 3600)
            let endDay = day(of: due)
            let working = workingDay(onOrAfter: endDay)
            if working != endDay {
                let offset = due.timeIntervalSince(start(of: endDay))
                due = start(of: working).addingTimeInterval(offset)
            }
            return (due, covers(working))
        case (.calendarDays, .elapsed):
            return (calendar.date(byAdding: .day, value: amount, to: receipt)!, true)
        case (.calendarDays, .duration):
            let last = adding(amount, to: receiptDay)
            return (start(of: adding(1, to: last)), true)
        case (.calendarDays, .eu1182), (.calendarDays, .usFRCP):
            // Exclude the day of the event, count every day, and end with the last day, moved to the
            // next working day when it is a Saturday, Sunday or public holiday.
            let last = workingDay(onOrAfter: adding(amount, to: receiptDay))
            return (start(of: adding(1, to: last)), covers(last))
        case (.businessDays, _):
            var current = receiptDay
            var counted = 0
            while counted < amount {
                current = adding(1, to: current)
                if isWorkingDay(current) { counted += 1 }
            }
            return (start(of: adding(1, to: current)), covers(current))
        }
    }
}
