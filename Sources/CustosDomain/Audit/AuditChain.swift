import Crypto
import Foundation

/// The hash chain that makes the audit trail tamper-evident until the Merkle log replaces it:
/// each entry's hash covers its sequence, the previous entry's hash and its record's canonical JSON.
public enum AuditChain {
    public static let genesisHash = String(repeating: "0", count: 64)

    /// The exact bytes hashed for an entry: canonical (sorted-key) JSON of sequence, previous hash and record.
    public static func canonicalBytes(sequence: Int, previousHash: String, record: AuditRecord) throws -> Data {
        canonicalBytes(sequence: sequence, previousHash: previousHash, recordJSON: Data(record.canonicalJSON()))
    }

    /// The same bytes, assembled around a record already encoded (sorted keys put `previousHash` <
    /// `record` < `sequence`), so an append encodes each record once.
    public static func canonicalBytes(sequence: Int, previousHash: String, recordJSON: Data) -> Data {
        var bytes = Data("{\"previousHash\":\"\(previousHash)\",\"record\":".utf8)
        bytes.append(recordJSON)
        bytes.append(contentsOf: ",\"sequence\":\(sequence)}".utf8)
        return bytes
    }

    /// Chains an already encoded record after `previous`. Hashes the canonical bytes in three
    /// pieces rather than assembling them (the audit append path runs this per record).
    public static func append(recordJSON: Data, after previous: (sequence: Int, hash: String)?) -> (sequence: Int, previousHash: String, hash: String) {
        let sequence = (previous?.sequence ?? 0) + 1
        let previousHash = previous?.hash ?? genesisHash
        var hasher = SHA256()
        hasher.update(data: Data("{\"previousHash\":\"\(previousHash)\",\"record\":".utf8))
        hasher.update(data: recordJSON)
        hasher.update(data: Data(",\"sequence\":\(sequence)}".utf8))
        return (sequence, previousHash, Hex.encode(hasher.finalize()))
    }

    /// The canonical bytes of a record alone, as storage keeps them.
    public static func recordBytes(_ record: AuditRecord) throws -> Data {
        Data(record.canonicalJSON())
    }

    public static func hash(of bytes: Data) -> String {
        Hex.encode(SHA256.hash(data: bytes))
    }

    /// Chains a record after `previous` (nil for the first entry).
    public static func append(_ record: AuditRecord, after previous: (sequence: Int, hash: String)?) throws -> AuditEntry {
        let sequence = (previous?.sequence ?? 0) + 1
        let previousHash = previous?.hash ?? genesisHash
        let bytes = try canonicalBytes(sequence: sequence, previousHash: previousHash, record: record)
        return AuditEntry(sequence: sequence, record: record, previousHash: previousHash, hash: hash(of: bytes))
    }

    public enum VerificationFailure: Error, Equatable, Sendable {
        case gap(expected: Int, found: Int)
        case brokenLink(sequence: Int)
        case alteredEntry(sequence: Int)
    }

    /// Checks a run of entries starting at sequence 1: no gaps, every link and every hash intact.
    public static func verify(_ entries: [AuditEntry]) throws(VerificationFailure) {
        var previous: AuditEntry?
        for entry in entries {
            let expected = (previous?.sequence ?? 0) + 1
            guard entry.sequence == expected else { throw .gap(expected: expected, found: entry.sequence) }
            guard entry.previousHash == (previous?.hash ?? genesisHash) else { throw .brokenLink(sequence: entry.sequence) }
            guard
                let bytes = try? canonicalBytes(sequence: entry.sequence, previousHash: entry.previousHash, record: entry.record),
                hash(of: bytes) == entry.hash
            else { throw .alteredEntry(sequence: entry.sequence) }
            previous = entry
        }
    }
}
