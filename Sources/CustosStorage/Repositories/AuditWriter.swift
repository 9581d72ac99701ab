import Crypto
import CustosDomain
import FluentKit
import Foundation
import MerkleLog
import SQLKit

/// Appends to the audit trail inside the caller's transaction: each entry is hash-chained to the
/// previous one and becomes the next leaf of the audit Merkle log (issue 6), in the same transaction.
///
/// The chain head lives in the `counters` row `audit`; locking that row (PostgreSQL `FOR UPDATE`)
/// serialises concurrent appenders so the chain and the log stay linear across app instances.
enum AuditWriter {
    static let headCounter = "audit"

    static func makeNonce() -> String {
        SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }.base64EncodedString()
    }

    @discardableResult
    static func append(_ records: [AuditRecord], on database: any Database, isPostgres: Bool) async throws -> [AuditEntry] {
        guard !records.isEmpty else { return [] }
        let head = try await Counters.lock(headCounter, on: database, isPostgres: isPostgres)
        var previous: (sequence: Int, hash: String)? = head.value == 0 ? nil : (head.value, head.textValue)
        var rows: [AuditRow] = []
        var leaves: [Data] = []
        var entries: [AuditEntry] = []
        for record in records {
            let entry = try AuditChain.append(record, after: previous)
            let row = AuditRow()
            row.id = UUID()
            row.sequence = entry.sequence
            row.caseID = record.caseID
            row.subject = record.subject
            row.action = record.action
            row.outcome = record.outcome.rawValue
            row.actor = record.actor
            row.at = record.at
            row.body = String(decoding: try AuditChain.recordBytes(record), as: UTF8.self)
            row.previousHash = entry.previousHash
            row.hash = entry.hash
            let nonce = makeNonce()
            row.nonce = nonce
            leaves.append(MerkleHash.leaf(AuditLeaf.bytes(nonce: Data(base64Encoded: nonce)!, recordJSON: row.body)))
            rows.append(row)
            entries.append(entry)
            previous = (entry.sequence, entry.hash)
        }
        try await rows.create(on: database)
        let first = try await MerkleLogStore.append(.audit, leafHashes: leaves, entries: nil, on: database, isPostgres: isPostgres)
        // The log's leaf index is the entry's sequence minus one; a mismatch means the two diverged.
        guard first == UInt64(rows[0].sequence - 1) else {
            throw StorageError.corrupted("the audit log has \(first) leaves but the next audit entry is number \(rows[0].sequence)")
        }
        head.value = previous!.sequence
        head.textValue = previous!.hash
        try await head.update(on: database)
        return entries
    }
}

/// Named counters, locked for the length of the caller's transaction.
enum Counters {
    static func lock(_ name: String, on database: any Database, isPostgres: Bool) async throws -> CounterRow {
        if isPostgres {
            try await (database as! any SQLDatabase).raw("SELECT name FROM counters WHERE name = \(bind: name) FOR UPDATE").run()
        }
        if let row = try await CounterRow.find(name, on: database) { return row }
        let row = CounterRow()
        row.id = name
        row.value = 0
        row.textValue = ""
        try await row.create(on: database)
        return row
    }
}
