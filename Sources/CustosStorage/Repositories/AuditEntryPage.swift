import CustosDomain
import Foundation
import NIOCore

/// A page of stored audit entries, packed into two buffers for verification. `custos log verify`
/// reads every entry of the trail; as a row each entry cost an array, a string and a buffer, and
/// reading a million of them took longer than hashing them. On SQLite the page arrives as one row
/// of aggregates that SQLite packed itself (`packedSQL`), so a million entries are fifty reads.
public struct AuditEntryPage: Sendable {
    /// Each entry's sequence, in order (1-based; gaps are left for the caller to see).
    public private(set) var sequences: [Int] = []
    private var nonceRanges: [Range<Int>] = []
    private var bodyRanges: [Range<Int>] = []
    private var nonces = ByteBuffer()
    private var bodies = ByteBuffer()

    public var count: Int { sequences.count }

    public init() {}

    /// Adds one entry (the row-by-row path, for PostgreSQL).
    public mutating func append(sequence: Int, nonce: some Collection<UInt8>, body: some Collection<UInt8>) {
        let nonceStart = nonces.writerIndex
        nonces.writeBytes(nonce)
        let bodyStart = bodies.writerIndex
        bodies.writeBytes(body)
        sequences.append(sequence)
        nonceRanges.append(nonceStart..<nonces.writerIndex)
        bodyRanges.append(bodyStart..<bodies.writerIndex)
    }

    /// The statement that packs a page on SQLite, binding the range of sequences `(after, last]`:
    /// the sequences and the byte lengths of every nonce and body as decimal lists, and the
    /// nonces and the bodies each run together. Aggregates of one query see the rows in one
    /// order, and the lengths are SQLite's own byte counts, so no content can shift the framing:
    /// two different runs of entries never pack alike. The sequence is the rowid, so the page is
    /// one range scan straight into the aggregates (a subquery with LIMIT copied every row once
    /// more), and there is no ORDER BY inside them (that made SQLite sort the page again);
    /// the initializer orders the entries by sequence should they ever arrive otherwise.
    /// `octet_length` takes the column itself (the NULL case is handled outside it): SQLite then
    /// reads the length from the record header instead of copying the value out a second time.
    static let packedSQL = """
        SELECT group_concat(sequence) AS sequences,
            group_concat(coalesce(octet_length(nonce), 0)) AS nonce_lengths,
            group_concat(coalesce(octet_length(body), 0)) AS body_lengths,
            CAST(group_concat(coalesce(nonce, ''), '') AS BLOB) AS nonces,
            CAST(group_concat(coalesce(body, ''), '') AS BLOB) AS bodies
        FROM audit_entries WHERE sequence > ? AND sequence <= ?
        """

    /// Unpacks what `packedSQL` returned.
    init(sequences sequenceList: String, nonceLengths: String, bodyLengths: String, nonces: ByteBuffer, bodies: ByteBuffer) throws {
        sequences = try Self.decimals(sequenceList)
        func ranges(_ lengths: [Int], total: Int) throws -> [Range<Int>] {
            guard lengths.count == sequences.count, lengths.reduce(0, +) == total else {
                throw StorageError.corrupted("a packed audit page's lengths do not add up")
            }
            var start = 0
            return lengths.map { length in
                defer { start += length }
                return start..<start + length
            }
        }
        nonceRanges = try ranges(try Self.decimals(nonceLengths), total: nonces.readableBytes)
        bodyRanges = try ranges(try Self.decimals(bodyLengths), total: bodies.readableBytes)
        self.nonces = nonces
        self.bodies = bodies
        if zip(sequences, sequences.dropFirst()).contains(where: { $0 >= $1 }) {
            let order = sequences.indices.sorted { sequences[$0] < sequences[$1] }
            (sequences, nonceRanges, bodyRanges) = (order.map { sequences[$0] }, order.map { nonceRanges[$0] }, order.map { bodyRanges[$0] })
        }
    }

    /// A comma-separated list of non-negative decimal integers, as `group_concat` writes them;
    /// parsed by hand because a page holds tens of thousands and `split` with `Int(_:)` showed
    /// in the verification profile.
    static func decimals(_ list: String) throws -> [Int] {
        var list = list
        return try list.withUTF8 { bytes in
            var values: [Int] = []
            values.reserveCapacity(bytes.count / 2)
            var value = 0
            var digits = 0
            for byte in bytes {
                if byte == UInt8(ascii: ",") {
                    guard digits > 0 else { throw StorageError.corrupted("a packed list has an empty number") }
                    values.append(value)
                    (value, digits) = (0, 0)
                } else {
                    let digit = byte &- UInt8(ascii: "0")
                    guard digit < 10, digits < 18 else { throw StorageError.corrupted("a packed list has a bad number") }
                    value = value * 10 + Int(digit)
                    digits += 1
                }
            }
            guard digits > 0 || bytes.isEmpty else { throw StorageError.corrupted("a packed list ends with a comma") }
            if digits > 0 { values.append(value) }
            return values
        }
    }

    /// The stored nonce (base64 text) and record JSON of entry `index` of the page.
    public func withEntry<Result>(
        _ index: Int, _ body: (_ nonce: UnsafeRawBufferPointer, _ recordJSON: UnsafeRawBufferPointer) throws -> Result
    ) rethrows -> Result {
        try nonces.withUnsafeReadableBytes { nonces in
            try bodies.withUnsafeReadableBytes { bodies in
                try body(UnsafeRawBufferPointer(rebasing: nonces[nonceRanges[index]]), UnsafeRawBufferPointer(rebasing: bodies[bodyRanges[index]]))
            }
        }
    }

    /// The Merkle leaf of entry `index` of the page (`AuditLeaf.bytes`).
    public func leaf(_ index: Int) -> Data {
        withEntry(index) { nonce, json in AuditLeaf.bytes(nonceBase64: String(decoding: nonce, as: UTF8.self), recordJSON: Data(json)) }
    }

    /// The RFC 6962 leaf hashes of the entries in `range`, 32 bytes each, back to back. Pure and
    /// independent per entry, so verification splits a page between cores.
    public func leafHashes(_ range: Range<Int>) -> [UInt8] {
        let largest = range.reduce(0) { max($0, AuditLeaf.leafSize(nonceCount: nonceRanges[$1].count, recordCount: bodyRanges[$1].count)) }
        let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: max(largest, 1), alignment: 8)
        defer { scratch.deallocate() }
        return nonces.withUnsafeReadableBytes { nonces in
            bodies.withUnsafeReadableBytes { bodies in
                [UInt8](unsafeUninitializedCapacity: range.count * 32) { out, initialized in
                    let base = UnsafeMutableRawPointer(out.baseAddress!)
                    for (slot, index) in range.enumerated() {
                        AuditLeaf.writeLeafHash(
                            nonceBase64: UnsafeRawBufferPointer(rebasing: nonces[nonceRanges[index]]),
                            recordJSON: UnsafeRawBufferPointer(rebasing: bodies[bodyRanges[index]]), scratch: scratch, into: base + slot * 32)
                    }
                    initialized = range.count * 32
                }
            }
        }
    }
}
