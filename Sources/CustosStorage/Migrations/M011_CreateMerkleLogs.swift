import CustosDomain
import FluentKit
import Foundation
import MerkleLog
import SQLKit

/// 011: the Merkle logs (issue 6). `log_nodes` holds every perfect subtree hash, written once when
/// it completes, so any proof is a handful of key lookups; `log_heads` holds each log's size and
/// right frontier so an append never reads the tree; `log_entries` the public log's entries;
/// `log_checkpoints` every signed checkpoint, one per size (never two roots for one size).
/// Existing audit entries get a nonce and become the audit log's first leaves.
struct M011_CreateMerkleLogs: AsyncMigration {
    var name: String { "011_CreateMerkleLogs" }

    func prepare(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        let isPostgres = sql.dialect.name == "postgresql"
        let blob = isPostgres ? "BYTEA" : "BLOB"
        let withoutRowID = isPostgres ? "" : " WITHOUT ROWID"
        try await sql.raw("""
            CREATE TABLE log_nodes (log INTEGER NOT NULL, node_key BIGINT NOT NULL, hash \(unsafeRaw: blob) NOT NULL,
            PRIMARY KEY (log, node_key))\(unsafeRaw: withoutRowID)
            """).run()
        try await sql.raw("CREATE TABLE log_heads (log INTEGER PRIMARY KEY, size BIGINT NOT NULL, frontier \(unsafeRaw: blob) NOT NULL)").run()
        try await sql.raw("""
            CREATE TABLE log_entries (log INTEGER NOT NULL, idx BIGINT NOT NULL, data \(unsafeRaw: blob) NOT NULL,
            PRIMARY KEY (log, idx))\(unsafeRaw: withoutRowID)
            """).run()
        try await sql.raw("""
            CREATE TABLE log_checkpoints (log INTEGER NOT NULL, size BIGINT NOT NULL, root \(unsafeRaw: blob) NOT NULL,
            note TEXT NOT NULL, created_at TEXT NOT NULL, published_at TEXT, PRIMARY KEY (log, size))
            """).run()
        // Canary statements once made (tlog.md §5): a statement that stops being true is dropped
        // and stays dropped; it is never edited.
        try await sql.raw("CREATE TABLE canary_statements (id TEXT PRIMARY KEY, text TEXT NOT NULL, since TEXT NOT NULL, dropped_at TEXT)").run()
        try await sql.raw("CREATE TABLE canary_notes (id \(unsafeRaw: isPostgres ? "BIGSERIAL" : "INTEGER") PRIMARY KEY, note TEXT NOT NULL, created_at TEXT NOT NULL)").run()
        for log in TransparencyLog.allCases {
            try await sql.raw("INSERT INTO log_heads (log, size, frontier) VALUES (\(bind: log.storageID), 0, \(bind: Data()))").run()
        }
        try await database.schema("lp_records")
            .field("case_id", .uuid, .identifier(auto: false), .references("cases", "id"))
            .field("ref", .string, .required)
            .field("record_key", .string, .required)
            .field("fields", .string, .required)
            .field("record_root", .string, .required)
            .field("class_path", .string, .required)
            .field("review_by", .string)
            .field("period", .string, .required)
            .field("intake_index", .int64, .required)
            .field("demand_index", .int64)
            .field("disposition_index", .int64)
            .field("opening_index", .int64)
            .field("created_at", .datetime, .required)
            .unique(on: "ref")
            .create()
        try await database.schema("audit_entries").field("nonce", .string).update()
        // Existing entries become the log's first leaves, in sequence order.
        let rows = try await AuditRow.query(on: database).sort(\.$id).all()
        var leaves: [Data] = []
        for row in rows {
            row.nonce = AuditWriter.makeNonce()
            try await row.update(on: database)
            leaves.append(MerkleHash.leaf(AuditLeaf.bytes(nonceBase64: row.nonce!, recordJSON: Data(row.body.utf8))))
        }
        try await MerkleLogStore.append(.audit, leafHashes: leaves, entries: nil, on: database, isPostgres: isPostgres)
    }

    func revert(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        try await database.schema("lp_records").delete()
        try await database.schema("audit_entries").deleteField("nonce").update()
        for table in ["canary_notes", "canary_statements", "log_checkpoints", "log_entries", "log_heads", "log_nodes"] {
            try await sql.raw("DROP TABLE \(unsafeRaw: table)").run()
        }
    }
}
