import Foundation

/// Lower-case hexadecimal, as every hash Custos stores and publishes is written. One table lookup
/// per nibble: a package build encodes a SHA-256 per record, where `String(format:)` per byte was
/// a measurable share of the time.
public enum Hex {
    private static let digits = Array("0123456789abcdef".utf8)

    public static func encode(_ bytes: some Sequence<UInt8>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.underestimatedCount * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The bytes of `text`, or nil when it is not an even number of hex digits.
    public static func decode(_ text: String) -> Data? {
        decode(utf8: Array(text.utf8)).map { Data($0) }
    }

    /// The bytes of hex digits given as UTF-8, or nil when they are not an even number of hex
    /// digits. Filled as an array: appending to Data byte by byte cost more than the hashing it
    /// feeds (log verification decodes every stored leaf hash).
    public static func decode(utf8: [UInt8]) -> [UInt8]? {
        guard utf8.count.isMultiple(of: 2) else { return nil }
        func value(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        var bytes = [UInt8](repeating: 0, count: utf8.count / 2)
        for index in bytes.indices {
            guard let high = value(utf8[2 * index]), let low = value(utf8[2 * index + 1]) else { return nil }
            bytes[index] = high << 4 | low
        }
        return bytes
    }
}
