import Foundation

/// How an audit entry becomes a leaf of the audit Merkle log: a `custos-audit/v1` entry with a
/// random nonce (inclusion proofs of audit leaves are published inside legal-process entries, and
/// the nonce keeps their sibling hashes from being guessed) and the record's canonical JSON.
public enum AuditLeaf {
    public static func bytes(nonce: Data, recordJSON: String) -> Data {
        LogEntry(header: "custos-audit/v1 entry", lines: [
            ("nonce", nonce.base64EncodedString()), ("record", Data(recordJSON.utf8).base64EncodedString()),
        ]).bytes
    }
}
