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
        return nonce.withUTF8 { nonceBytes in
            recordJSON.withUnsafeBytes { json in
                let encodedCount = Base64.encodedCount(json.count)
                let total = 1 + leafPrefix.count + nonceBytes.count + recordLinePrefix.count + encodedCount + 1
                let leaf = [UInt8](unsafeUninitializedCapacity: total) { out, initialized in
                    var cursor = out.baseAddress!
                    func put(_ bytes: UnsafeBufferPointer<UInt8>) {
                        cursor.initialize(from: bytes.baseAddress!, count: bytes.count)
                        cursor += bytes.count
                    }
                    cursor.initialize(to: 0x00)  // RFC 6962 §2.1: the leaf's domain-separation byte
                    cursor += 1
                    leafPrefix.withUnsafeBufferPointer(put)
                    if nonceBytes.count > 0 { put(nonceBytes) }
                    recordLinePrefix.withUnsafeBufferPointer(put)
                    Base64.encode(json, into: cursor)
                    cursor += encodedCount
                    cursor.initialize(to: UInt8(ascii: "\n"))
                    initialized = total
                }
                return leaf.withUnsafeBytes { Data(SHA256.hash(data: $0)) }
            }
        }
    }

    private static let leafPrefix = Array("custos-audit/v1 entry\nnonce ".utf8)
    private static let recordLinePrefix = Array("\nrecord ".utf8)
}

/// Standard base64 with padding (RFC 4648 §4), written straight into memory. Hand-written for the
/// audit leaf's hot path (see `AuditLeaf.leafHash`); `AuditLeafHashTests` pin it to Foundation's.
enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    static func encodedCount(_ count: Int) -> Int { (count + 2) / 3 * 4 }

    /// Writes `encodedCount(bytes.count)` bytes at `out`.
    static func encode(_ bytes: UnsafeRawBufferPointer, into out: UnsafeMutablePointer<UInt8>) {
        alphabet.withUnsafeBufferPointer { table in
            let count = bytes.count
            var index = 0
            var write = out
            while index + 3 <= count {
                let triple = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2])
                write[0] = table[Int(triple >> 18)]
                write[1] = table[Int(triple >> 12 & 0x3F)]
                write[2] = table[Int(triple >> 6 & 0x3F)]
                write[3] = table[Int(triple & 0x3F)]
                write += 4
                index += 3
            }
            let rest = count - index
            guard rest > 0 else { return }
            let value = UInt32(bytes[index]) << 16 | (rest == 2 ? UInt32(bytes[index + 1]) << 8 : 0)
            write[0] = table[Int(value >> 18)]
            write[1] = table[Int(value >> 12 & 0x3F)]
            write[2] = rest == 2 ? table[Int(value >> 6 & 0x3F)] : UInt8(ascii: "=")
            write[3] = UInt8(ascii: "=")
        }
    }
}
