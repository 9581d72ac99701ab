import FluentKit
import SQLKit

/// 016: the report reads facts a period at a time, so on SQLite the table is kept in time order.
///
/// With the rowid table and an index on `received_ms`, a half-year over a million facts meant a
/// million index lookups scattered over the table (3.4 s on the benchmark's file, against 0.4 s for
/// reading the table straight through; BENCHMARKS.md, issue 7). As a `WITHOUT ROWID` table keyed by
/// (received_ms, id) a period is one contiguous range. `id` stays unique through its own index.
/// PostgreSQL keeps its table; both get an index for the national-security counts, which read a
/// few rows of a period that may hold a million.
struct M016_ReportFactsByTime: AsyncMigration {
    var name: String { "016_ReportFactsByTime" }

    static let columns = """
        id, received_ms, country, section, instrument, tenant_kind, accounts, outcome, is_preservation, is_national_security, source, recorded_ms,
        has_details, nondisclosure, notice, challenge, emergency_failed, cloud_act, tenant_id, ack_ms, effect_ms, dsa_category, dsa_order
        """

    static let columnTypes = """
        id TEXT NOT NULL, received_ms BIGINT NOT NULL, country TEXT NOT NULL, section TEXT NOT NULL, instrument TEXT NOT NULL,
        tenant_kind TEXT NOT NULL, accounts INTEGER NOT NULL, outcome TEXT NOT NULL, is_preservation INTEGER NOT NULL,
        is_national_security INTEGER NOT NULL, source TEXT NOT NULL, recorded_ms BIGINT NOT NULL, has_details INTEGER NOT NULL,
        nondisclosure TEXT, notice TEXT, challenge TEXT, emergency_failed INTEGER NOT NULL, cloud_act INTEGER NOT NULL, tenant_id TEXT,
        ack_ms BIGINT, effect_ms BIGINT, dsa_category TEXT, dsa_order INTEGER NOT NULL DEFAULT 0
        """

    func prepare(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        if sql.dialect.name != "postgresql" {
            try await rebuild(sql, key: "PRIMARY KEY (received_ms, id)) WITHOUT ROWID")
            try await sql.raw("CREATE UNIQUE INDEX report_facts_id_idx ON report_facts (id)").run()
        }
        try await sql.raw("CREATE INDEX report_facts_ns_idx ON report_facts (is_national_security, received_ms)").run()
    }

    func revert(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        try await sql.raw("DROP INDEX report_facts_ns_idx").run()
        if sql.dialect.name != "postgresql" {
            try await rebuild(sql, key: "PRIMARY KEY (id))")
            try await sql.raw("CREATE INDEX report_facts_received_idx ON report_facts (received_ms)").run()
        }
    }

    /// SQLite cannot change a table's key in place: copy into the new shape, drop, rename (the old
    /// table's indexes go with it).
    private func rebuild(_ sql: any SQLDatabase, key: String) async throws {
        try await sql.raw("CREATE TABLE report_facts_new (\(unsafeRaw: Self.columnTypes), \(unsafeRaw: key)").run()
        try await sql.raw("INSERT INTO report_facts_new (\(unsafeRaw: Self.columns)) SELECT \(unsafeRaw: Self.columns) FROM report_facts").run()
        try await sql.raw("DROP TABLE report_facts").run()
        try await sql.raw("ALTER TABLE report_facts_new RENAME TO report_facts").run()
    }
}
