import Crypto
import CustosDomain
import Foundation

/// Encryption at rest for files too large to seal in one piece: production packages and the
/// scratch files beside them (issue 10, item 5). It is the STREAM construction (Hoang,
/// Reyhanitabar, Rogaway and Vizár, "Online Authenticated-Encryption and its Nonce-Reuse
/// Misuse-Resistance", CRYPTO 2015) over AES-256-GCM, as age and Tink use it: the plaintext is cut
/// into chunks, each sealed on its own under a per-file key, with the chunk's number and a
/// "last chunk" flag in its nonce. Altering, reordering, dropping, truncating or extending the
/// file therefore fails authentication, and memory holds one chunk whatever the file's size.
///
/// Written by hand: swift-crypto seals one message at a time, and no package available here
/// offers a chunked format.
///
/// Layout (all integers big-endian):
///
///     header = "CSF1" | key id (8) | chunk size (4) | salt (16) | context length (2) | context (UTF-8)
///     chunk  = AES-GCM ciphertext of `chunk size` plain bytes | tag (16)
///              (the last chunk holds 0 ... chunk size bytes, and only an empty file has an empty one)
///     file key = HKDF-SHA256(storage key, salt, "custos sealed file v1\0" + context)
///     nonce    = chunk number (11 bytes) | 0x01 for the last chunk, else 0x00
///
/// Every chunk authenticates the whole header as associated data. The context names what the file
/// is (`package:<case id>:production`), so a sealed file moved into another case's place does not
/// open there.
public enum SealedStream {
    static let magic = Data("CSF1".utf8)
    public static let defaultChunkSize = 64 << 10
    static let tagSize = 16
    static let fixedHeaderSize = 4 + 8 + 4 + 16 + 2

    public struct Failure: Error, CustomStringConvertible, Equatable {
        public var description: String
        init(_ description: String) { self.description = description }
    }

    /// What a sealed file's header says.
    public struct Header: Sendable, Equatable {
        public var keyID: String
        public var chunkSize: Int
        public var salt: Data
        public var context: String
        /// The header exactly as stored: the associated data of every chunk.
        public var bytes: Data

        init(keyID: String, chunkSize: Int, salt: Data, context: String) {
            self.keyID = keyID
            self.chunkSize = chunkSize
            self.salt = salt
            self.context = context
            var bytes = SealedStream.magic
            bytes.append(Hex.decode(keyID) ?? Data(count: 8))
            bytes.append(contentsOf: withUnsafeBytes(of: UInt32(chunkSize).bigEndian, Array.init))
            bytes.append(salt)
            let contextBytes = Data(context.utf8)
            bytes.append(contentsOf: withUnsafeBytes(of: UInt16(contextBytes.count).bigEndian, Array.init))
            bytes.append(contextBytes)
            self.bytes = bytes
        }

        /// Whether `prefix` (a file's first bytes) starts like a sealed file.
        public static func isSealed(_ prefix: Data) -> Bool { prefix.starts(with: SealedStream.magic) }

        /// Reads a header from the front of `data`. `nil` when `data` is too short to tell (more
        /// bytes are needed); a failure when it is not a sealed file's header.
        public static func parse(_ data: Data) throws -> Header? {
            guard data.count >= fixedHeaderSize else {
                if !SealedStream.magic.starts(with: data.prefix(4)) { throw Failure("not a sealed file (no CSF1 marker)") }
                return nil
            }
            let bytes = [UInt8](data.prefix(fixedHeaderSize + Int(UInt16.max)))
            guard bytes.starts(with: SealedStream.magic) else { throw Failure("not a sealed file (no CSF1 marker)") }
            let chunkSize = bytes[12..<16].reduce(0) { $0 << 8 | Int($1) }
            let contextLength = Int(bytes[32]) << 8 | Int(bytes[33])
            guard chunkSize >= 1, chunkSize <= 1 << 24 else { throw Failure("a sealed file's header names an impossible chunk size (\(chunkSize))") }
            guard bytes.count >= fixedHeaderSize + contextLength else { return nil }
            guard let context = String(validating: bytes[fixedHeaderSize..<(fixedHeaderSize + contextLength)], as: UTF8.self) else {
                throw Failure("a sealed file's context is not UTF-8")
            }
            let header = Header(keyID: Hex.encode(bytes[4..<12]), chunkSize: chunkSize, salt: Data(bytes[16..<32]), context: context)
            return header
        }

        /// How many plain bytes a sealed file of `sealedSize` bytes with this header holds.
        public func plainSize(sealedSize: Int) -> Int? {
            let body = sealedSize - bytes.count
            let sealedChunk = chunkSize + SealedStream.tagSize
            guard body >= SealedStream.tagSize else { return nil }
            let chunks = (body + sealedChunk - 1) / sealedChunk
            return body - chunks * SealedStream.tagSize
        }
    }

    static func fileKey(_ key: SymmetricKey, header: Header) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(
            inputKeyMaterial: key, salt: header.salt, info: Data("custos sealed file v1\u{0}\(header.context)".utf8), outputByteCount: 32)
    }

    static func nonce(_ counter: UInt64, last: Bool) throws -> AES.GCM.Nonce {
        var bytes = [UInt8](repeating: 0, count: 12)
        withUnsafeBytes(of: counter.bigEndian) { bytes.replaceSubrange(3..<11, with: $0) }
        bytes[11] = last ? 1 : 0
        return try AES.GCM.Nonce(data: bytes)
    }

    /// Takes every whole chunk of `pending` but the last and keeps the rest: only the end of the
    /// stream tells whether a chunk is the last one (the encoder's and the decoder's shared step).
    static func takeChunks(from pending: inout Data, size: Int) -> [Data] {
        guard pending.count > size else { return [] }
        var chunks: [Data] = []
        var start = pending.startIndex
        while pending.endIndex - start > size {
            chunks.append(pending[start..<(start + size)])
            start += size
        }
        pending = Data(pending[start...])
        return chunks
    }

    /// Seals a stream piece by piece: `seal` returns what is ready to be written, and `finish` the
    /// last chunk. One chunk is held back until the next bytes or the end show whether it is last.
    public struct Encoder: Sendable {
        public let header: Header
        private let key: SymmetricKey
        private var pending = Data()
        private var counter: UInt64 = 0
        /// The header, until the first bytes are handed out.
        private var unwritten: Data
        private var finished = false

        init(storageKey: SymmetricKey, keyID: String, context: String, chunkSize: Int = SealedStream.defaultChunkSize) {
            let salt = SymmetricKey(size: .bits128).withUnsafeBytes { Data($0) }
            header = Header(keyID: keyID, chunkSize: chunkSize, salt: salt, context: context)
            key = SealedStream.fileKey(storageKey, header: header)
            unwritten = header.bytes
        }

        /// The sealed bytes that `plain` completes (the header first, once).
        public mutating func seal(_ plain: Data) throws -> Data {
            precondition(!finished, "sealing after finish")
            pending.append(plain)
            var out = unwritten
            unwritten = Data()
            for chunk in SealedStream.takeChunks(from: &pending, size: header.chunkSize) { out.append(try sealChunk(chunk, last: false)) }
            return out
        }

        /// The last chunk (and the header, for an empty file).
        public mutating func finish() throws -> Data {
            precondition(!finished, "finish twice")
            finished = true
            var out = unwritten
            unwritten = Data()
            out.append(try sealChunk(pending, last: true))
            pending = Data()
            return out
        }

        private mutating func sealChunk(_ plain: Data, last: Bool) throws -> Data {
            let box = try AES.GCM.seal(plain, using: key, nonce: try SealedStream.nonce(counter, last: last), authenticating: header.bytes)
            counter += 1
            return box.ciphertext + box.tag
        }
    }

    /// Opens a sealed stream piece by piece, each chunk authenticated before its bytes are handed
    /// out. `finish` fails unless the last chunk was seen, so a truncated file never reads as whole.
    public struct Decoder: Sendable {
        public let header: Header
        private let key: SymmetricKey
        private var pending = Data()
        private var counter: UInt64 = 0

        init(header: Header, storageKey: SymmetricKey) {
            self.header = header
            key = SealedStream.fileKey(storageKey, header: header)
        }

        /// The plain bytes that `sealed` (the bytes after the header) completes.
        public mutating func open(_ sealed: Data) throws -> Data {
            pending.append(sealed)
            var out = Data()
            for chunk in SealedStream.takeChunks(from: &pending, size: header.chunkSize + SealedStream.tagSize) { out.append(try openChunk(chunk, last: false)) }
            return out
        }

        /// The last chunk's plain bytes.
        public mutating func finish() throws -> Data {
            let last = try openChunk(pending, last: true)
            pending = Data()
            return last
        }

        private mutating func openChunk(_ sealed: Data, last: Bool) throws -> Data {
            guard sealed.count >= SealedStream.tagSize else { throw Failure("the sealed file is truncated (chunk \(counter) is incomplete)") }
            do {
                let box = try AES.GCM.SealedBox(
                    nonce: try SealedStream.nonce(counter, last: last), ciphertext: sealed.dropLast(SealedStream.tagSize),
                    tag: sealed.suffix(SealedStream.tagSize))
                let plain = try AES.GCM.open(box, using: key, authenticating: header.bytes)
                counter += 1
                return plain
            } catch {
                throw Failure(
                    last
                        ? "the sealed file does not authenticate at its end (chunk \(counter)): it was altered, truncated or extended"
                        : "the sealed file does not authenticate at chunk \(counter): it was altered or reordered")
            }
        }
    }
}

extension StorageSealer {
    /// An encoder under the current key, or `nil` when this sealer has none (files are then
    /// written plain, as documents are).
    public func streamEncoder(context: String, chunkSize: Int = SealedStream.defaultChunkSize) -> SealedStream.Encoder? {
        guard let currentID, let key = keys[currentID] else { return nil }
        return SealedStream.Encoder(storageKey: key, keyID: currentID, context: context, chunkSize: chunkSize)
    }

    /// A decoder for a file with `header`, which must have been sealed for `context` (when given).
    public func streamDecoder(for header: SealedStream.Header, context: String?) throws -> SealedStream.Decoder {
        if let context, header.context != context {
            throw SealedStream.Failure("the sealed file belongs to \(header.context), not \(context)")
        }
        guard let key = keys[header.keyID] else {
            throw SealedStream.Failure("the storage key \(header.keyID) is missing from the key folder")
        }
        return SealedStream.Decoder(header: header, storageKey: key)
    }

    /// Whether a file with `header` is sealed with the current key (rotation skips those).
    public func isCurrent(_ header: SealedStream.Header) -> Bool { header.keyID == currentID }
}
