import CustosDomain
import FluentKit
import Foundation
import SQLKit

/// Appends to the hash-chained audit trail inside the caller's transaction.
///
/// The chain head lives in the `counters` row `audit`; locking that row (PostgreSQL `FOR UPDATE`)
/// serialises concurrent appenders so the chain stays linear across app instances.
enum AuditWriter {
    static let headCounter = "audit"

    static func append(_ records: [AuditRecord], on database: any Database, isPostgres: Bool) async throws {
        guard !records.isEmpty else { return }
        let head = try await Counters.lock(headCounter, on: database, isPostgres: isPostgres)
        var previous: (sequence: Int, hash: String)? = head.value == 0 ? nil : (head.value, head.textValue)
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
            try await row.create(on: database)
            previous = (entry.sequence, entry.hash)
        }
        head.value = previous!.sequence
        head.textValue = previous!.hash
        try await head.update(on: database)
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
