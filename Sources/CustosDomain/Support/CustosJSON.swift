import Foundation

/// The one JSON dialect Custos stores and speaks: sorted keys, ISO 8601 UTC timestamps with
/// millisecond precision, so a value written to storage and read back compares equal and hashes
/// to the same bytes.
public enum CustosJSON {
    public static func makeEncoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(Timestamp.format(date))
        }
        return encoder
    }

    public static func makeDecoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            guard let date = Timestamp.parse(text) else {
                throw DecodingError.dataCorruptedError(
                    in: container,
                    debugDescription: "expected an ISO 8601 timestamp such as 2026-05-04T09:00:00Z, got \"\(text)\""
                )
            }
            return date
        }
        return decoder
    }

    /// Encodes a value to a UTF-8 string in the canonical dialect.
    public static func string(_ value: some Encodable) throws -> String {
        String(decoding: try makeEncoder().encode(value), as: UTF8.self)
    }

    public static func decode<T: Decodable>(_ type: T.Type, from text: String) throws -> T {
        try makeDecoder().decode(type, from: Data(text.utf8))
    }
}

/// Parsing and printing of UTC timestamps (RFC 3339 / ISO 8601).
public enum Timestamp {
    /// `2026-05-04T09:00:00.000Z`. Built by hand from whole milliseconds because Foundation's
    /// formatter truncates binary fractions (…0.123 printed as …0.122), which would break hashing.
    public static func format(_ date: Date) -> String {
        let totalMilliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded())
        let seconds = totalMilliseconds >= 0 ? totalMilliseconds / 1000 : (totalMilliseconds - 999) / 1000
        let milliseconds = totalMilliseconds - seconds * 1000
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: Date(timeIntervalSince1970: TimeInterval(seconds)))
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", parts.year!, parts.month!, parts.day!, parts.hour!, parts.minute!, parts.second!,
            Int(milliseconds))
    }

    /// Accepts `2026-05-04T09:00:00Z`, with or without fractional seconds, and with a numeric offset.
    /// The result is rounded to whole milliseconds, the precision Custos stores.
    public static func parse(_ text: String) -> Date? {
        let parsed = (try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true))) ?? (try? Date(text, strategy: .iso8601))
        return parsed.map { Date(timeIntervalSince1970: ($0.timeIntervalSince1970 * 1000).rounded() / 1000) }
    }

    /// Parses a calendar date (`2027-05-04`) as the start of that day in UTC.
    public static func parseDay(_ text: String) -> Date? {
        guard text.count == 10 else { return nil }
        return try? Date(text + "T00:00:00Z", strategy: .iso8601)
    }

    public static func formatDay(_ date: Date) -> String {
        String(format(date).prefix(10))
    }

    /// Drops sub-millisecond precision so a time survives every storage engine unchanged.
    public static func truncatedToMilliseconds(_ date: Date) -> Date {
        Date(timeIntervalSince1970: (date.timeIntervalSince1970 * 1000).rounded() / 1000)
    }
}
