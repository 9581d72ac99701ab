import Foundation
import NIOPosix
import Synchronization

/// Blobs as files under one folder (the data folder): the embedded default, and what a single
/// instance did before blobs were shared. A key is a relative path (`packages/<id>.zip.sealed`).
/// Not shared: another instance has its own folder (unless the folder itself is shared storage).
public struct FolderBlobStore: BlobStore {
    public let root: URL
    public init(root: URL) { self.root = root }

    public var description: String { "folder \(root.path)" }
    public var isShared: Bool { false }

    public func url(_ key: String) -> URL { root.appendingPathComponent(key) }

    public func scratchFolder(for key: String) -> URL { url(key).deletingLastPathComponent() }

    public func put(_ key: String, from file: URL) async throws {
        let target = url(key)
        if file.standardizedFileURL == target.standardizedFileURL { return }  // built in place (synced by its writer)
        try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
        if file.deletingLastPathComponent().standardizedFileURL != target.deletingLastPathComponent().standardizedFileURL {
            // Another folder (maybe another file system): copied beside the target and synced first.
            let partial = target.deletingLastPathComponent().appendingPathComponent(".\(target.lastPathComponent).partial")
            try? FileManager.default.removeItem(at: partial)
            try await FolderBlobStore(root: file.deletingLastPathComponent()).copy(file.lastPathComponent, to: partial)
            try FileManager.default.removeItem(at: file)
            try Self.rename(partial, to: target)
        } else {
            try Self.rename(file, to: target)
        }
    }

    static func rename(_ from: URL, to target: URL) throws {
        guard Foundation.rename(from.path, target.path) == 0 else {
            throw BlobError("cannot move \(from.lastPathComponent) to \(target.path) (errno \(errno))")
        }
    }

    public func open(_ key: String) async throws -> (any BlobReader)? {
        let target = url(key)
        guard FileManager.default.fileExists(atPath: target.path) else { return nil }
        return try FileBlobReader(url: target)
    }

    public func exists(_ key: String) async throws -> Bool { FileManager.default.fileExists(atPath: url(key).path) }

    public func delete(_ key: String) async throws {
        let target = url(key)
        if FileManager.default.fileExists(atPath: target.path) { try FileManager.default.removeItem(at: target) }
    }

    public func keys(prefix: String) async throws -> [String] {
        // Keys are "folder/name": list the folder the prefix names and keep the names that match.
        let slash = prefix.lastIndex(of: "/")
        let folder = slash.map { String(prefix[..<$0]) } ?? ""
        let names = (try? FileManager.default.contentsOfDirectory(atPath: url(folder).path)) ?? []
        return names.filter { !$0.hasPrefix(".") }.map { folder.isEmpty ? $0 : "\(folder)/\($0)" }.filter { $0.hasPrefix(prefix) }.sorted()
    }
}

/// A file read a MiB at a time on NIO's thread pool (disk reads never block a task's thread).
final class FileBlobReader: BlobReader {
    let size: Int
    private let handle: Mutex<FileHandle?>

    init(url: URL) throws {
        let file = try FileHandle(forReadingFrom: url)
        size = Int(try file.seekToEnd())
        try file.seek(toOffset: 0)
        handle = Mutex(file)
    }

    deinit { handle.withLock { try? $0?.close() } }

    func next() async throws -> Data? {
        try await NIOThreadPool.singleton.runIfActive { try self.readPiece() }
    }

    private func readPiece() throws -> Data? {
        try handle.withLock { file -> Data? in
                guard let open = file else { return nil }
                if let piece = try open.read(upToCount: 1 << 20), !piece.isEmpty { return piece }
                try? open.close()
                file = nil
                return nil
        }
    }
}
