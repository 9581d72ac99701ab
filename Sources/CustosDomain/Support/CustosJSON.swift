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
    /// The calendar date comes from integer arithmetic (the proleptic Gregorian days-to-civil
    /// conversion of Howard Hinnant's public-domain "chrono-compatible low-level date algorithms"):
    /// a package build formats a time per record, where Calendar plus String(format:) was a tenth
    /// of the time.
    public static func format(_ date: Date) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(24)
        append(date, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends `format(date)`'s UTF-8 bytes (the audit append path writes one per record).
    public static func append(_ date: Date, to out: inout [UInt8]) {
        let totalMilliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded())
        let seconds = totalMilliseconds >= 0 ? totalMilliseconds / 1000 : (totalMilliseconds - 999) / 1000
        let milliseconds = Int(totalMilliseconds - seconds * 1000)
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = Int(seconds - days * 86_400)
        let (year, month, day) = civil(daysSinceEpoch: days)
        /// Zero-padded to `width` digits (more when the value needs them), a minus sign first.
        func digits(_ value: Int64, _ width: Int) {
            if value < 0 { out.append(UInt8(ascii: "-")) }
            var magnitude = value.magnitude
            var reversed: [UInt8] = []
            repeat {
                reversed.append(UInt8(ascii: "0") + UInt8(magnitude % 10))
                magnitude /= 10
            } while magnitude > 0
            if reversed.count < width { out.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: width - reversed.count)) }
            out.append(contentsOf: reversed.reversed())
        }
        /// Two digits of a value in 0...99 without allocating.
        func two(_ value: Int) {
            out.append(UInt8(ascii: "0") + UInt8(value / 10))
            out.append(UInt8(ascii: "0") + UInt8(value % 10))
        }
        if (0...9999).contains(year) {
            two(Int(year / 100))
            two(Int(year % 100))
        } else {
            digits(year, 4)
        }
        out.append(UInt8(ascii: "-"))
        two(month)
        out.append(UInt8(ascii: "-"))
        two(day)
        out.append(UInt8(ascii: "T"))
        two(secondOfDay / 3600)
        out.append(UInt8(ascii: ":"))
        two(secondOfDay / 60 % 60)
        out.append(UInt8(ascii: ":"))
        two(secondOfDay % 60)
        out.append(UInt8(ascii: "."))
        out.append(UInt8(ascii: "0") + UInt8(milliseconds / 100))
        two(milliseconds % 100)
        out.append(UInt8(ascii: "Z"))
    }

    /// Year, month, day of the proleptic Gregorian calendar for days since 1970-01-01.
    static func civil(daysSinceEpoch: Int64) -> (year: Int64, month: Int, day: Int) {
        let z = daysSinceEpoch + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097  // [0, 146096]
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365  // [0, 399]
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)  // [0, 365], from 1 March
        let shiftedMonth = (5 * dayOfYear + 2) / 153  // [0, 11], March = 0
        let day = Int(dayOfYear - (153 * shiftedMonth + 2) / 5 + 1)
        let month = Int(shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9)
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
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
