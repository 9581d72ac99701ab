import Foundation
import Synchronization

/// Reads a sealed blob (`SealedStream`, as `SealedFileWriter` wrote it) from any `BlobStore`, one
/// authenticated piece at a time: the async counterpart of `SealedFileReader`, for stores whose
/// reads are network calls (the database, S3). A blob without the `CSF1` marker (a plain package
/// from before sealing) is read as it is. One caller at a time reads it, in order.
public final class SealedBlobReader: Sendable {
    private struct State: Sendable {
        var decoder: SealedStream.Decoder?
        var lookahead: Data
        var done = false
    }

    private let blob: any BlobReader
    private let state: Mutex<State>
    /// The header, or nil for a plain blob.
    public let header: SealedStream.Header?
    /// How many plain bytes the blob holds (from its size; reading authenticates them).
    public let plainSize: Int

    private init(blob: any BlobReader, header: SealedStream.Header?, plainSize: Int, state: State) {
        self.blob = blob
        self.header = header
        self.plainSize = plainSize
        self.state = Mutex(state)
    }

    /// Opens `blob`; a sealed one must have been sealed for `context` (when given) under a key `sealer` holds.
    public static func open(_ blob: any BlobReader, name: String, sealer: StorageSealer, context: String?) async throws -> SealedBlobReader {
        var first = Data()
        var ended = false
        // The header is at most 34 + 65,535 bytes; a store's pieces are larger, so this loops once or twice.
        while !ended, first.count < SealedStream.fixedHeaderSize + Int(UInt16.max) {
            guard let piece = try await blob.next() else {
                ended = true
                break
            }
            first.append(piece)
            if !SealedStream.Header.isSealed(first.prefix(4)) && first.count >= 4 { break }
            if SealedStream.Header.isSealed(first.prefix(4)), (try? SealedStream.Header.parse(first)) ?? nil != nil { break }
        }
        guard SealedStream.Header.isSealed(first) else {
            return SealedBlobReader(blob: blob, header: nil, plainSize: blob.size, state: State(decoder: nil, lookahead: first, done: false))
        }
        guard let header = try SealedStream.Header.parse(first), let plain = header.plainSize(sealedSize: blob.size) else {
            throw SealedStream.Failure("\(name): the sealed file is truncated")
        }
        let decoder = try sealer.streamDecoder(for: header, context: context)
        return SealedBlobReader(
            blob: blob, header: header, plainSize: plain, state: State(decoder: decoder, lookahead: Data(first.dropFirst(header.bytes.count))))
    }

    /// The next plain bytes (possibly empty), or nil once the whole blob was read and its end
    /// authenticated. Throws when a chunk does not authenticate.
    public func next() async throws -> Data? {
        var sealed = state.withLock { state -> Data? in
            if state.done { return nil }
            defer { state.lookahead = Data() }
            return state.lookahead
        }
        guard sealed != nil else { return nil }
        var atEnd = false
        if sealed!.isEmpty {
            if let more = try await blob.next(), !more.isEmpty { sealed = more } else { atEnd = true }
        }
        return try state.withLock { state -> Data? in
            if atEnd {
                state.done = true
                return try state.decoder?.finish()
            }
            guard state.decoder != nil else { return sealed }
            return try state.decoder!.open(sealed!)
        }
    }

    /// Hands every plain piece to `consume`.
    public func forEach(_ consume: (Data) throws -> Void) async throws {
        while let piece = try await next() {
            if !piece.isEmpty { try consume(piece) }
        }
    }
}
