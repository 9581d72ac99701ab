import CustosDomain
import Foundation
import Testing

/// `Timestamp.format` computes the calendar date by hand; it must agree with Foundation's calendar
/// for every instant Custos may meet, leap days and times before 1970 included.
@Suite struct TimestampTests {
    static func reference(_ date: Date) -> String {
        let totalMilliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded())
        let seconds = totalMilliseconds >= 0 ? totalMilliseconds / 1000 : (totalMilliseconds - 999) / 1000
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let p = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: Date(timeIntervalSince1970: TimeInterval(seconds)))
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", p.year!, p.month!, p.day!, p.hour!, p.minute!, p.second!, Int(totalMilliseconds - seconds * 1000))
    }

    @Test func knownInstants() {
        #expect(Timestamp.format(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00.000Z")
        #expect(Timestamp.format(Timestamp.parse("2024-02-29T23:59:59.999Z")!) == "2024-02-29T23:59:59.999Z")
        #expect(Timestamp.format(Date(timeIntervalSince1970: -0.001)) == "1969-12-31T23:59:59.999Z")
        #expect(Timestamp.format(Timestamp.parse("2000-03-01T00:00:00Z")!) == "2000-03-01T00:00:00.000Z")
    }

    @Test func agreesWithFoundationsCalendarAcrossCenturies() {
        var state: UInt64 = 0x5DEECE66D
        for _ in 0..<20_000 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            // from 1601 to 2400, to the millisecond
            let milliseconds = Int64(bitPattern: state >> 1) % (25_000_000_000_000) - 11_644_473_600_000
            let date = Date(timeIntervalSince1970: TimeInterval(milliseconds) / 1000)
            #expect(Timestamp.format(date) == Self.reference(date))
        }
    }
}
