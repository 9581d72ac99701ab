import Logging
import NIOCore
import SQLiteNIO

/// Copies the write-ahead log back into the database file in the background while a server runs.
///
/// SQLite's own checkpoint runs inside the commit that pushes the WAL past its threshold, so
/// every few hundred demands one intake waited for some thousands of pages to be written and
/// synced (30–50 ms, growing with the file) and every request queued behind it (RELIABILITY.md
/// §6). Here a passive checkpoint (https://sqlite.org/c3ref/wal_checkpoint_v2.html) on a
/// connection of its own copies the committed frames while the writer goes on committing; when
/// the writer's threshold comes, its own checkpoint finds only the last second's frames left
/// to copy, and the log starts over.
///
/// Only passive: a stronger mode takes the writer's lock, and a transaction that read before
/// it writes (every fluent transaction) is then refused with BUSY at once, because SQLite does
/// not let a connection holding a snapshot wait for that lock (`transactionsNeverFailBesideRounds`).
/// The connection has a thread of its own (`SQLiteSideConnection.ownThread`).
final class SQLiteCheckpointer: Sendable {
    /// What one round reported.
    struct Outcome: Equatable, Sendable {
        /// Another checkpoint (the writer's own) was running, so this round copied nothing.
        var busy: Bool
        /// Frames in the log when the checkpoint ran.
        var logFrames: Int
        /// Frames of it now in the database file.
        var checkpointedFrames: Int
    }

    private let side: SQLiteSideConnection
    /// How often a round runs.
    let interval: Duration
    private let logger: Logger

    init(path: String, interval: Duration, eventLoop: any EventLoop, logger: Logger) {
        side = .ownThread(path: path, eventLoop: eventLoop, logger: logger)
        self.interval = interval
        self.logger = logger
    }

    /// A round every `interval` until the task is cancelled. The writer's own threshold
    /// (`wal_autocheckpoint`, 10,000 pages) stays: when the log reaches it, the writer's checkpoint
    /// finds all but the last interval's frames copied already, and the log starts over (sooner
    /// whenever the writer finds it fully copied). A failed round is logged and tried again on
    /// the next tick.
    func runUntilCancelled() async {
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: interval)
                _ = try await checkpoint()
            } catch is CancellationError {
                break
            } catch {
                logger.warning("background WAL checkpoint failed: \(error)")
            }
        }
    }

    /// One round: copies what it can of the log into the database file, waiting for no other
    /// connection (a reader's older snapshot keeps the frames after it for a later round); nil
    /// once the database is shut down.
    func checkpoint() async throws -> Outcome? {
        guard let connection = try await side.connection() else { return nil }
        return try await Self.passive(on: connection)
    }

    /// https://sqlite.org/pragma.html#pragma_wal_checkpoint: one row of (busy, log, checkpointed).
    private static func passive(on connection: SQLiteConnection) async throws -> Outcome {
        let rows = try await connection.query("PRAGMA wal_checkpoint(PASSIVE)")
        guard let row = rows.first, row.columns.count == 3, let busy = row.columns[0].data.integer,
            let log = row.columns[1].data.integer, let copied = row.columns[2].data.integer
        else { throw StorageError.corrupted("PRAGMA wal_checkpoint answered with an unexpected row") }
        return Outcome(busy: busy != 0, logFrames: Int(log), checkpointedFrames: Int(copied))
    }

    func close() async { await side.close() }
}
