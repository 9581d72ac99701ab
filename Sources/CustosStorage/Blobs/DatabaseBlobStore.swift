import FluentKit
import Foundation
import NIOPosix
import SQLKit
import Synchronization

/// Blobs in the installation's database, a MiB per row (`blob_chunks`), so every instance on one
/// PostgreSQL reads what any wrote: the default when `CUSTOS_DATABASE_URL` is set (issue 28).
/// Written and read in pieces, never whole. A `put` writes the new content under a new
/// generation and switches the key to it in the same transaction, deleting the old chunks: a
/// crash mid-way leaves the old blob as it was. A reader that started on a generation that a
/// replace (a key rotation's reseal) then deleted fails at its next piece, and is read again.
public struct DatabaseBlobStore: BlobStore {
    let store: CustosDatabase
    /// Where this instance writes a blob before it goes in (`<data dir>/scratch`).
    let scratch: URL
    static let chunkSize = 1 << 20

    public init(store: CustosDatabase, scratch: URL) {
        self.store = store
        self.scratch = scratch
    }

    public var description: String { "database" }
    public var isShared: Bool { true }

    public func scratchFolder(for key: String) -> URL { scratch }

    public func put(_ key: String, from file: URL) async throws {
        let generation = UUID().uuidString.lowercased()
        let handle = try FileHandle(forReadingFrom: file)
        defer { try? handle.close() }
        try await store.database.transaction { tx in
            let sql = tx as! any SQLDatabase
            var seq: Int64 = 0
            var size: Int64 = 0
            while let piece = try await NIOThreadPool.singleton.runIfActive({ try handle.read(upToCount: Self.chunkSize) }), !piece.isEmpty {
                try await sql.raw("INSERT INTO blob_chunks (generation, seq, bytes) VALUES (\(bind: generation), \(bind: seq), \(bind: piece))").run()
                seq += 1
                size += Int64(piece.count)
            }
            let old = try await sql.raw("SELECT generation FROM blobs WHERE key = \(bind: key)").all()
                .map { try $0.decode(column: "generation", as: String.self) }
            try await sql.raw("""
                INSERT INTO blobs (key, generation, size, chunks, stored_ms) VALUES (\(bind: key), \(bind: generation), \(bind: size), \(bind: seq), \(bind: Int64(Date().timeIntervalSince1970 * 1000)))
                ON CONFLICT (key) DO UPDATE SET generation = excluded.generation, size = excluded.size, chunks = excluded.chunks, stored_ms = excluded.stored_ms
                """).run()
            for previous in old { try await sql.raw("DELETE FROM blob_chunks WHERE generation = \(bind: previous)").run() }
        }
        try? FileManager.default.removeItem(at: file)
    }

    public func open(_ key: String) async throws -> (any BlobReader)? {
        guard let row = try await store.sql.raw("SELECT generation, size, chunks FROM blobs WHERE key = \(bind: key)").first() else { return nil }
        return DatabaseBlobReader(
            store: store, key: key, generation: try row.decode(column: "generation", as: String.self),
            size: Int(try row.decode(column: "size", as: Int64.self)), chunks: try row.decode(column: "chunks", as: Int64.self))
    }

    public func exists(_ key: String) async throws -> Bool {
        try await store.sql.raw("SELECT 1 AS found FROM blobs WHERE key = \(bind: key)").first() != nil
    }

    public func delete(_ key: String) async throws {
        try await store.database.transaction { tx in
            let sql = tx as! any SQLDatabase
            let old = try await sql.raw("SELECT generation FROM blobs WHERE key = \(bind: key)").all()
                .map { try $0.decode(column: "generation", as: String.self) }
            try await sql.raw("DELETE FROM blobs WHERE key = \(bind: key)").run()
            for previous in old { try await sql.raw("DELETE FROM blob_chunks WHERE generation = \(bind: previous)").run() }
        }
    }

    public func keys(prefix: String) async throws -> [String] {
        let pattern = prefix.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
            .replacingOccurrences(of: "_", with: "\\_") + "%"
        return try await store.sql.raw("SELECT key FROM blobs WHERE key LIKE \(bind: pattern) ESCAPE '\\' ORDER BY key").all()
            .map { try $0.decode(column: "key", as: String.self) }
    }
}

/// Reads one generation of a blob a chunk per query.
final class DatabaseBlobReader: BlobReader {
    let store: CustosDatabase
    let key: String
    let generation: String
    let size: Int
    let chunks: Int64
    private let nextSeq = Mutex<Int64>(0)

    init(store: CustosDatabase, key: String, generation: String, size: Int, chunks: Int64) {
        self.store = store
        self.key = key
        self.generation = generation
        self.size = size
        self.chunks = chunks
    }

    func next() async throws -> Data? {
        let seq = nextSeq.withLock { seq in
            defer { seq += 1 }
            return seq
        }
        guard seq < chunks else { return nil }
        guard let row = try await store.sql.raw("SELECT bytes FROM blob_chunks WHERE generation = \(bind: generation) AND seq = \(bind: seq)").first() else {
            throw BlobError("\(key) was replaced or deleted while it was read (chunk \(seq)); read it again")
        }
        return try row.decode(column: "bytes", as: Data.self)
    }
}
