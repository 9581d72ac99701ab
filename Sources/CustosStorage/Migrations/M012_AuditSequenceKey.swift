import FluentKit
import SQLKit

/// 012: the audit trail is keyed by its sequence number instead of a random UUID.
///
/// The sequence was already unique and is what every reader orders and looks up by, so the UUID
/// key only cost a second and third B-tree per row. On SQLite the sequence becomes the rowid itself
/// (`INTEGER PRIMARY KEY`), which leaves one table B-tree and the per-case index: with the UUID
/// key a durable audit append wrote four B-trees and ran at about half the speed (BENCHMARKS.md,
/// issue 6). Entries and their order are copied unchanged, so chains and log leaves still verify.
struct M012_AuditSequenceKey: AsyncMigration {
    var name: String { "012_AuditSequenceKey" }

    /// The columns both shapes share, in table order.
    static let sharedColumns = "sequence, case_id, subject, action, outcome, actor, at, body, previous_hash, hash, nonce"

    func prepare(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        if sql.dialect.name == "postgresql" {
            // Dropping the column drops its primary-key constraint with it.
            try await sql.raw("ALTER TABLE audit_entries DROP COLUMN id").run()
            try await sql.raw(#"ALTER TABLE audit_entries DROP CONSTRAINT "uq:audit_entries.sequence""#).run()
            try await sql.raw("ALTER TABLE audit_entries ADD PRIMARY KEY (sequence)").run()
        } else {
            // SQLite cannot change a primary key in place: rebuild the table (dropping the old one
            // drops its index, recreated below).
            try await sql.raw("""
                CREATE TABLE audit_entries_new ("sequence" INTEGER PRIMARY KEY, "case_id" UUID, "subject" TEXT NOT NULL,
                "action" TEXT NOT NULL, "outcome" TEXT NOT NULL, "actor" TEXT NOT NULL, "at" REAL NOT NULL, "body" TEXT NOT NULL,
                "previous_hash" TEXT NOT NULL, "hash" TEXT NOT NULL, "nonce" TEXT)
                """).run()
            try await sql.raw("""
                INSERT INTO audit_entries_new (\(unsafeRaw: Self.sharedColumns))
                SELECT \(unsafeRaw: Self.sharedColumns) FROM audit_entries ORDER BY sequence
                """).run()
            try await sql.raw("DROP TABLE audit_entries").run()
            try await sql.raw("ALTER TABLE audit_entries_new RENAME TO audit_entries").run()
            try await sql.raw("CREATE INDEX audit_case_idx ON audit_entries (case_id, sequence)").run()
        }
    }

    /// Back to the UUID key; existing rows get fresh random ids (nothing refers to them).
    func revert(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        if sql.dialect.name == "postgresql" {
            try await sql.raw("ALTER TABLE audit_entries ADD COLUMN id UUID").run()
            try await sql.raw("UPDATE audit_entries SET id = gen_random_uuid()").run()
            try await sql.raw("ALTER TABLE audit_entries DROP CONSTRAINT audit_entries_pkey").run()
            try await sql.raw("ALTER TABLE audit_entries ADD PRIMARY KEY (id)").run()
            try await sql.raw(#"ALTER TABLE audit_entries ADD CONSTRAINT "uq:audit_entries.sequence" UNIQUE (sequence)"#).run()
        } else {
            try await sql.raw("""
                CREATE TABLE audit_entries_old ("id" UUID PRIMARY KEY, "sequence" INTEGER NOT NULL, "case_id" UUID,
                "subject" TEXT NOT NULL, "action" TEXT NOT NULL, "outcome" TEXT NOT NULL, "actor" TEXT NOT NULL, "at" REAL NOT NULL,
                "body" TEXT NOT NULL, "previous_hash" TEXT NOT NULL, "hash" TEXT NOT NULL, "nonce" TEXT,
                CONSTRAINT "uq:audit_entries.sequence" UNIQUE ("sequence"))
                """).run()
            // A random version-4 UUID per row, in the upper-case text form fluent-kit writes on SQLite.
            let uuid = """
                hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-' ||
                substr('89AB', 1 + (abs(random()) % 4), 1) || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6))
                """
            try await sql.raw("""
                INSERT INTO audit_entries_old (id, \(unsafeRaw: Self.sharedColumns))
                SELECT \(unsafeRaw: uuid), \(unsafeRaw: Self.sharedColumns) FROM audit_entries ORDER BY sequence
                """).run()
            try await sql.raw("DROP TABLE audit_entries").run()
            try await sql.raw("ALTER TABLE audit_entries_old RENAME TO audit_entries").run()
            try await sql.raw("CREATE INDEX audit_case_idx ON audit_entries (case_id, sequence)").run()
        }
    }
}
