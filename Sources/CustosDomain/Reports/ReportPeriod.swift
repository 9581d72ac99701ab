import Foundation

/// A reporting period: a half-year (`2026-H1`, `2026-H2`, the period every report in the field
/// uses, report-formats.md §1.1, §2) or any range of whole UTC days (`2026-01-01..2026-03-31`,
/// both days included).
public struct ReportPeriod: Equatable, Hashable, Sendable, CustomStringConvertible {
    /// The first instant inside the period.
    public let start: Date
    /// The first instant after it.
    public let end: Date
    /// As written: `2026-H1` or `2026-01-01..2026-03-31`.
    public let description: String

    public enum ParseError: Error, Equatable, CustomStringConvertible {
        case malformed(String)
        case empty(String)

        public var description: String {
            switch self {
            case .malformed(let text): "\"\(text)\" is not a period: use YYYY-H1, YYYY-H2 or FROM..TO with dates like 2026-01-01..2026-03-31"
            case .empty(let text): "\"\(text)\" ends before it starts"
            }
        }
    }

    public init(parsing text: String) throws(ParseError) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let parts = trimmed.components(separatedBy: "..")
        if parts.count == 2 {
            guard let from = Timestamp.parseDay(parts[0]), let to = Timestamp.parseDay(parts[1]) else { throw .malformed(text) }
            guard to >= from else { throw .empty(text) }
            self.init(start: from, end: to.addingTimeInterval(86_400), description: trimmed)
            return
        }
        let half = trimmed.split(separator: "-")
        guard half.count == 2, half[0].count == 4, let year = Int(half[0]), (1970...9999).contains(year), half[1] == "H1" || half[1] == "H2",
            let january = Timestamp.parseDay(String(format: "%04d-01-01", year)), let july = Timestamp.parseDay(String(format: "%04d-07-01", year)),
            let next = Timestamp.parseDay(String(format: "%04d-01-01", year + 1))
        else { throw .malformed(text) }
        self.init(start: half[1] == "H1" ? january : july, end: half[1] == "H1" ? july : next, description: trimmed)
    }

    init(start: Date, end: Date, description: String) {
        self.start = start
        self.end = end
        self.description = description
    }

    public func contains(_ date: Date) -> Bool { date >= start && date < end }

    /// The last day inside the period (`2026-06-30`), as Google's `Period Ending` writes it.
    public var lastDay: String { Timestamp.formatDay(end.addingTimeInterval(-86_400)) }

    /// `2026-01-01/2026-06-30`, the DSA templates' `Reporting period` (report-formats.md §6).
    public var dsaRange: String { Timestamp.formatDay(start) + "/" + lastDay }

    /// The half-year a moment falls in (UTC).
    public static func halfYear(containing date: Date) -> ReportPeriod {
        let day = Timestamp.formatDay(date)
        let year = Int(day.prefix(4)) ?? 1970
        let month = Int(day.dropFirst(5).prefix(2)) ?? 1
        return try! ReportPeriod(parsing: "\(year)-\(month <= 6 ? "H1" : "H2")")
    }

    /// The `count` half-years ending with this one's, oldest first.
    public func halfYears(endingHere count: Int) -> [ReportPeriod] {
        var periods = [Self.halfYear(containing: end.addingTimeInterval(-1))]
        while periods.count < count, periods[0].start.timeIntervalSince1970 > 0 {
            periods.insert(Self.halfYear(containing: periods[0].start.addingTimeInterval(-1)), at: 0)
        }
        return periods
    }
}
