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
}
