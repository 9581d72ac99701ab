import CustosDomain
import FluentKit
import SQLKit
import Foundation

/// The requester blocklist (issue 8): this installation's own entries and the feeds it accepted.
public struct BlocklistStore: Sendable {
    public static let local = "local"
    let store: CustosDatabase
    public init(store: CustosDatabase) { self.store = store }

    /// Every entry, whatever its source.
    public func all() async throws -> [BlocklistEntry] {
        try await BlocklistRow.query(on: store.database).all().compactMap { $0.entry() }
    }

    /// The entries among `candidates` (`BlocklistFeed.candidates(for:)`), whatever their source:
    /// what an incoming demand's sender is checked against, through the value index (M026).
    public func entries(matching candidates: [BlocklistEntry]) async throws -> [BlocklistEntry] {
        guard !candidates.isEmpty else { return [] }
        let wanted = Set(candidates)
        // A plain statement (`ModelStatements`): every demand's red flags ask.
        var query = SQLQueryString("SELECT * FROM \(unsafeRaw: BlocklistRow.schema) WHERE \(unsafeRaw: BlocklistRow.column(\.$value)) IN (")
        for (offset, value) in Set(candidates.map(\.value)).enumerated() {
            query.appendLiteral(offset == 0 ? "" : ", ")
            query.appendInterpolation(bind: value)
        }
        query.appendLiteral(")")
        return try await ModelStatements.rows(BlocklistRow.self, selectedBy: query, on: store.database).compactMap { $0.entry() }
            .filter { wanted.contains($0) }
    }

    /// This installation's own entries (what it shares).
    public func localEntries() async throws -> [BlocklistEntry] {
        try await BlocklistRow.query(on: store.database).filter(\.$source == Self.local).all().compactMap { $0.entry() }
    }

    /// How many entries each source holds.
    public func sources() async throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for row in try await BlocklistRow.query(on: store.database).all() { counts[row.source, default: 0] += 1 }
        return counts
    }

    /// Adds one of this installation's own entries, with an audit entry; false when it was there.
    @discardableResult
    public func add(_ entry: BlocklistEntry, reason: String, by actor: String, at time: Date) async throws -> Bool {
        let isPostgres = store.location.isPostgres
        return try await store.database.transaction { tx in
            if try await BlocklistRow.query(on: tx).filter(\.$source == Self.local).filter(\.$kind == entry.kind.rawValue)
                .filter(\.$value == entry.value).filter(\.$hashed == entry.isHashed).first() != nil
            {
                return false
            }
            try await Self.row(entry, source: Self.local, reason: reason, by: actor, at: time).create(on: tx)
            try await AuditWriter.append([AuditRecord(
                caseID: nil, subject: "blocklist:local", action: "blocklist.added", actor: actor, at: time,
                details: ["kind": entry.kind.rawValue, "value": entry.value, "hashed": String(entry.isHashed), "reason": reason])],
                on: tx, isPostgres: isPostgres)
            return true
        }
    }

    /// Replaces every entry from `source` (another installation's feed) with the new feed's, in one
    /// transaction with its audit entry, so a removal there is a removal here.
    public func replaceFeed(source: String, entries: [BlocklistEntry], issuedAt: Date, by actor: String, at time: Date) async throws {
        precondition(source != Self.local, "a feed never replaces this installation's own entries")
        let isPostgres = store.location.isPostgres
        try await store.database.transaction { tx in
            let before = try await BlocklistRow.query(on: tx).filter(\.$source == source).count()
            try await BlocklistRow.query(on: tx).filter(\.$source == source).delete()
            for entry in Set(entries) {
                try await Self.row(entry, source: source, reason: "feed issued \(Timestamp.format(issuedAt))", by: actor, at: time).create(on: tx)
            }
            try await AuditWriter.append([AuditRecord(
                caseID: nil, subject: "blocklist:\(source)", action: "blocklist.feed_imported", actor: actor, at: time,
                details: ["source": source, "issued": Timestamp.format(issuedAt), "entries": "\(Set(entries).count)", "replaced": "\(before)"])],
                on: tx, isPostgres: isPostgres)
        }
    }

    static func row(_ entry: BlocklistEntry, source: String, reason: String, by actor: String, at time: Date) -> BlocklistRow {
        let row = BlocklistRow()
        row.id = UUID()
        row.source = source
        row.kind = entry.kind.rawValue
        row.value = entry.value
        row.hashed = entry.isHashed
        row.reason = reason
        row.addedBy = actor
        row.addedAt = time
        return row
    }
}
