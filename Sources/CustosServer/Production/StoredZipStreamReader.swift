import Crypto
import CustosDomain
import CustosZlib
import Foundation

/// Reads a ZIP of stored entries front to back (PKWARE APPNOTE 6.3.10 §4.3), as `StoredZipWriter`
/// writes them: each local header and its bytes, then the central directory and the end records.
/// Every entry's bytes are hashed as they pass (SHA-256, and the CRC-32 the header states), and the
/// central directory must name the same entries at the same offsets with the same sizes and CRCs.
///
/// Hand-written because a sealed package can only be read in order, one authenticated chunk at a
/// time, and ZIPFoundation needs a plain file it can seek in. Plain packages (what a recipient
/// downloads) are still checked with ZIPFoundation. Entries with data descriptors, compression or
/// encryption are refused: Custos never writes them.
struct StoredZipStreamReader {
    struct Entry {
        var path: String
        var size: UInt64
        var sha256: String
        var crc: UInt32
        var offset: UInt64
    }

    struct Contents {
        var entries: [Entry] = []
        /// The bytes of the entries asked for whole (the manifest and its signature).
        var whole: [String: Data] = [:]
    }

    private var cursor: Cursor

    init(next: @escaping () async throws -> Data?) {
        cursor = Cursor(next: next)
    }

    /// Reads the whole archive; `whole` names entries (at most `maxWhole` bytes each) kept in full.
    mutating func read(keepingWhole whole: Set<String>, maxWhole: UInt64 = 512 << 20) async throws -> Contents {
        var contents = Contents()
        var seen: Set<String> = []
        var signature = try await cursor.u32()
        while signature == 0x0403_4b50 {
            let offset = cursor.offset - 4
            let header = try await cursor.take(26)
            let flags = header.u16(2), method = header.u16(4), crc = header.u32(10)
            var size = UInt64(header.u32(18))
            let nameLength = Int(header.u16(22)), extraLength = Int(header.u16(24))
            guard flags & 0x0009 == 0 else { throw PackageError("entry at byte \(offset): encrypted or with a data descriptor, which Custos never writes") }
            guard method == 0 else { throw PackageError("entry at byte \(offset): compressed (method \(method)), which Custos never writes") }
            guard let path = String(validating: try await cursor.take(nameLength), as: UTF8.self) else { throw PackageError("entry at byte \(offset): its name is not UTF-8") }
            let extra = try await cursor.take(extraLength)
            if header.u32(18) == 0xFFFF_FFFF || header.u32(14) == 0xFFFF_FFFF {
                guard let fields = Self.zip64Fields(extra), fields.count >= 8 else { throw PackageError("\(path): ZIP64 sizes without their extra field") }
                size = fields.u64(0)
            } else if header.u32(14) != header.u32(18) {
                throw PackageError("\(path): stored sizes differ")
            }
            var hasher = SHA256()
            var running = CustosZlib.crc32(0, nil, 0)
            var kept = Data()
            let keep = whole.contains(path)
            if keep && size > maxWhole { throw PackageError("\(path): \(size) bytes, too large to be a manifest") }
            try await cursor.stream(size) { piece in
                hasher.update(data: piece)
                running = piece.withUnsafeBytes { CustosZlib.crc32(running, $0.baseAddress?.assumingMemoryBound(to: Bytef.self), uInt($0.count)) }
                if keep { kept.append(piece) }
            }
            if UInt32(truncatingIfNeeded: running) != crc { throw PackageError("\(path): CRC-32 does not match its header") }
            guard seen.insert(path).inserted else { throw PackageError("\(path): in the ZIP twice") }
            contents.entries.append(Entry(path: path, size: size, sha256: Hex.encode(hasher.finalize()), crc: crc, offset: offset))
            if keep { contents.whole[path] = kept }
            signature = try await cursor.u32()
        }

        let directoryStart = cursor.offset - 4
        var listed = 0
        while signature == 0x0201_4b50 {
            let record = try await cursor.take(42)
            let nameLength = Int(record.u16(24)), extraLength = Int(record.u16(26)), commentLength = Int(record.u16(28))
            let name = try await cursor.take(nameLength)
            var fields = Self.zip64Fields(try await cursor.take(extraLength)) ?? Data()
            _ = try await cursor.take(commentLength)
            func wide(_ classic: UInt32) -> UInt64? {
                guard classic == 0xFFFF_FFFF else { return UInt64(classic) }
                guard fields.count >= 8 else { return nil }
                defer { fields = Data(fields.dropFirst(8)) }
                return fields.u64(0)
            }
            let size = wide(record.u32(20)), compressed = wide(record.u32(16)), offset = wide(record.u32(38))
            guard listed < contents.entries.count else { throw PackageError("the central directory lists more entries than the archive holds") }
            let entry = contents.entries[listed]
            guard String(decoding: name, as: UTF8.self) == entry.path, size == entry.size, compressed == entry.size, offset == entry.offset,
                record.u32(12) == entry.crc, record.u16(6) == 0
            else { throw PackageError("the central directory's entry \(listed + 1) does not match \(entry.path)") }
            listed += 1
            signature = try await cursor.u32()
        }
        guard listed == contents.entries.count else { throw PackageError("the central directory lists \(listed) of \(contents.entries.count) entries") }
        let directorySize = cursor.offset - 4 - directoryStart

        var count64: UInt64?
        if signature == 0x0606_4b50 {
            let length = try await cursor.take(8).u64(0)
            guard length >= 44, length < 1 << 16 else { throw PackageError("the ZIP64 end record has an impossible size") }
            let record = try await cursor.take(Int(length))
            guard record.u64(20) == record.u64(12), record.u64(28) == directorySize, record.u64(36) == directoryStart else {
                throw PackageError("the ZIP64 end record does not match the central directory")
            }
            count64 = record.u64(12)
            guard try await cursor.u32() == 0x0706_4b50 else { throw PackageError("the ZIP64 end locator is missing") }
            _ = try await cursor.take(16)
            signature = try await cursor.u32()
        }
        guard signature == 0x0605_4b50 else { throw PackageError("unexpected bytes at \(cursor.offset - 4), where the end of the central directory belongs") }
        let end = try await cursor.take(18)
        let count = end.u16(6) == 0xFFFF ? count64 : UInt64(end.u16(6))
        let statedSize = end.u32(8) == 0xFFFF_FFFF ? directorySize : UInt64(end.u32(8))
        let statedStart = end.u32(12) == 0xFFFF_FFFF ? directoryStart : UInt64(end.u32(12))
        guard count == UInt64(contents.entries.count), statedSize == directorySize, statedStart == directoryStart else {
            throw PackageError("the end of the central directory does not match it")
        }
        _ = try await cursor.take(Int(end.u16(16)))
        guard try await cursor.atEnd() else { throw PackageError("bytes follow the end of the ZIP") }
        return contents
    }

    /// The data of the ZIP64 extended information field (header id 0x0001, §4.5.3) in `extra`.
    static func zip64Fields(_ extra: Data) -> Data? {
        var rest = Data(extra)
        while rest.count >= 4 {
            let id = rest.u16(0), length = Int(rest.u16(2))
            guard rest.count >= 4 + length else { return nil }
            if id == 0x0001 { return Data(rest.dropFirst(4).prefix(length)) }
            rest = Data(rest.dropFirst(4 + length))
        }
        return nil
    }

    /// Pulls pieces from the source as the reading needs them and counts the offset. The buffer is
    /// read from `position` on and compacted only when a new piece is pulled, so a small field
    /// costs no copy of what follows it.
    struct Cursor {
        let next: () async throws -> Data?
        private var buffer = Data()
        private var position = 0
        private(set) var offset: UInt64 = 0
        private var exhausted = false

        init(next: @escaping () async throws -> Data?) { self.next = next }

        private var available: Int { buffer.count - position }

        private mutating func fill(_ count: Int) async throws -> Bool {
            while available < count, !exhausted {
                if let piece = try await next() {
                    if position > 0 {
                        buffer = Data(buffer.dropFirst(position))
                        position = 0
                    }
                    buffer.append(piece)
                } else {
                    exhausted = true
                }
            }
            return available >= count
        }

        mutating func take(_ count: Int) async throws -> Data {
            guard try await fill(count) else { throw PackageError("the ZIP ends early, at byte \(offset + UInt64(available))") }
            let start = buffer.startIndex + position
            let taken = Data(buffer[start..<(start + count)])
            position += count
            offset += UInt64(count)
            return taken
        }

        mutating func u32() async throws -> UInt32 { try await take(4).u32(0) }

        /// Hands the next `count` bytes to `consume` in pieces, without holding them all.
        mutating func stream(_ count: UInt64, _ consume: (Data) -> Void) async throws {
            var left = count
            while left > 0 {
                if available == 0, !(try await fill(1)) { throw PackageError("the ZIP ends early, at byte \(offset)") }
                let piece = Int(min(UInt64(available), left))
                let start = buffer.startIndex + position
                consume(buffer[start..<(start + piece)])
                position += piece
                offset += UInt64(piece)
                left -= UInt64(piece)
            }
        }

        mutating func atEnd() async throws -> Bool { !(try await fill(1)) }
    }
}

extension Data {
    /// Little-endian fields at `index` from the start.
    fileprivate func u16(_ index: Int) -> UInt16 {
        let base = startIndex + index
        return UInt16(self[base]) | UInt16(self[base + 1]) << 8
    }

    fileprivate func u32(_ index: Int) -> UInt32 { UInt32(u16(index)) | UInt32(u16(index + 2)) << 16 }
    fileprivate func u64(_ index: Int) -> UInt64 { UInt64(u32(index)) | UInt64(u32(index + 4)) << 32 }
}
