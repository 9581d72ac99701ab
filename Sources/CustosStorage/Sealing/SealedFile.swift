import Foundation
import Synchronization

/// A file written through `SealedStream` (or plain, when the sealer has no key), in order, through
/// a 1 MiB buffer. Used for production packages and the scratch files written while they are built.
public final class SealedFileWriter {
    public let url: URL
    private let handle: FileHandle
    private var encoder: SealedStream.Encoder?
    private var buffer = Data()
    /// Plain bytes written so far.
    public private(set) var plainSize: UInt64 = 0
    private static let bufferLimit = 1 << 20

    /// Creates `url` (mode 0600, replacing nothing: the file must not exist).
    public init(creating url: URL, sealer: StorageSealer, context: String) throws {
        guard FileManager.default.createFile(atPath: url.path, contents: nil, attributes: [.posixPermissions: 0o600]) else {
            throw SealedStream.Failure("cannot create \(url.path)")
        }
        self.url = url
        handle = try FileHandle(forWritingTo: url)
        encoder = sealer.streamEncoder(context: context)
        buffer.reserveCapacity(Self.bufferLimit)
    }

    deinit { try? handle.close() }

    public func write(_ plain: Data) throws {
        plainSize += UInt64(plain.count)
        if encoder != nil {
            buffer.append(try encoder!.seal(plain))
        } else {
            buffer.append(plain)
        }
        if buffer.count >= Self.bufferLimit { try flush() }
    }

    private func flush() throws {
        guard !buffer.isEmpty else { return }
        try handle.write(contentsOf: buffer)
        buffer.removeAll(keepingCapacity: true)
    }

    /// Seals the last chunk, writes it to disk (fsync, so a package reported built survives a
    /// crash) and closes the file.
    public func finish(durable: Bool = true) throws {
        if encoder != nil { buffer.append(try encoder!.finish()) }
        try flush()
        if durable { try handle.synchronize() }
        try handle.close()
    }

    /// Writes what `reader` yields to `target`, sealed for `context` (plain under `.none`): to a
    /// file beside it first, synced, then renamed over it, so `target` is either whole or as it was.
    public static func copy(_ reader: SealedFileReader, to target: URL, sealer: StorageSealer, context: String) throws {
        let partial = target.deletingLastPathComponent().appendingPathComponent(".\(target.lastPathComponent).partial")
        try? FileManager.default.removeItem(at: partial)
        do {
            let writer = try SealedFileWriter(creating: partial, sealer: sealer, context: context)
            try reader.forEach { try writer.write($0) }
            try writer.finish()
            guard rename(partial.path, target.path) == 0 else {
                throw SealedStream.Failure("cannot move \(partial.lastPathComponent) to \(target.path) (errno \(errno))")
            }
        } catch {
            try? FileManager.default.removeItem(at: partial)
            throw error
        }
    }
}

/// Reads a file written by `SealedFileWriter` from the start, one authenticated piece at a time.
/// A file without the `CSF1` marker was stored before sealing existed and is read as it is.
/// Sendable so a download can pull pieces on a thread pool; each call takes the lock.
public final class SealedFileReader: Sendable {
    private struct State {
        var handle: FileHandle
        var decoder: SealedStream.Decoder?
        var lookahead: Data
        var done = false
    }

    private let state: Mutex<State>
    /// The header, or `nil` for a plain file.
    public let header: SealedStream.Header?
    /// How many plain bytes the file holds (from its size; the reading authenticates them).
    public let plainSize: Int

    static let readSize = SealedStream.defaultChunkSize + SealedStream.tagSize

    /// Opens `url`; a sealed file must have been sealed for `context` (when given) and under a key
    /// the sealer holds.
    public init(url: URL, sealer: StorageSealer, context: String?) throws {
        let handle = try FileHandle(forReadingFrom: url)
        let size = Int(try handle.seekToEnd())
        try handle.seek(toOffset: 0)
        var first = try handle.read(upToCount: SealedStream.fixedHeaderSize + Int(UInt16.max)) ?? Data()
        if SealedStream.Header.isSealed(first) {
            guard let header = try SealedStream.Header.parse(first), let plain = header.plainSize(sealedSize: size) else {
                throw SealedStream.Failure("\(url.lastPathComponent): the sealed file is truncated")
            }
            let decoder = try sealer.streamDecoder(for: header, context: context)
            first = Data(first.dropFirst(header.bytes.count))
            self.header = header
            plainSize = plain
            state = Mutex(State(handle: handle, decoder: decoder, lookahead: first))
        } else {
            header = nil
            plainSize = size
            state = Mutex(State(handle: handle, decoder: nil, lookahead: first))
        }
    }

    /// Whether `url` is a sealed file (its first bytes carry the marker).
    public static func isSealed(_ url: URL) -> Bool {
        guard let handle = try? FileHandle(forReadingFrom: url) else { return false }
        defer { try? handle.close() }
        return SealedStream.Header.isSealed((try? handle.read(upToCount: 4)) ?? Data())
    }

    /// The next plain bytes (possibly empty), or `nil` once the whole file was read and its end
    /// authenticated. Throws when a chunk does not authenticate.
    public func next() throws -> Data? {
        try state.withLock { state -> Data? in
            if state.done { return nil }
            var sealed = state.lookahead
            state.lookahead = Data()
            if sealed.isEmpty, let more = try state.handle.read(upToCount: Self.readSize * 16), !more.isEmpty { sealed = more }
            if sealed.isEmpty {
                state.done = true
                try? state.handle.close()
                return try state.decoder?.finish()
            }
            guard state.decoder != nil else { return sealed }
            return try state.decoder!.open(sealed)
        }
    }

    /// Hands every plain piece to `consume`, then closes the file.
    public func forEach(_ consume: (Data) throws -> Void) throws {
        while let piece = try next() {
            if !piece.isEmpty { try consume(piece) }
        }
    }
}
