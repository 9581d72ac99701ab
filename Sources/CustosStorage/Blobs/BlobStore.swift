import Foundation

/// Where large sealed files live (production packages and preservation snapshots) so that every
/// instance of one installation reads what any of them wrote (issue 28, part 2). Three stores:
/// the data folder (`FolderBlobStore`, the embedded default), the database in chunks
/// (`DatabaseBlobStore`, the default on PostgreSQL) and an S3-compatible object store
/// (`S3BlobStore` in CustosServer). Blobs are written whole from a finished local file and read
/// back in pieces, so no store ever holds a blob in memory. What goes in is already sealed
/// (`SealedStream`): a store sees only ciphertext.
public protocol BlobStore: Sendable {
    /// How the store is named in logs, `/metrics` and the CLI (`folder /data`, `database`, `s3://bucket/prefix`).
    var description: String { get }
    /// Whether every instance of the installation sees the same blobs (the database and S3, not a data folder).
    var isShared: Bool { get }
    /// Where a blob is written before `put` takes it in: beside its final place for a folder
    /// (so `put` is a rename), else a scratch folder of this instance.
    func scratchFolder(for key: String) -> URL
    /// Stores the finished file `file` as `key`, replacing a blob of that key at once (a reader
    /// sees the old blob or the new one, never a mix). `file` is gone afterwards.
    func put(_ key: String, from file: URL) async throws
    /// A reader of `key` from its start, or nil when there is no such blob.
    func open(_ key: String) async throws -> (any BlobReader)?
    /// Whether `key` is stored.
    func exists(_ key: String) async throws -> Bool
    /// Removes `key`; nothing happens when it is not there.
    func delete(_ key: String) async throws
    /// Every stored key that starts with `prefix`, sorted.
    func keys(prefix: String) async throws -> [String]
}

/// One blob, read in order. The pieces are the stored bytes (sealed); `SealedBlobReader` opens them.
public protocol BlobReader: Sendable {
    /// The blob's size in bytes.
    var size: Int { get }
    /// The next bytes (at most about a MiB), or nil at the end.
    func next() async throws -> Data?
}

public struct BlobError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

extension BlobStore {
    /// Reads `key` into a new local file at `target` (synced), piece by piece.
    public func copy(_ key: String, to target: URL) async throws {
        guard let reader = try await open(key) else { throw BlobError("no blob \(key)") }
        guard FileManager.default.createFile(atPath: target.path, contents: nil, attributes: [.posixPermissions: 0o600]) else {
            throw BlobError("cannot create \(target.path)")
        }
        let handle = try FileHandle(forWritingTo: target)
        defer { try? handle.close() }
        while let piece = try await reader.next() { try handle.write(contentsOf: piece) }
        try handle.synchronize()
    }

    /// Stores small bytes (a sealed document) as `key`, through a file in the scratch folder.
    public func put(_ key: String, data: Data) async throws {
        let folder = scratchFolder(for: key)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let file = folder.appendingPathComponent(".put-\(UUID().uuidString)")
        guard FileManager.default.createFile(atPath: file.path, contents: data, attributes: [.posixPermissions: 0o600]) else {
            throw BlobError("cannot write \(file.path)")
        }
        do {
            try await put(key, from: file)
        } catch {
            try? FileManager.default.removeItem(at: file)
            throw error
        }
    }

    /// A small blob whole (at most `limit` bytes), or nil when there is none.
    public func read(_ key: String, limit: Int) async throws -> Data? {
        guard let reader = try await open(key) else { return nil }
        guard reader.size <= limit else { throw BlobError("\(key) is \(reader.size) bytes, more than the \(limit) expected") }
        var data = Data()
        data.reserveCapacity(reader.size)
        while let piece = try await reader.next() { data.append(piece) }
        return data
    }
}
