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

    /// Random bytes from the system's CSPRNG (through BoringSSL), fetched once for a whole batch.
    static func randomBytes(_ count: Int) -> [UInt8] {
        SymmetricKey(size: SymmetricKeySize(bitCount: count * 8)).withUnsafeBytes { Array($0) }
    }

    static let columns = ["sequence", "case_id", "subject", "action", "outcome", "actor", "at", "body", "previous_hash", "hash", "nonce"]

    /// Records are prepared and inserted in chunks of this many: while one chunk's rows go into
    /// the database (on SQLite's thread), the next chunk is encoded and hashed.
    static let chunkSize = 250

    @discardableResult
    static func append(_ records: [AuditRecord], on database: any Database, isPostgres: Bool) async throws -> [AuditEntry] {
        guard !records.isEmpty else { return [] }
        let head = try await Counters.lock(headCounter, on: database, isPostgres: isPostgres)
        var log = try await LogAppend.begin(.audit, on: database, isPostgres: isPostgres)
        // The log's leaf index is the entry's sequence minus one; a mismatch means the two diverged.
        guard log.first == UInt64(head.value) else {
            throw StorageError.corrupted("the audit log has \(log.first) leaves but the audit trail has \(head.value) entries")
        }
        var previous: (sequence: Int, hash: String)? = head.value == 0 ? nil : (head.value, head.textValue)
        // 32 random bytes per record for its leaf's nonce, fetched at once.
        let random = randomBytes(records.count * 32)
        var entries: [AuditEntry] = []
        entries.reserveCapacity(records.count)
        try await withThrowingTaskGroup(of: Void.self) { inserts in
            for chunkStart in stride(from: 0, to: records.count, by: chunkSize) {
                let chunk = records[chunkStart..<min(chunkStart + chunkSize, records.count)]
                var values: [BulkValue] = []
                values.reserveCapacity(chunk.count * columns.count)
                var leaves: [Data] = []
                leaves.reserveCapacity(chunk.count)
                for (offset, record) in zip(chunk.indices, chunk) {
                    let json = Data(record.canonicalJSON())
                    let chained = AuditChain.append(recordJSON: json, after: previous)
                    let nonce = Data(random[(offset * 32)..<(offset * 32 + 32)]).base64EncodedString()
                    leaves.append(AuditLeaf.leafHash(nonceBase64: nonce, recordJSON: json))
                    values.append(contentsOf: [
                        .integer(Int64(chained.sequence)), record.caseID.map { .uuid($0) } ?? .null, .text(record.subject),
                        .text(record.action), .text(record.outcome.rawValue), .text(record.actor), .date(record.at),
                        .text(String(decoding: json, as: UTF8.self)), .text(chained.previousHash), .text(chained.hash), .text(nonce),
                    ])
                    entries.append(AuditEntry(sequence: chained.sequence, record: record, previousHash: chained.previousHash, hash: chained.hash))
                    previous = (chained.sequence, chained.hash)
                }
                let nodes = log.add(leafHashes: leaves)
                // At most one chunk in flight: the connection runs one statement at a time anyway.
                try await inserts.next()
                inserts.addTask {
                    try await BulkInsert.run(into: AuditRow.schema, columns: columns, values: values, on: database)
                    try await BulkInsert.run(into: "log_nodes", columns: LogAppend.nodeColumns, values: nodes, on: database)
                }
            }
            try await inserts.waitForAll()
        }
        try await log.finish(on: database)
        head.value = previous!.sequence
        head.textValue = previous!.hash
        try await head.update(on: database)
        return entries
    }
}

/// Named counters, locked for the length of the caller's transaction. Hand-written SQL: every
/// audited change reads and writes the chain head, and intake its case number too.
enum Counters {
    /// A counter as read under its lock; `update(on:)` writes it back in the same transaction.
    final class Locked {
        let name: String
        var value: Int
        var textValue: String

        init(name: String, value: Int, textValue: String) {
            (self.name, self.value, self.textValue) = (name, value, textValue)
        }

        func update(on database: any Database) async throws {
            try await (database as! any SQLDatabase).raw(
                "UPDATE counters SET value = \(bind: value), text_value = \(bind: textValue) WHERE name = \(bind: name)"
            ).run()
        }
    }

    /// Reads the counter, locking its row on PostgreSQL (`FOR UPDATE`; SQLite has one writer at a
    /// time anyway); a counter not yet stored starts at zero.
    static func lock(_ name: String, on database: any Database, isPostgres: Bool) async throws -> Locked {
        let sql = database as! any SQLDatabase
        let lock: SQLQueryString = isPostgres ? " FOR UPDATE" : ""
        if let row = try await sql.raw("SELECT value, text_value FROM counters WHERE name = \(bind: name)\(lock)").first() {
            return Locked(
                name: name, value: try row.decode(column: "value", as: Int.self), textValue: try row.decode(column: "text_value", as: String.self))
        }
        try await sql.raw("INSERT INTO counters (name, value, text_value) VALUES (\(bind: name), 0, '')").run()
        return Locked(name: name, value: 0, textValue: "")
    }
}
