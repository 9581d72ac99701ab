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

    /// Folds every row into one value on the connection's thread, so a scan of a million rows
    /// keeps only the accumulator (the report's tally), never the rows.
    static func fold<Value: Sendable>(
        _ sql: String, _ binds: [SQLiteData], on database: any SQLiteDatabase, into initial: Value,
        _ step: @escaping @Sendable (inout Value, SQLiteRow) throws -> Void
    ) async throws -> Value {
        let state = NIOLockedValueBox<(value: Value, error: (any Error)?)>((initial, nil))
        try await database.withConnection { connection in
            try await connection.query(sql, binds) { row in
                state.withLockedValue { state in
                    guard state.error == nil else { return }
                    do { try step(&state.value, row) } catch { state.error = error }
                }
            }
        }
        return try state.withLockedValue { state in
            if let error = state.error { throw error }
            return state.value
        }
    }
}
