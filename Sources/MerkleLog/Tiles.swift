import Foundation

/// Paths and shapes of c2sp.org/tlog-tiles: tiles of 256 hashes, level L holding the hashes of
/// the perfect subtrees of height 8L, the index written in 3-digit groups (`x001/x234/067`).
public enum Tiles {
    public static let width: UInt64 = 256
    public static let levelHeight = 8

    /// `1234067` → `x001/x234/067`.
    public static func encode(index: UInt64) -> String {
        var groups: [String] = []
        var n = index
        repeat {
            let group = String(n % 1000)
            groups.append(String(repeating: "0", count: 3 - group.count) + group)
            n /= 1000
        } while n > 0
        return groups.reversed().enumerated().map { $0.offset == groups.count - 1 ? $0.element : "x" + $0.element }.joined(separator: "/")
    }

    public static func path(level: Int, index: UInt64, width: Int? = nil) -> String {
        "tile/\(level)/\(encode(index: index))" + (width.map { ".p/\($0)" } ?? "")
    }

    public static func entriesPath(index: UInt64, width: Int? = nil) -> String {
        "tile/entries/\(encode(index: index))" + (width.map { ".p/\($0)" } ?? "")
    }

    /// A tile request: level (nil for an entry bundle), tile index and partial width.
    public struct Request: Equatable, Sendable {
        public var level: Int?
        public var index: UInt64
        public var partialWidth: Int?

        public init(level: Int?, index: UInt64, partialWidth: Int?) {
            self.level = level
            self.index = index
            self.partialWidth = partialWidth
        }
    }

    /// Parses the part after `tile/`, e.g. `0/x001/x234/067.p/12` or `entries/000`.
    public static func parse(_ path: String) -> Request? {
        var parts = path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.count >= 2 else { return nil }
        let levelPart = parts.removeFirst()
        let level: Int?
        if levelPart == "entries" {
            level = nil
        } else {
            guard let l = StrictDecimal.parse(levelPart), l <= 63 else { return nil }
            level = Int(l)
        }
        var width: Int?
        if parts.count >= 2, parts[parts.count - 2].hasSuffix(".p") {
            guard let w = StrictDecimal.parse(parts[parts.count - 1]), w >= 1, w <= 255 else { return nil }
            width = Int(w)
            parts.removeLast()
            parts[parts.count - 1] = String(parts[parts.count - 1].dropLast(2))
        }
        var index: UInt64 = 0
        for (position, part) in parts.enumerated() {
            let isLast = position == parts.count - 1
            let digits = isLast ? Substring(part) : (part.hasPrefix("x") ? part.dropFirst() : "")
            guard digits.count == 3, digits.allSatisfy(\.isASCII), let value = UInt64(digits), digits.allSatisfy(\.isNumber) else { return nil }
            let (scaled, overflow) = index.multipliedReportingOverflow(by: 1000)
            guard !overflow else { return nil }
            index = scaled + value
        }
        guard encode(index: index) == parts.joined(separator: "/") else { return nil }
        return Request(level: level, index: index, partialWidth: width)
    }

    /// The hashes a tile of `level` (0 for leaf hashes) spans for a tree of `size`: full tiles have
    /// 256; the last has `floor(size / 256^level) mod 256`, and an empty tile does not exist.
    public static func availableWidth(level: Int, index: UInt64, size: UInt64) -> Int? {
        let count = nodeCount(level: level, size: size)
        // An index from a URL can be as large as 10^18 − 1: beyond the tree, never a trap.
        let (first, overflow) = index.multipliedReportingOverflow(by: width)
        guard !overflow, first < count else { return nil }
        return Int(min(width, count - first))
    }

    /// How many perfect subtrees of height 8·level a tree of `size` has.
    public static func nodeCount(level: Int, size: UInt64) -> UInt64 {
        let shift = UInt64(level * levelHeight)
        return shift >= 64 ? 0 : size >> shift
    }

    /// The nodes a tile holds, in order.
    public static func nodes(level: Int, index: UInt64, width: Int) -> [NodeID] {
        (0..<UInt64(width)).map { NodeID(height: level * levelHeight, index: index * Tiles.width + $0) }
    }

    /// An entry bundle: each entry prefixed by its length as a big-endian uint16.
    public static func bundle(_ entries: [Data]) -> Data {
        var data = Data()
        for entry in entries {
            precondition(entry.count <= 0xFFFF, "tlog-tiles entries are at most 65,535 bytes")
            data.append(UInt8(entry.count >> 8))
            data.append(UInt8(entry.count & 0xFF))
            data.append(entry)
        }
        return data
    }

    public static func unbundle(_ data: Data) -> [Data]? {
        var entries: [Data] = []
        var offset = data.startIndex
        while offset < data.endIndex {
            guard offset + 2 <= data.endIndex else { return nil }
            let length = Int(data[offset]) << 8 | Int(data[offset + 1])
            offset += 2
            guard offset + length <= data.endIndex else { return nil }
            entries.append(data[offset..<offset + length])
            offset += length
        }
        return entries
    }
}
