import Foundation

/// The common entry encoding of tlog.md §6.3 (`lplog/v1`, and our `custos-audit/v1`): a header line
/// `<namespace>/v1 <type>`, then `key value` lines in a fixed order, each ending in LF. Values are
/// ASCII tokens or base64; nothing free-form. An entry is canonical when parsing and serialising
/// it gives back the same bytes, and only canonical entries are accepted.
public struct LogEntry: Equatable, Sendable {
    public var header: String
    public var lines: [(key: String, value: String)]

    public init(header: String, lines: [(key: String, value: String)]) {
        self.header = header
        self.lines = lines
    }

    public static func == (lhs: LogEntry, rhs: LogEntry) -> Bool { lhs.bytes == rhs.bytes }

    public var bytes: Data {
        Data((([header] + lines.map { $0.value.isEmpty ? $0.key : "\($0.key) \($0.value)" }).joined(separator: "\n") + "\n").utf8)
    }

    public func value(_ key: String) -> String? { lines.first { $0.key == key }?.value }
    public func values(_ key: String) -> [String] { lines.filter { $0.key == key }.map(\.value) }

    public enum ParseError: Error, Equatable, Sendable, CustomStringConvertible {
        case malformed(String)
        public var description: String {
            switch self { case .malformed(let why): "not a canonical log entry: \(why)" }
        }
    }

    /// Parses and checks the charset: printable ASCII, single spaces, LF line ends.
    public init(parsing data: Data) throws(ParseError) {
        guard data.last == 0x0A else { throw .malformed("does not end in a newline") }
        guard data.allSatisfy({ ($0 >= 0x20 && $0 < 0x7F) || $0 == 0x0A }) else { throw .malformed("non-ASCII or control characters") }
        let text = String(decoding: data.dropLast(), as: UTF8.self)
        var rows = text.split(separator: "\n", omittingEmptySubsequences: false)
        let header = String(rows.removeFirst())
        var lines: [(String, String)] = []
        for row in rows {
            guard !row.isEmpty, !row.hasSuffix(" "), !row.contains("  ") else { throw .malformed("blank line or stray spaces") }
            let parts = row.split(separator: " ", maxSplits: 1)
            lines.append((String(parts[0]), parts.count == 2 ? String(parts[1]) : ""))
        }
        self.init(header: header, lines: lines)
        guard bytes == data else { throw .malformed("not canonical") }
    }

    /// The keys in order, for checking an entry type's fixed schema.
    public var keys: [String] { lines.map(\.key) }
}
