import Foundation

/// Standard, padded base64 (RFC 4648 §4) that refuses anything Go's `StdEncoding` would refuse:
/// Foundation's decoder tolerates some non-canonical input, so the decoded bytes are re-encoded
/// and compared (tlog.md §8).
public enum StrictBase64 {
    public static func decode(_ text: some StringProtocol) -> Data? {
        guard let data = Data(base64Encoded: String(text)), data.base64EncodedString() == text else { return nil }
        return data
    }

    /// A 32-byte hash, or nil.
    public static func hash(_ text: some StringProtocol) -> Data? {
        guard let data = decode(text), data.count == 32 else { return nil }
        return data
    }
}

/// Strict ASCII decimal for sizes and indices: no sign, no leading zeros, no overflow (tlog.md §8).
public enum StrictDecimal {
    public static func parse(_ text: some StringProtocol) -> UInt64? {
        guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        if text.count > 1 && text.first == "0" { return nil }
        return UInt64(text)
    }
}
