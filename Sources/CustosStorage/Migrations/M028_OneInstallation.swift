import FluentKit
import SQLKit

/// 028: what every instance of one installation shares through the database (issue 28).
/// - `installation_keys`: every key (package signing, the two logs, canary, report, blocklist, the
///   national-security commitment secret, the storage keys), sealed with the master key;
/// - `installation_settings`: plain values all instances must agree on (the pinned public address
///   the logs are named after, which storage key is current);
/// - `instance_runs`: one row per running server, with a heartbeat, so a lease is taken back only
///   from a run proven dead, and a key rotation knows who still has to switch;
/// - `leases`: who runs each periodic job now (one holder across the installation);
/// - `rate_counters`: sign-in and public-form counts per client and window.
/// Times are milliseconds since 1970 in BIGINT columns, so they compare alike on both databases.
struct M028_OneInstallation: AsyncMigration {
    var name: String { "028_OneInstallation" }

    func prepare(on database: any Database) async throws {
        try await database.schema("installation_keys")
            .field("name", .string, .identifier(auto: false))
            .field("sealed", .data, .required)
            .field("master_key_id", .string, .required)
            .field("public_key", .string)
            .field("created_ms", .int64, .required)
            .create()
        try await database.schema("installation_settings")
            .field("name", .string, .identifier(auto: false))
            .field("value", .string, .required)
            .create()
        try await database.schema("instance_runs")
            .field("run_id", .string, .identifier(auto: false))
            .field("instance", .string, .required)
            .field("started_ms", .int64, .required)
            .field("heartbeat_ms", .int64, .required)
            .field("master_key_id", .string, .required)
            .field("storage_current", .string, .required)
            .field("storage_known", .string, .required)
            .create()
        try await database.schema("leases")
            .field("name", .string, .identifier(auto: false))
            .field("holder", .string, .required)
            .field("expires_ms", .int64, .required)
            .create()
        try await database.schema("rate_counters")
            .field("bucket", .string, .required)
            .field("window_ms", .int64, .required)
            .field("hits", .int64, .required)
            .compositeIdentifier(over: "bucket", "window_ms")
            .create()
    }

    func revert(on database: any Database) async throws {
        for table in ["rate_counters", "leases", "instance_runs", "installation_settings", "installation_keys"] {
            try await database.schema(table).delete()
        }
    }
}
