import CustosZlib
import CustosStorage
import Foundation

/// Writes a ZIP archive of stored (uncompressed) entries as a stream: each entry's local header
/// and bytes go to the file as they come, the central directory at the end (PKWARE APPNOTE 6.3.10,
/// §4.3). ZIP64 records (§4.3.14–4.3.16, extra field 0x0001 in §4.5.3) are written when a size, an
/// offset or the entry count passes the classic 32-bit or 16-bit fields, so a package of any size
/// and any number of records stays a valid ZIP.
///
/// Hand-written on purpose: ZIPFoundation (which still reads and verifies packages) computes every
/// entry's CRC-32 itself, on Linux byte by byte in Swift, and cannot take one computed elsewhere.
/// That loop was half of the package build's time (BENCHMARKS.md). Here the CRC comes from zlib's
/// `crc32`. ZIPFoundation also needs a seekable plain file, and the archive is sealed as it is
/// written (`SealedFileWriter`), so the ZIP never exists unsealed on disk.
final class StoredZipWriter {
    /// The classic format's field limits; tests lower them to exercise the ZIP64 records.
    struct Limits {
        var maxClassicValue: UInt64 = 0xFFFF_FFFF
        var maxClassicEntries: Int = 0xFFFF
    }

    /// The archive, sealed under the storage key as it is written (issue 10): no plain byte of a
    /// package reaches the disk.
    private let output: SealedFileWriter
    private let limits: Limits
    private var offset: UInt64 = 0
    /// The ZIP's size in bytes so far (unsealed).
    var size: UInt64 { offset }
    private var entryCount = 0
    /// The central directory, written to a scratch file beside the archive as entries are added
    /// and copied to its end by `finish()`, so memory does not grow with the number of entries. It
    /// names every record's account, so it is sealed too, under a key that dies with the build.
    private let directory: SealedFileWriter
    private let scratchSealer = StorageSealer.ephemeral()
    private var directoryBuffer = Data()
    private static let bufferLimit = 1 << 20

    init(creating url: URL, sealer: StorageSealer, context: String, limits: Limits = Limits()) throws {
        output = try SealedFileWriter(creating: url, sealer: sealer, context: context)
        let directoryURL = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).directory")
        try? FileManager.default.removeItem(at: directoryURL)
        directory = try SealedFileWriter(creating: directoryURL, sealer: scratchSealer, context: "scratch")
        self.limits = limits
    }

    deinit {
        try? FileManager.default.removeItem(at: directory.url)
    }

    /// zlib's CRC-32 (the ZIP checksum, ISO 3309) of `bytes`.
    static func crc32(_ bytes: Data) -> UInt32 {
        bytes.withUnsafeBytes { raw -> UInt32 in
            var crc = CustosZlib.crc32(0, nil, 0)
            var rest = UnsafeRawBufferPointer(raw)
            // zlib's length is a 32-bit uInt: feed it in pieces.
            while !rest.isEmpty {
                let piece = min(rest.count, Int(UInt32.max >> 1))
                crc = CustosZlib.crc32(crc, rest.baseAddress!.assumingMemoryBound(to: Bytef.self), uInt(piece))
                rest = UnsafeRawBufferPointer(rebasing: rest[piece...])
            }
            return UInt32(truncatingIfNeeded: crc)
        }
    }

    /// Adds one file entry with `bytes`, stored as they are.
    func add(path: String, bytes: Data, modified: Date) throws {
        let name = Array(path.utf8)
        let size = UInt64(bytes.count)
        let (dosTime, dosDate) = Self.dosDateTime(modified)
        let crc = Self.crc32(bytes)
        let entryOffset = offset
        // The local header carries the sizes; it needs ZIP64 only when they do not fit (§4.5.3).
        let sizesNeed64 = size >= limits.maxClassicValue
        var header = Data(capacity: 30 + name.count + 20)
        header.append32(0x0403_4b50)
        header.append16(sizesNeed64 ? 45 : 20)  // version needed: 4.5 for ZIP64, 2.0 otherwise
        header.append16(0x0800)  // bit 11: the name is UTF-8
        header.append16(0)  // method 0: stored
        header.append16(dosTime)
        header.append16(dosDate)
        header.append32(crc)
        header.append32(sizesNeed64 ? 0xFFFF_FFFF : UInt32(size))
        header.append32(sizesNeed64 ? 0xFFFF_FFFF : UInt32(size))
        header.append16(UInt16(name.count))
        header.append16(sizesNeed64 ? 20 : 0)
        header.append(contentsOf: name)
        if sizesNeed64 {
            header.append16(0x0001)
            header.append16(16)
            header.append64(size)  // uncompressed
            header.append64(size)  // compressed
        }
        try write(header)
        try write(bytes)
        try addToDirectory(name: name, crc: crc, size: size, offset: entryOffset, dosTime: dosTime, dosDate: dosDate)
    }

    /// The entry's central directory record (§4.3.12), with ZIP64 fields for what overflows.
    private func addToDirectory(name: [UInt8], crc: UInt32, size: UInt64, offset entryOffset: UInt64, dosTime: UInt16, dosDate: UInt16) throws {
        let sizeNeeds64 = size >= limits.maxClassicValue
        let offsetNeeds64 = entryOffset >= limits.maxClassicValue
        var extra = Data()
        if sizeNeeds64 || offsetNeeds64 {
            // Only the fields that overflow, in this order (§4.5.3).
            var fields = Data()
            if sizeNeeds64 {
                fields.append64(size)
                fields.append64(size)
            }
            if offsetNeeds64 { fields.append64(entryOffset) }
            extra.append16(0x0001)
            extra.append16(UInt16(fields.count))
            extra.append(fields)
        }
        var record = Data(capacity: 46 + name.count + extra.count)
        record.append32(0x0201_4b50)
        record.append16(0x0300 | 45)  // made by: UNIX, spec 4.5
        record.append16(extra.isEmpty ? 20 : 45)
        record.append16(0x0800)
        record.append16(0)
        record.append16(dosTime)
        record.append16(dosDate)
        record.append32(crc)
        record.append32(sizeNeeds64 ? 0xFFFF_FFFF : UInt32(size))
        record.append32(sizeNeeds64 ? 0xFFFF_FFFF : UInt32(size))
        record.append16(UInt16(name.count))
        record.append16(UInt16(extra.count))
        record.append16(0)  // comment length
        record.append16(0)  // disk number start
        record.append16(0)  // internal attributes
        record.append32(UInt32(0o100644) << 16)  // external: a regular file, rw-r--r--
        record.append32(offsetNeeds64 ? 0xFFFF_FFFF : UInt32(entryOffset))
        record.append(contentsOf: name)
        record.append(extra)
        directoryBuffer.append(record)
        entryCount += 1
        if directoryBuffer.count >= Self.bufferLimit {
            try directory.write(directoryBuffer)
            directoryBuffer.removeAll(keepingCapacity: true)
        }
    }

    /// Writes the central directory and the end records, then closes the file.
    func finish() throws {
        let directoryStart = offset
        try directory.write(directoryBuffer)
        directoryBuffer = Data()
        try directory.finish(durable: false)
        try SealedFileReader(url: directory.url, sealer: scratchSealer, context: "scratch").forEach { try write($0) }
        let directorySize = offset - directoryStart
        let count = UInt64(entryCount)
        let needs64 = entryCount >= limits.maxClassicEntries || directoryStart >= limits.maxClassicValue
            || directorySize >= limits.maxClassicValue
        var end = Data()
        if needs64 {
            let zip64EndOffset = offset
            end.append32(0x0606_4b50)  // ZIP64 end of central directory record (§4.3.14)
            end.append64(44)  // its size, without these first 12 bytes
            end.append16(0x0300 | 45)
            end.append16(45)
            end.append32(0)  // this disk
            end.append32(0)  // the directory's disk
            end.append64(count)
            end.append64(count)
            end.append64(directorySize)
            end.append64(directoryStart)
            end.append32(0x0706_4b50)  // ZIP64 end of central directory locator (§4.3.15)
            end.append32(0)
            end.append64(zip64EndOffset)
            end.append32(1)  // total disks
        }
        end.append32(0x0605_4b50)  // end of central directory record (§4.3.16)
        end.append16(0)
        end.append16(0)
        end.append16(needs64 ? 0xFFFF : UInt16(entryCount))
        end.append16(needs64 ? 0xFFFF : UInt16(entryCount))
        end.append32(needs64 ? 0xFFFF_FFFF : UInt32(directorySize))
        end.append32(needs64 ? 0xFFFF_FFFF : UInt32(directoryStart))
        end.append16(0)  // comment length
        try write(end)
        try output.finish()
    }

    private func write(_ data: Data) throws {
        offset += UInt64(data.count)
        try output.write(data)
    }

    /// MS-DOS date and time (§4.4.6) in UTC, so a package's bytes do not depend on the server's
    /// time zone; the format starts in 1980 and has two-second steps.
    static func dosDateTime(_ date: Date) -> (time: UInt16, date: UInt16) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        let year = min(max((parts.year ?? 1980) - 1980, 0), 127)
        let time = UInt16((parts.hour ?? 0) << 11 | (parts.minute ?? 0) << 5 | (parts.second ?? 0) / 2)
        let day = UInt16(year << 9 | (parts.month ?? 1) << 5 | (parts.day ?? 1))
        return (time, day)
    }
}

extension Data {
    /// Little-endian fields, as every number in a ZIP is.
    fileprivate mutating func append16(_ value: UInt16) { Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) } }
    fileprivate mutating func append32(_ value: UInt32) { Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) } }
    fileprivate mutating func append64(_ value: UInt64) { Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) } }
}
