import NIOConcurrencyHelpers
import SQLiteNIO

/// Reads for the hot paths on SQLite (log proofs, log verification), collected on the connection's
/// own thread: fluent's row path hands every result row to the event loop as a separate task,
/// which cost more than SQLite's work for a proof's few dozen rows or a verification page. Each
/// row is turned into its value right there, so the row itself never outlives the callback.
enum SQLiteDirect {
    static func rows<Value: Sendable>(
        _ sql: String, _ binds: [SQLiteData], on database: any SQLiteDatabase, _ value: @escaping @Sendable (SQLiteRow) throws -> Value
    ) async throws -> [Value] {
        let collected = NIOLockedValueBox<(values: [Value], error: (any Error)?)>(([], nil))
        try await database.withConnection { connection in
            try await connection.query(sql, binds) { row in
                collected.withLockedValue { collected in
                    guard collected.error == nil else { return }
                    do { collected.values.append(try value(row)) } catch { collected.error = error }
                }
            }
        }
        return try collected.withLockedValue { collected in
            if let error = collected.error { throw error }
            return collected.values
        }
    }
}
