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

    /// `MerkleHash.leaf(bytes(nonceBase64:recordJSON:))`, hashed piece by piece without assembling
    /// the bytes (every audit append and every verification computes one per entry).
    public static func leafHash(nonceBase64: String, recordJSON: Data) -> Data {
        var hasher = SHA256()
        hasher.update(data: leafPrefix)
        hasher.update(data: Data(nonceBase64.utf8))
        hasher.update(data: recordLinePrefix)
        hasher.update(data: recordJSON.base64EncodedData())
        hasher.update(data: lineEnd)
        return Data(hasher.finalize())
    }

    /// The leaf's domain-separation byte (RFC 6962 §2.1) and the entry's first line.
    private static let leafPrefix = Data([0x00] + Array("custos-audit/v1 entry\nnonce ".utf8))
    private static let recordLinePrefix = Data("\nrecord ".utf8)
    private static let lineEnd = Data("\n".utf8)
}
