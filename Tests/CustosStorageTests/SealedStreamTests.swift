@testable import CustosStorage
import Foundation
import Testing

/// Issue 10, item 5: packages are sealed at rest as a stream of AES-256-GCM chunks. Whatever is
/// done to the sealed bytes (a flipped bit, a dropped, swapped, repeated or cut chunk, a changed
/// header, another case's context, another key) must fail to open; nothing else may.
@Suite struct SealedStreamTests {
    static let chunk = 64

    /// Seals `plain` handing the encoder pieces of varying sizes.
    static func seal(_ plain: Data, with sealer: StorageSealer, context: String = "package:x:production") throws -> Data {
        var encoder = try #require(sealer.streamEncoder(context: context, chunkSize: chunk))
        var out = Data()
        var offset = 0
        var step = 1
        while offset < plain.count {
            let end = min(plain.count, offset + step)
            out.append(try encoder.seal(plain[offset..<end]))
            offset = end
            step = step * 3 % 97 + 1
        }
        out.append(try encoder.finish())
        return out
    }

    /// Opens `sealed`, feeding the decoder pieces of varying sizes.
    static func open(_ sealed: Data, with sealer: StorageSealer, context: String? = "package:x:production") throws -> Data {
        guard let header = try SealedStream.Header.parse(sealed) else { throw SealedStream.Failure("short") }
        var decoder = try sealer.streamDecoder(for: header, context: context)
        var plain = Data()
        var offset = header.bytes.count
        var step = 5
        while offset < sealed.count {
            let end = min(sealed.count, offset + step)
            plain.append(try decoder.open(sealed[offset..<end]))
            offset = end
            step = step * 7 % 131 + 1
        }
        plain.append(try decoder.finish())
        return plain
    }

    @Test(arguments: [0, 1, 63, 64, 65, 128, 200, 1000])
    func roundTripsAtEverySizeAroundAChunk(size: Int) throws {
        let sealer = StorageSealer.ephemeral()
        let plain = Data((0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) })
        let sealed = try Self.seal(plain, with: sealer)
        let header = try #require(try SealedStream.Header.parse(sealed))
        #expect(header.chunkSize == Self.chunk && header.keyID == sealer.currentID && header.context == "package:x:production")
        #expect(header.plainSize(sealedSize: sealed.count) == size)
        #expect(try Self.open(sealed, with: sealer) == plain)
        #expect(try Self.seal(plain, with: sealer) != sealed, "a fresh salt, so a fresh file key, every time")
    }

    @Test func everyAlterationFailsToOpen() throws {
        let sealer = StorageSealer.ephemeral()
        let plain = Data((0..<300).map { UInt8(truncatingIfNeeded: $0) })  // 4 full chunks and a last one of 44
        let sealed = try Self.seal(plain, with: sealer)
        let header = try #require(try SealedStream.Header.parse(sealed))
        let start = header.bytes.count
        let size = Self.chunk + 16
        let chunks = stride(from: start, to: sealed.count, by: size).map { Data(sealed[$0..<min($0 + size, sealed.count)]) }
        #expect(chunks.count == 5)
        func fails(_ bytes: Data, _ why: Comment) {
            #expect(throws: (any Error).self, why) { _ = try Self.open(bytes, with: sealer) }
        }
        for index in stride(from: 0, to: sealed.count, by: 7) {
            var flipped = sealed
            flipped[index] ^= 0x01
            fails(flipped, "a flipped bit at \(index)")
        }
        let head = sealed.prefix(start)
        fails(head + chunks[0] + chunks[2] + chunks[1] + chunks[3] + chunks[4], "two chunks swapped")
        fails(head + chunks[0] + chunks[1] + chunks[3] + chunks[4], "a chunk dropped")
        fails(head + chunks[0] + chunks[1] + chunks[2] + chunks[3], "cut at a chunk boundary (the last chunk gone)")
        fails(head + chunks[0] + chunks[1] + chunks[2] + chunks[3] + chunks[4] + chunks[4], "the last chunk repeated")
        fails(sealed.dropLast(1), "one byte short")
        fails(sealed + Data([0]), "one byte more")
        fails(head, "nothing after the header")
        // the header is bound too: another chunk size or salt does not open
        var otherSize = sealed
        otherSize[15] ^= 0x01
        fails(otherSize, "the chunk size changed")
        // another case's place, another key
        #expect(throws: SealedStream.Failure.self) { _ = try Self.open(sealed, with: sealer, context: "package:y:production") }
        #expect(throws: SealedStream.Failure.self) { _ = try Self.open(sealed, with: StorageSealer.ephemeral()) }
        // a forged header naming another context, with the chunks kept, fails to authenticate
        let forged = try Self.seal(Data(), with: sealer, context: "package:y:production")
        let forgedHeader = try #require(try SealedStream.Header.parse(forged)).bytes
        #expect(throws: (any Error).self) { _ = try Self.open(forgedHeader + sealed.dropFirst(start), with: sealer, context: "package:y:production") }
        #expect(try Self.open(sealed, with: sealer) == plain)
    }

    @Test func filesWriteAndReadInPiecesAndPlainFilesStillRead() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sealed-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let sealer = StorageSealer.ephemeral()
        let plain = Data((0..<(3 << 20 + 12_345)).map { UInt8(truncatingIfNeeded: $0 &* 7) })
        let url = folder.appendingPathComponent("a.sealed")
        let writer = try SealedFileWriter(creating: url, sealer: sealer, context: "package:x:production")
        for offset in stride(from: 0, to: plain.count, by: 100_000) { try writer.write(plain[offset..<min(offset + 100_000, plain.count)]) }
        try writer.finish()
        #expect(SealedFileReader.isSealed(url))
        let attributes = try FileManager.default.attributesOfItem(atPath: url.path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        let reader = try SealedFileReader(url: url, sealer: sealer, context: "package:x:production")
        #expect(reader.plainSize == plain.count)
        var read = Data()
        try reader.forEach { read.append($0) }
        #expect(read == plain)
        #expect(throws: SealedStream.Failure.self) { _ = try SealedFileReader(url: url, sealer: sealer, context: "package:y:production") }
        // a file from before sealing existed reads as it is
        let old = folder.appendingPathComponent("old.zip")
        try Data("PK plain".utf8).write(to: old)
        #expect(!SealedFileReader.isSealed(old))
        var oldRead = Data()
        try SealedFileReader(url: old, sealer: sealer, context: "package:x:production").forEach { oldRead.append($0) }
        #expect(oldRead == Data("PK plain".utf8))
        // a sealer without keys writes plain bytes (tools without a data folder)
        let unsealed = folder.appendingPathComponent("plain")
        let plainWriter = try SealedFileWriter(creating: unsealed, sealer: .none, context: "")
        try plainWriter.write(Data("hello".utf8))
        try plainWriter.finish()
        #expect(try Data(contentsOf: unsealed) == Data("hello".utf8))
    }
}
