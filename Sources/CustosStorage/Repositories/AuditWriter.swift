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

    /// A time-ordered UUID (RFC 9562 version 7: 48-bit Unix milliseconds, then random bits), so
    /// new audit rows land at the end of the primary-key index instead of all over it.
    static func timeOrderedID(at time: Date) -> UUID {
        var bytes = SymmetricKey(size: .bits128).withUnsafeBytes { Array($0) }
        let milliseconds = UInt64(max(0, time.timeIntervalSince1970 * 1000))
        for i in 0..<6 { bytes[i] = UInt8(truncatingIfNeeded: milliseconds >> (40 - 8 * UInt64(i))) }
        bytes[6] = 0x70 | (bytes[6] & 0x0F)
        bytes[8] = 0x80 | (bytes[8] & 0x3F)
        return UUID(uuid: (bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7], bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]))
    }

    static func makeNonce() -> String {
        SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }.base64EncodedString()
    }

    @discardableResult
    static func append(_ records: [AuditRecord], on database: any Database, isPostgres: Bool) async throws -> [AuditEntry] {
        guard !records.isEmpty else { return [] }
        let head = try await Counters.lock(headCounter, on: database, isPostgres: isPostgres)
        var previous: (sequence: Int, hash: String)? = head.value == 0 ? nil : (head.value, head.textValue)
        let encoder = CustosJSON.makeEncoder()
        var leaves: [Data] = []
        var entries: [AuditEntry] = []
        // Plain multi-row inserts (1,000 rows each, well within both databases' bind limits):
        // Fluent's per-model reflection cost more than the rest of an append.
        let sql = database as! any SQLDatabase
        func newInsert() -> SQLInsertBuilder {
            sql.insert(into: AuditRow.schema)
                .columns("id", "sequence", "case_id", "subject", "action", "outcome", "actor", "at", "body", "previous_hash", "hash", "nonce")
        }
        var insert = newInsert()
        var pending = 0
        for record in records {
            let json = try encoder.encode(record)
            let chained = AuditChain.append(recordJSON: json, after: previous)
            let nonce = makeNonce()
            leaves.append(MerkleHash.leaf(AuditLeaf.bytes(nonceBase64: nonce, recordJSON: json)))
            insert = insert.values(
                SQLBind(timeOrderedID(at: record.at)), SQLBind(chained.sequence), SQLBind(record.caseID), SQLBind(record.subject), SQLBind(record.action),
                SQLBind(record.outcome.rawValue), SQLBind(record.actor), SQLBind(record.at), SQLBind(String(decoding: json, as: UTF8.self)),
                SQLBind(chained.previousHash), SQLBind(chained.hash), SQLBind(nonce))
            entries.append(AuditEntry(sequence: chained.sequence, record: record, previousHash: chained.previousHash, hash: chained.hash))
            previous = (chained.sequence, chained.hash)
            pending += 1
            if pending == 1000 {
                try await insert.run()
                insert = newInsert()
                pending = 0
            }
        }
        if pending > 0 { try await insert.run() }
        let first = try await MerkleLogStore.append(.audit, leafHashes: leaves, entries: nil, on: database, isPostgres: isPostgres)
        // The log's leaf index is the entry's sequence minus one; a mismatch means the two diverged.
        guard first == UInt64(entries[0].sequence - 1) else {
            throw StorageError.corrupted("the audit log has \(first) leaves but the next audit entry is number \(entries[0].sequence)")
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
