import Foundation

extension AuditRecord {
    /// The record in Custos's canonical JSON dialect (`CustosJSON`): keys in UTF-8 byte order,
    /// optional fields left out when nil, slashes unescaped, timestamps as `Timestamp.format`.
    ///
    /// Written by hand because every audit append encodes its record, and Foundation's
    /// `JSONEncoder` (reflection through `Encodable`, boxed containers, a sort per object) was the
    /// largest single cost of an append. The output is pinned byte for byte to `JSONEncoder`'s by
    /// `AuditRecordCanonicalJSONTests`, since stored chains and leaves hash these bytes.
    public func canonicalJSON() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256 + subject.utf8.count + actor.utf8.count)
        // Sorted keys: action < actor < at < caseID < details < outcome < subject.
        out.append(contentsOf: #"{"action":"#.utf8)
        CanonicalJSONWriter.appendString(action, to: &out)
        out.append(contentsOf: #","actor":"#.utf8)
        CanonicalJSONWriter.appendString(actor, to: &out)
        out.append(contentsOf: #","at":""#.utf8)
        Timestamp.append(at, to: &out)
        out.append(UInt8(ascii: "\""))
        if let caseID {
            out.append(contentsOf: #","caseID":""#.utf8)
            CanonicalJSONWriter.appendUUID(caseID, to: &out)
            out.append(UInt8(ascii: "\""))
        }
        out.append(contentsOf: #","details":{"#.utf8)
        var first = true
        for (key, value) in details.sorted(by: { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }) {
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            CanonicalJSONWriter.appendString(key, to: &out)
            out.append(UInt8(ascii: ":"))
            CanonicalJSONWriter.appendString(value, to: &out)
        }
        out.append(contentsOf: #"},"outcome":"#.utf8)
        CanonicalJSONWriter.appendString(outcome.rawValue, to: &out)
        out.append(contentsOf: #","subject":"#.utf8)
        CanonicalJSONWriter.appendString(subject, to: &out)
        out.append(UInt8(ascii: "}"))
        return out
    }
}

/// JSON string escaping exactly as Foundation's `JSONEncoder` does it with `.withoutEscapingSlashes`:
/// `"` and `\` escaped, the control characters below U+0020 as `\b \t \n \f \r` or `\u00xx`
/// (lower-case hex), everything else (DEL and all non-ASCII included) copied as UTF-8.
enum CanonicalJSONWriter {
    private static let hexDigits = Array("0123456789abcdef".utf8)

    static func appendString(_ string: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var string = string
        string.withUTF8 { appendEscaped($0, to: &out) }
        out.append(UInt8(ascii: "\""))
    }

    /// Copies runs that need no escaping in one go; most audit strings are one such run.
    private static func appendEscaped(_ bytes: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        var runStart = 0
        for (index, byte) in bytes.enumerated() where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<index]))
            runStart = index + 1
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0x08: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "b")])
            case 0x09: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0x0A: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0C: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "f")])
            case 0x0D: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            default:
                out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0")])
                out.append(hexDigits[Int(byte >> 4)])
                out.append(hexDigits[Int(byte & 0x0F)])
            }
        }
        out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart...]))
    }

    private static let upperHexDigits = Array("0123456789ABCDEF".utf8)

    /// `uuid.uuidString` (upper case, 8-4-4-4-12), without Foundation's formatter.
    static func appendUUID(_ uuid: UUID, to out: inout [UInt8]) {
        withUnsafeBytes(of: uuid.uuid) { bytes in
            for (index, byte) in bytes.enumerated() {
                if index == 4 || index == 6 || index == 8 || index == 10 { out.append(UInt8(ascii: "-")) }
                out.append(upperHexDigits[Int(byte >> 4)])
                out.append(upperHexDigits[Int(byte & 0x0F)])
            }
        }
    }
}
