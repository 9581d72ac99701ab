import Crypto
import Foundation

/// How an audit entry becomes a leaf of the audit Merkle log: a `custos-audit/v1` entry with a
/// random nonce (inclusion proofs of audit leaves are published inside legal-process entries, and
/// the nonce keeps their sibling hashes from being guessed) and the record's canonical JSON.
public enum AuditLeaf {
    public static func bytes(nonce: Data, recordJSON: String) -> Data {
        bytes(nonceBase64: nonce.base64EncodedString(), recordJSON: Data(recordJSON.utf8))
    }

    /// The leaf from the nonce as stored (base64) and the record's JSON bytes; the same bytes as a
    /// `LogEntry` with lines `nonce` and `record`, built directly because verification runs it for
    /// every entry.
    public static func bytes(nonceBase64: String, recordJSON: Data) -> Data {
        Data(("custos-audit/v1 entry\nnonce " + nonceBase64 + "\nrecord " + recordJSON.base64EncodedString() + "\n").utf8)
    }

    /// `MerkleHash.leaf(bytes(nonceBase64:recordJSON:))`, computed in one buffer with one SHA-256
    /// call: every audit append and every verification computes one per entry, and assembling
    /// the leaf through `String` and Foundation's base64 cost three times the hashing.
    public static func leafHash(nonceBase64: String, recordJSON: Data) -> Data {
        var nonce = nonceBase64
        var digest = Data(count: 32)
        nonce.withUTF8 { nonceBytes in
            recordJSON.withUnsafeBytes { json in
                let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: leafSize(nonceCount: nonceBytes.count, recordCount: json.count), alignment: 8)
                defer { scratch.deallocate() }
                digest.withUnsafeMutableBytes { out in
                    writeLeafHash(nonceBase64: UnsafeRawBufferPointer(nonceBytes), recordJSON: json, scratch: scratch, into: out.baseAddress!)
                }
            }
        }
        return digest
    }

    /// The bytes a leaf takes with its RFC 6962 prefix byte: the size `writeLeafHash` needs.
    public static func leafSize(nonceCount: Int, recordCount: Int) -> Int {
        1 + leafPrefix.utf8CodeUnitCount + nonceCount + recordLinePrefix.utf8CodeUnitCount + Base64.encodedCount(recordCount) + 1
    }

    /// Writes the leaf hash's 32 bytes at `out`. The leaf is assembled in `scratch`, which must
    /// hold `leafSize` bytes and is the caller's to reuse: verification hashes a million stored
    /// entries straight from the page they were read into, without an allocation per entry.
    public static func writeLeafHash(
        nonceBase64 nonceBytes: UnsafeRawBufferPointer, recordJSON json: UnsafeRawBufferPointer, scratch: UnsafeMutableRawBufferPointer,
        into out: UnsafeMutableRawPointer
    ) {
        let total = leafSize(nonceCount: nonceBytes.count, recordCount: json.count)
        precondition(scratch.count >= total, "scratch space for the leaf")
        // Straight-line copies: a nested function capturing the cursor would box it and check
        // exclusive access on every use (a few per cent of verification's time).
        var cursor = scratch.baseAddress!
        cursor.storeBytes(of: 0x00, as: UInt8.self)  // RFC 6962 §2.1: the leaf's domain-separation byte
        cursor += 1
        cursor = leafPrefix.withUTF8Buffer { cursor.copying($0) }
        cursor = cursor.copying(nonceBytes)
        cursor = recordLinePrefix.withUTF8Buffer { cursor.copying($0) }
        Base64.encode(json, into: cursor.assumingMemoryBound(to: UInt8.self))
        cursor += Base64.encodedCount(json.count)
        cursor.storeBytes(of: UInt8(ascii: "\n"), as: UInt8.self)
        var hasher = SHA256()
        hasher.update(bufferPointer: UnsafeRawBufferPointer(start: scratch.baseAddress, count: total))
        hasher.finalize().withUnsafeBytes { digest in
            out.copyMemory(from: digest.baseAddress!, byteCount: digest.count)
        }
    }

    private static let leafPrefix: StaticString = "custos-audit/v1 entry\nnonce "
    private static let recordLinePrefix: StaticString = "\nrecord "
}

extension UnsafeMutableRawPointer {
    /// Copies `bytes` here and returns the address just past them.
    fileprivate func copying(_ bytes: UnsafeRawBufferPointer) -> UnsafeMutableRawPointer {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return self }
        copyMemory(from: base, byteCount: bytes.count)
        return self + bytes.count
    }

    fileprivate func copying(_ bytes: UnsafeBufferPointer<UInt8>) -> UnsafeMutableRawPointer { copying(UnsafeRawBufferPointer(bytes)) }
}

/// Standard base64 with padding (RFC 4648 §4), written straight into memory. Hand-written for the
/// audit leaf's hot path (see `AuditLeaf.leafHash`); `AuditLeafHashTests` pin it to Foundation's.
/// Each 12 bits of input become two output characters through one table lookup.
enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    /// For every 12-bit value, its two characters as they lie in memory (first at the lower address).
    private static let pairs: [UInt16] = (0..<4096).map { UInt16(littleEndian: UInt16(alphabet[$0 >> 6]) | UInt16(alphabet[$0 & 0x3F]) << 8) }

    static func encodedCount(_ count: Int) -> Int { (count + 2) / 3 * 4 }

    /// Writes `encodedCount(bytes.count)` bytes at `out`.
    static func encode(_ bytes: UnsafeRawBufferPointer, into out: UnsafeMutablePointer<UInt8>) {
        pairs.withUnsafeBufferPointer { pairs in
            let count = bytes.count
            var index = 0
            let write = UnsafeMutableRawPointer(out)
            var offset = 0
            // Six input bytes at a time, from one 8-byte load (the last two bytes are not used, so
            // the loop stops while 8 remain), into eight characters in one store.
            while index + 8 <= count {
                let word = UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self))
                let characters =
                    UInt64(pairs[Int(word >> 52)]) | UInt64(pairs[Int(word >> 40 & 0xFFF)]) << 16
                    | UInt64(pairs[Int(word >> 28 & 0xFFF)]) << 32 | UInt64(pairs[Int(word >> 16 & 0xFFF)]) << 48
                write.storeBytes(of: UInt64(littleEndian: characters), toByteOffset: offset, as: UInt64.self)
                offset += 8
                index += 6
            }
            while index + 3 <= count {
                let triple = Int(bytes[index]) << 16 | Int(bytes[index + 1]) << 8 | Int(bytes[index + 2])
                write.storeBytes(of: pairs[triple >> 12], toByteOffset: offset, as: UInt16.self)
                write.storeBytes(of: pairs[triple & 0xFFF], toByteOffset: offset + 2, as: UInt16.self)
                offset += 4
                index += 3
            }
            let rest = count - index
            guard rest > 0 else { return }
            alphabet.withUnsafeBufferPointer { table in
                let value = UInt32(bytes[index]) << 16 | (rest == 2 ? UInt32(bytes[index + 1]) << 8 : 0)
                out[offset] = table[Int(value >> 18)]
                out[offset + 1] = table[Int(value >> 12 & 0x3F)]
                out[offset + 2] = rest == 2 ? table[Int(value >> 6 & 0x3F)] : UInt8(ascii: "=")
                out[offset + 3] = UInt8(ascii: "=")
            }
        }
    }
}
