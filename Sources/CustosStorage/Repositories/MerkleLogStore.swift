import CustosDomain
import FluentKit
import Foundation
import MerkleLog
import NIOFoundationCompat
import SQLKit
import SQLiteNIO

/// The stored Merkle logs: appends (inside the caller's transaction), node lookups for proofs,
/// entries, and signed checkpoints. Every perfect subtree hash is stored once, so a proof at any
/// size is one query for at most 2·log2(n) nodes, never a recomputation.
public struct MerkleLogStore: Sendable {
    let store: CustosDatabase

    public init(store: CustosDatabase) { self.store = store }

    var isPostgres: Bool { store.location.isPostgres }

    /// `height << 56 | index`: one integer key per node (heights stay below 64, indices below 2^56).
    static func key(_ node: NodeID) -> Int64 { Int64(node.height) << 56 | Int64(node.index) }
    static func node(fromKey key: Int64) -> NodeID { NodeID(height: Int(key >> 56), index: UInt64(key & (1 << 56 - 1))) }

    // MARK: Appending

    /// Appends leaves (and, for the public log, their entry bytes) and returns the first new index.
    /// Locks the log's head row, so concurrent appenders queue; the frontier in the head row means
    /// no node is read.
    @discardableResult
    static func append(
        _ log: TransparencyLog, leafHashes: [Data], entries: [Data]?, on database: any Database, isPostgres: Bool
    ) async throws -> UInt64 {
        var append = try await LogAppend.begin(log, on: database, isPostgres: isPostgres)
        guard !leafHashes.isEmpty else { return append.first }
        try await BulkInsert.run(into: "log_nodes", columns: LogAppend.nodeColumns, values: append.add(leafHashes: leafHashes), on: database)
        if let entries {
            precondition(entries.count == leafHashes.count, "one entry per leaf")
            let logID = BulkValue.integer(Int64(log.storageID))
            var entryValues: [BulkValue] = []
            entryValues.reserveCapacity(entries.count * 3)
            for (offset, entry) in entries.enumerated() {
                entryValues.append(contentsOf: [logID, .integer(Int64(append.first) + Int64(offset)), .blob(Array(entry))])
            }
            try await BulkInsert.run(into: "log_entries", columns: ["log", "idx", "data"], values: entryValues, on: database)
        }
        try await append.finish(on: database)
        return append.first
    }

    static func split(_ data: Data) -> [Data] {
        stride(from: 0, to: data.count, by: 32).map { Data(data[data.startIndex + $0..<data.startIndex + $0 + 32]) }
    }

    /// Appends entries to the public legal-process log in one transaction; returns their indices.
    public func appendEntries(_ entries: [Data], to log: TransparencyLog) async throws -> [UInt64] {
        let isPostgres = self.isPostgres
        let first = try await store.database.transaction { tx in
            try await Self.append(log, leafHashes: entries.map { MerkleHash.leaf($0) }, entries: entries, on: tx, isPostgres: isPostgres)
        }
        return (0..<UInt64(entries.count)).map { first + $0 }
    }

    // MARK: Reading

    /// The log's size and root now (from the head's frontier).
    public func head(_ log: TransparencyLog) async throws -> (size: UInt64, root: Data) {
        try await Self.head(log, on: store.database)
    }

    static func head(_ log: TransparencyLog, on database: any Database) async throws -> (size: UInt64, root: Data) {
        let sql = database as! any SQLDatabase
        guard let row = try await sql.raw("SELECT size, frontier FROM log_heads WHERE log = \(bind: log.storageID)").first() else {
            throw StorageError.corrupted("the \(log.rawValue) log has no head")
        }
        let frontier = split(try row.decode(column: "frontier", as: Data.self))
        guard var root = frontier.last else { return (0, MerkleHash.emptyRoot) }
        for hash in frontier.dropLast().reversed() { root = MerkleHash.node(hash, root) }
        return (UInt64(try row.decode(column: "size", as: Int64.self)), root)
    }

    /// Where committed log data (nodes, public entries) is read on SQLite: the log reader of a
    /// SQLite file, else the one pooled connection; nil on PostgreSQL. What is read there never
    /// changes once committed, and these reads are never made inside a transaction (on SQLite one
    /// would wait for its own connection), so the reader sees exactly what the pool would.
    /// Verification's page and leaf-hash reads stay on the pool, under `withMappedReads`.
    private func committedReads() async throws -> (any SQLiteDatabase)? {
        guard let pooled = store.database as? any SQLiteDatabase else { return nil }
        return try await store.logReader?.connection() ?? pooled
    }

    /// Stored nodes by id (committed ones only; see `committedReads`).
    public func nodes(_ log: TransparencyLog, _ ids: Set<NodeID>) async throws -> [NodeID: Data] {
        guard !ids.isEmpty else { return [:] }
        if let sqlite = try await committedReads() {
            let placeholders = Array(repeating: "?", count: ids.count).joined(separator: ",")
            let rows = try await SQLiteDirect.rows(
                "SELECT node_key, hash FROM log_nodes WHERE log = ? AND node_key IN (\(placeholders))",
                [.integer(log.storageID)] + ids.map { .integer(Int(Self.key($0))) }, on: sqlite
            ) { row -> (NodeID, Data) in
                guard let key = row.column("node_key")?.integer else { throw StorageError.corrupted("unreadable \(log.rawValue) log node") }
                return (Self.node(fromKey: Int64(key)), try Self.blob(row, "hash"))
            }
            return Dictionary(rows, uniquingKeysWith: { first, _ in first })
        }
        let keys = ids.map { Self.key($0) as any Encodable & Sendable }
        let rows = try await store.sql.raw(
            "SELECT node_key, hash FROM log_nodes WHERE log = \(bind: log.storageID) AND node_key IN (\(binds: keys))"
        ).all()
        var found: [NodeID: Data] = [:]
        for row in rows {
            found[Self.node(fromKey: try row.decode(column: "node_key", as: Int64.self))] = try row.decode(column: "hash", as: Data.self)
        }
        return found
    }

    private func hashes(_ log: TransparencyLog, of ranges: [LeafRange]) async throws -> [Data] {
        let nodes = try await nodes(log, TreeShape.nodes(for: ranges))
        return try ranges.map { range throws -> Data in try range.hash(from: nodes) }
    }

    /// The tree hash at an earlier size (checked against stored checkpoints).
    public func root(_ log: TransparencyLog, size: UInt64) async throws -> Data {
        guard size > 0 else { return MerkleHash.emptyRoot }
        return try await hashes(log, of: [LeafRange(0, size)])[0]
    }

    public func inclusionProof(_ log: TransparencyLog, index: UInt64, size: UInt64) async throws -> [Data] {
        guard index < size else { throw MerkleError.indexOutOfRange(index: index, size: size) }
        return try await hashes(log, of: TreeShape.inclusionRanges(index: index, size: size))
    }

    /// Each leaf's hash and inclusion proof at one size, from a single read of every node they
    /// need (a batch's intake proofs share most of their upper nodes); nil for a leaf not stored.
    public func inclusionProofs(_ log: TransparencyLog, indices: [UInt64], size: UInt64) async throws -> [(leafHash: Data, path: [Data])?] {
        if let index = indices.first(where: { $0 >= size }) { throw MerkleError.indexOutOfRange(index: index, size: size) }
        let ranges = indices.map { TreeShape.inclusionRanges(index: $0, size: size) }
        var wanted = Set(indices.map { NodeID(height: 0, index: $0) })
        for proof in ranges { wanted.formUnion(TreeShape.nodes(for: proof)) }
        let nodes = try await nodes(log, wanted)
        return try zip(indices, ranges).map { index, proof in
            guard let leafHash = nodes[NodeID(height: 0, index: index)] else { return nil }
            return (leafHash, try proof.map { try $0.hash(from: nodes) })
        }
    }

    public func consistencyProof(_ log: TransparencyLog, from oldSize: UInt64, to newSize: UInt64) async throws -> [Data] {
        guard oldSize <= newSize else { throw MerkleError.badSizes(old: oldSize, new: newSize) }
        guard oldSize > 0, oldSize < newSize else { return [] }
        return try await hashes(log, of: TreeShape.consistencyRanges(oldSize: oldSize, newSize: newSize))
    }

    /// Stored hashes of consecutive nodes at one height (a tile's contents).
    public func nodeRun(_ log: TransparencyLog, height: Int, from index: UInt64, count: Int) async throws -> [Data] {
        let low = Self.key(NodeID(height: height, index: index))
        if let sqlite = try await committedReads() {
            return try await SQLiteDirect.rows(
                "SELECT hash FROM log_nodes WHERE log = ? AND node_key >= ? AND node_key < ? ORDER BY node_key",
                [.integer(log.storageID), .integer(Int(low)), .integer(Int(low) + count)], on: sqlite) { try Self.blob($0, "hash") }
        }
        let rows = try await store.sql.raw("""
            SELECT hash FROM log_nodes WHERE log = \(bind: log.storageID) AND node_key >= \(bind: low) AND node_key < \(bind: low + Int64(count))
            ORDER BY node_key
            """).all()
        return try rows.map { try $0.decode(column: "hash", as: Data.self) }
    }

    public func entries(_ log: TransparencyLog, from index: UInt64, count: Int) async throws -> [Data] {
        if let sqlite = try await committedReads() {
            return try await SQLiteDirect.rows(
                "SELECT data FROM log_entries WHERE log = ? AND idx >= ? AND idx < ? ORDER BY idx",
                [.integer(log.storageID), .integer(Int(index)), .integer(Int(index) + count)], on: sqlite) { try Self.blob($0, "data") }
        }
        let rows = try await store.sql.raw("""
            SELECT data FROM log_entries WHERE log = \(bind: log.storageID) AND idx >= \(bind: Int64(index)) AND idx < \(bind: Int64(index) + Int64(count))
            ORDER BY idx
            """).all()
        return try rows.map { try $0.decode(column: "data", as: Data.self) }
    }

    /// One blob column of a row read on SQLite's thread, as `Data`.
    private static func blob(_ row: SQLiteRow, _ column: String) throws -> Data {
        guard var value = row.column(column)?.blob, let bytes = value.readData(length: value.readableBytes) else {
            throw StorageError.corrupted("unreadable log \(column)")
        }
        return bytes
    }

    /// Every stored entry with its index, in order, for recomputation (`custos log verify`).
    public func allEntries(_ log: TransparencyLog) async throws -> [(index: UInt64, data: Data)] {
        try await store.sql.raw("SELECT idx, data FROM log_entries WHERE log = \(bind: log.storageID) ORDER BY idx").all().map {
            (UInt64(try $0.decode(column: "idx", as: Int64.self)), try $0.decode(column: "data", as: Data.self))
        }
    }

    /// Stored leaf hashes (height-0 nodes) with their indices, in order.
    public func storedLeafHashes(_ log: TransparencyLog) async throws -> [(index: UInt64, hash: Data)] {
        try await store.sql.raw("""
            SELECT node_key, hash FROM log_nodes WHERE log = \(bind: log.storageID) AND node_key < \(bind: Int64(1) << 56) ORDER BY node_key
            """).all().map { (UInt64(try $0.decode(column: "node_key", as: Int64.self)), try $0.decode(column: "hash", as: Data.self)) }
    }

    // MARK: Checkpoints

    public struct StoredCheckpoint: Sendable {
        public var size: UInt64
        public var root: Data
        /// The signed note, with every cosignature collected so far.
        public var note: String
        public var createdAt: String
        public var publishedAt: String?
    }

    public enum CheckpointConflict: Error, CustomStringConvertible {
        case differentRoot(size: UInt64)
        public var description: String {
            switch self {
            case .differentRoot(let size): "a checkpoint of size \(size) with a different root is already signed; refusing to sign a second root"
            }
        }
    }

    /// Records a newly signed checkpoint. The primary key (log, size) makes a second root for one
    /// size impossible; signing the same root again returns the stored one instead.
    public func saveCheckpoint(_ log: TransparencyLog, size: UInt64, root: Data, note: String, at time: Date) async throws -> StoredCheckpoint {
        if let existing = try await checkpoint(log, size: size) {
            guard existing.root == root else { throw CheckpointConflict.differentRoot(size: size) }
            return existing
        }
        do {
            try await store.sql.raw("""
                INSERT INTO log_checkpoints (log, size, root, note, created_at)
                VALUES (\(bind: log.storageID), \(bind: Int64(size)), \(bind: root), \(bind: note), \(bind: Timestamp.format(time)))
                """).run()
        } catch where (error as? any DatabaseError)?.isConstraintFailure == true {
            guard let existing = try await checkpoint(log, size: size), existing.root == root else { throw CheckpointConflict.differentRoot(size: size) }
            return existing
        }
        return StoredCheckpoint(size: size, root: root, note: note, createdAt: Timestamp.format(time), publishedAt: nil)
    }

    /// Stores the note with the cosignatures collected; `published` once the witness quorum is met.
    public func updateCheckpoint(_ log: TransparencyLog, size: UInt64, note: String, publishedAt: Date?) async throws {
        try await store.sql.raw("""
            UPDATE log_checkpoints SET note = \(bind: note), published_at = \(bind: publishedAt.map(Timestamp.format))
            WHERE log = \(bind: log.storageID) AND size = \(bind: Int64(size))
            """).run()
    }

    public func checkpoint(_ log: TransparencyLog, size: UInt64) async throws -> StoredCheckpoint? {
        try await store.sql.raw("""
            SELECT size, root, note, created_at, published_at FROM log_checkpoints WHERE log = \(bind: log.storageID) AND size = \(bind: Int64(size))
            """).first().map(Self.checkpoint(from:))
    }

    /// The latest checkpoint, or the latest one whose witness quorum was met.
    public func latestCheckpoint(_ log: TransparencyLog, publishedOnly: Bool) async throws -> StoredCheckpoint? {
        let filter = publishedOnly ? " AND published_at IS NOT NULL" : ""
        return try await store.sql.raw("""
            SELECT size, root, note, created_at, published_at FROM log_checkpoints WHERE log = \(bind: log.storageID)\(unsafeRaw: filter)
            ORDER BY size DESC LIMIT 1
            """).first().map(Self.checkpoint(from:))
    }

    public func checkpoints(_ log: TransparencyLog) async throws -> [StoredCheckpoint] {
        try await store.sql.raw("""
            SELECT size, root, note, created_at, published_at FROM log_checkpoints WHERE log = \(bind: log.storageID) ORDER BY size
            """).all().map(Self.checkpoint(from:))
    }

    /// Whether every stored checkpoint's root is the root the stored tree gives at its size. Reads
    /// `page` checkpoints at a time and their roots' nodes in one query per page: one query per
    /// checkpoint grew with the log's age (a checkpoint every 300 s at most, about 105,000 a year).
    public func checkpointsMatchTree(_ log: TransparencyLog, page: Int = 256) async throws -> Bool {
        precondition(page > 0, "checkpoints are read in pages of at least one")
        var after: Int64 = -1
        while true {
            let checkpoints = try await store.sql.raw("""
                SELECT size, root FROM log_checkpoints WHERE log = \(bind: log.storageID) AND size > \(bind: after) ORDER BY size LIMIT \(bind: page)
                """).all().map { row in (size: UInt64(try row.decode(column: "size", as: Int64.self)), root: try row.decode(column: "root", as: Data.self)) }
            let trees = checkpoints.filter { $0.size > 0 }.map { LeafRange(0, $0.size) }
            let nodes = try await nodes(log, TreeShape.nodes(for: trees))
            for checkpoint in checkpoints {
                let root = checkpoint.size == 0 ? MerkleHash.emptyRoot : try LeafRange(0, checkpoint.size).hash(from: nodes)
                guard root == checkpoint.root else { return false }
            }
            guard checkpoints.count == page, let last = checkpoints.last else { return true }
            after = Int64(last.size)
        }
    }

    static func checkpoint(from row: any SQLRow) throws -> StoredCheckpoint {
        StoredCheckpoint(
            size: UInt64(try row.decode(column: "size", as: Int64.self)), root: try row.decode(column: "root", as: Data.self),
            note: try row.decode(column: "note", as: String.self), createdAt: try row.decode(column: "created_at", as: String.self),
            publishedAt: try row.decode(column: "published_at", as: String?.self))
    }
}

extension MerkleLogStore {
    /// The leaf bytes of the stored audit entries `auditEntryPage` returns, with their sequences.
    public func auditLeafInputs(afterSequence: Int, limit: Int) async throws -> [(sequence: Int, leaf: Data)] {
        let page = try await auditEntryPage(afterSequence: afterSequence, limit: limit)
        return (0..<page.count).map { (page.sequences[$0], page.leaf($0)) }
    }

    /// Runs `body` with SQLite reading the database file through a memory map rather than one
    /// `pread` per page; a walk over the whole log spent a third of SQLite's time in those calls.
    /// The map goes again when `body` ends, so the file's pages count as the process's memory only
    /// while the walk runs. The setting is the read-write connection's: the walk's pages and leaf
    /// hashes are read there, and only its few node lookups go to the log reader. A no-op on
    /// PostgreSQL.
    public func withMappedReads<Result: Sendable>(_ body: () async throws -> Result) async throws -> Result {
        guard !isPostgres else { return try await body() }
        // SQLite caps the map at its compile-time maximum (2 GiB by default); beyond it, it reads.
        _ = try await store.sql.raw("PRAGMA mmap_size = 2147418112").all()
        do {
            let result = try await body()
            _ = try await store.sql.raw("PRAGMA mmap_size = 0").all()
            return result
        } catch {
            _ = try? await store.sql.raw("PRAGMA mmap_size = 0").all()
            throw error
        }
    }

    /// The stored audit entries with sequences `afterSequence + 1 ... afterSequence + limit` (one
    /// range scan of the rowid on SQLite), packed: fewer where entries are missing, which the
    /// caller sees as a gap. A range with nothing in it yields the page from the next stored
    /// entry on, and an empty page means nothing is stored after `afterSequence`.
    public func auditEntryPage(afterSequence: Int, limit: Int) async throws -> AuditEntryPage {
        let page = try await auditEntryRange(afterSequence: afterSequence, limit: limit)
        guard page.count == 0 else { return page }
        let next = try await store.sql.raw("SELECT min(sequence) AS next FROM audit_entries WHERE sequence > \(bind: afterSequence)").first()
        guard let next = try next?.decode(column: "next", as: Int?.self) else { return page }
        return try await auditEntryRange(afterSequence: next - 1, limit: limit)
    }

    private func auditEntryRange(afterSequence: Int, limit: Int) async throws -> AuditEntryPage {
        if let sqlite = store.database as? any SQLiteDatabase {
            // The row is only taken apart on SQLite's thread; it is parsed here, off it.
            let rows = try await SQLiteDirect.rows(AuditEntryPage.packedSQL, [.integer(afterSequence), .integer(afterSequence + limit)], on: sqlite) { row in
                (row.column("sequences")?.string, row.column("nonce_lengths")?.string, row.column("body_lengths")?.string,
                 row.column("nonces")?.blob ?? ByteBuffer(), row.column("bodies")?.blob ?? ByteBuffer())
            }
            guard let (sequences, nonceLengths, bodyLengths, nonces, bodies) = rows.first, let sequences else { return AuditEntryPage() }
            guard let nonceLengths, let bodyLengths else { throw StorageError.corrupted("unreadable audit page") }
            return try AuditEntryPage(sequences: sequences, nonceLengths: nonceLengths, bodyLengths: bodyLengths, nonces: nonces, bodies: bodies)
        }
        var page = AuditEntryPage()
        for row in try await store.sql.raw("""
            SELECT sequence, nonce, body FROM audit_entries
            WHERE sequence > \(bind: afterSequence) AND sequence <= \(bind: afterSequence + limit) ORDER BY sequence
            """).all() {
            page.append(
                sequence: try row.decode(column: "sequence", as: Int.self), nonce: (try row.decode(column: "nonce", as: String?.self) ?? "").utf8,
                body: try row.decode(column: "body", as: String.self).utf8)
        }
        return page
    }

    /// The stored leaf hashes from `index`, 32 bytes each, back to back, up to the first one that
    /// is missing: read as one aggregated value rather than a row per leaf (verification reads
    /// every leaf of the log). A run shorter than `count` means leaves are missing; the caller
    /// compares hash by hash.
    public func leafHashRun(_ log: TransparencyLog, from index: UInt64, count: Int) async throws -> [UInt8] {
        let low = Self.key(NodeID(height: 0, index: index))
        // The keys as a decimal list and the hashes run together, in the one order the aggregates
        // share (on SQLite without an ORDER BY inside them, which made it sort the run again). A
        // hash of the wrong length is left out, so it counts as missing.
        let keyList: String
        let hashes: [UInt8]
        if let sqlite = store.database as? any SQLiteDatabase {
            let rows = try await SQLiteDirect.rows(
                """
                SELECT group_concat(node_key) AS keys, CAST(group_concat(hash, '') AS BLOB) AS hashes FROM log_nodes
                WHERE log = ? AND node_key >= ? AND node_key < ? AND length(hash) = 32
                """,
                [.integer(log.storageID), .integer(Int(low)), .integer(Int(low) + count)], on: sqlite
            ) { row in (row.column("keys")?.string ?? "", row.column("hashes")?.blob.map { Array($0.readableBytesView) } ?? []) }
            (keyList, hashes) = rows.first ?? ("", [])
        } else {
            let row = try await store.sql.raw("""
                SELECT string_agg(node_key::text, ',' ORDER BY node_key) AS keys, string_agg(encode(hash, 'hex'), '' ORDER BY node_key) AS hashes
                FROM log_nodes WHERE log = \(bind: log.storageID) AND node_key >= \(bind: low) AND node_key < \(bind: low + Int64(count)) AND length(hash) = 32
                """).first()
            keyList = try row?.decode(column: "keys", as: String?.self) ?? ""
            guard let decoded = Hex.decode(utf8: Array((try row?.decode(column: "hashes", as: String?.self) ?? "").utf8)) else {
                throw StorageError.corrupted("unreadable leaf hashes")
            }
            hashes = decoded
        }
        let keys = try AuditEntryPage.decimals(keyList).map(Int64.init)
        guard hashes.count == keys.count * 32 else { throw StorageError.corrupted("unreadable leaf hashes") }
        var run = [UInt8](repeating: 0, count: count * 32)
        var present = [Bool](repeating: false, count: count)
        try run.withUnsafeMutableBytes { run in
            try hashes.withUnsafeBytes { hashes in
                for (item, key) in keys.enumerated() {
                    guard key >= low, key < low + Int64(count) else { throw StorageError.corrupted("unreadable leaf hashes") }
                    let slot = Int(key - low)
                    run.baseAddress!.advanced(by: slot * 32).copyMemory(from: hashes.baseAddress! + item * 32, byteCount: 32)
                    present[slot] = true
                }
            }
        }
        run.removeSubrange((present.firstIndex(of: false) ?? count) * 32..<run.count)
        return run
    }

    /// A page of public-log entries after `index` (exclusive; nil from the start).
    public func entryPage(_ log: TransparencyLog, after index: Int64, limit: Int) async throws -> [(index: UInt64, data: Data)] {
        try await store.sql.raw("""
            SELECT idx, data FROM log_entries WHERE log = \(bind: log.storageID) AND idx > \(bind: index) ORDER BY idx LIMIT \(bind: limit)
            """).all().map { (UInt64(try $0.decode(column: "idx", as: Int64.self)), try $0.decode(column: "data", as: Data.self)) }
    }
}

/// One append to a log inside the caller's transaction: the head is read (and on PostgreSQL
/// locked) once, the node rows that new leaves complete are computed without touching the
/// database, and the head is written back at the end. Splitting it this way lets the audit writer
/// compute the next chunk's nodes while the previous chunk's rows are being inserted.
struct LogAppend {
    static let nodeColumns = ["log", "node_key", "hash"]

    let log: TransparencyLog
    /// The index of the first leaf this append adds (the log's size before it).
    let first: UInt64
    private(set) var size: UInt64
    /// The right frontier: the roots of the perfect subtrees covering the leaves so far, largest first.
    private var frontier: [Data]

    static func begin(_ log: TransparencyLog, on database: any Database, isPostgres: Bool) async throws -> LogAppend {
        let sql = database as! any SQLDatabase
        let lock = isPostgres ? " FOR UPDATE" : ""
        guard let head = try await sql.raw("SELECT size, frontier FROM log_heads WHERE log = \(bind: log.storageID)\(unsafeRaw: lock)").first()
        else { throw StorageError.corrupted("the \(log.rawValue) log has no head") }
        let size = UInt64(try head.decode(column: "size", as: Int64.self))
        return LogAppend(log: log, first: size, size: size, frontier: MerkleLogStore.split(try head.decode(column: "frontier", as: Data.self)))
    }

    /// Adds leaves and returns the `log_nodes` rows (log, node_key, hash) they complete: each leaf,
    /// and every perfect subtree it closes.
    mutating func add(leafHashes: [Data]) -> [BulkValue] {
        let logID = BulkValue.integer(Int64(log.storageID))
        var rows: [BulkValue] = []
        rows.reserveCapacity(leafHashes.count * 6)
        for leaf in leafHashes {
            var hash = leaf
            var position = size
            var height = 0
            rows.append(contentsOf: [logID, .integer(MerkleLogStore.key(NodeID(height: 0, index: size))), .blob(Array(hash))])
            while position & 1 == 1 {
                hash = MerkleHash.node(frontier.removeLast(), hash)
                position >>= 1
                height += 1
                rows.append(contentsOf: [logID, .integer(MerkleLogStore.key(NodeID(height: height, index: position))), .blob(Array(hash))])
            }
            frontier.append(hash)
            size += 1
        }
        return rows
    }

    /// Writes the new size and frontier back to the head row.
    func finish(on database: any Database) async throws {
        guard size > first else { return }
        try await (database as! any SQLDatabase).raw("""
            UPDATE log_heads SET size = \(bind: Int64(size)), frontier = \(bind: frontier.reduce(Data(), +)) WHERE log = \(bind: log.storageID)
            """).run()
    }
}
