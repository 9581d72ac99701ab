import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import SQLiteNIO

/// Copies the write-ahead log back into the database file in the background while a server runs.
///
/// SQLite's own checkpoint runs inside the commit that pushes the WAL past its threshold, so
/// every few hundred demands one intake waited for some thousands of pages to be written and
/// synced (30–50 ms, growing with the file) and every request queued behind it: that was the
/// tail of intake's latency under steady load (RELIABILITY.md §6). Here each round is two steps
/// on a connection of its own (https://sqlite.org/c3ref/wal_checkpoint_v2.html):
///
/// 1. A passive checkpoint copies the committed frames without taking the writer's lock; WAL
///    lets the writer go on committing meanwhile.
/// 2. A restart checkpoint then takes the writer's lock for the few frames committed during
///    step 1, and marks the log to be started over. Without it the log never restarts under
///    steady writes (a commit always lands between a passive checkpoint's end and the next
///    transaction), grows, and the writer's own safety-net checkpoint stalls it once more.
///
/// The connection has a thread of its own, so a checkpoint's disk waits never hold up the
/// queries of the shared thread pool.
final class SQLiteCheckpointer: Sendable {
    /// What one round reported (the restart step's figures).
    struct Outcome: Equatable, Sendable {
        /// A writer or reader kept the log from being copied whole and started over this time.
        var busy: Bool
        /// Frames in the log when the checkpoint ran.
        var logFrames: Int
        /// Frames of it now in the database file.
        var checkpointedFrames: Int
    }

    private enum State {
        case idle(threadStarted: Bool)
        case open(EventLoopFuture<SQLiteConnection>)
        case closed
    }

    private let path: String
    private let threadPool: NIOThreadPool
    private let eventLoop: any EventLoop
    private let logger: Logger
    private let state = NIOLockedValueBox(State.idle(threadStarted: false))

    init(path: String, eventLoop: any EventLoop, logger: Logger) {
        self.path = path
        self.threadPool = NIOThreadPool(numberOfThreads: 1)
        self.eventLoop = eventLoop
        self.logger = logger
    }

    /// One round: copies the log into the database file and marks it to start over; nil once
    /// the database is shut down.
    func checkpoint() async throws -> Outcome? {
        let opening = state.withLockedValue { state -> EventLoopFuture<SQLiteConnection>? in
            switch state {
            case .closed: return nil
            case .open(let connection): return connection
            case .idle(let threadStarted):
                if !threadStarted { threadPool.start() }  // its thread only once a server checkpoints
                let connection = SQLiteConnection.open(storage: .file(path: path), threadPool: threadPool, logger: logger, on: eventLoop)
                    .flatMap { connection in
                        // No busy handler at all (SQLiteNIO's retries forever): a restart checkpoint
                        // that finds the writer or a reader busy gives up at once instead of holding
                        // the writer's lock while it waits; `checkpoint()` tries again shortly.
                        connection.query("PRAGMA busy_timeout = 0").map { _ in connection }
                            .flatMapError { error in connection.close().flatMapThrowing { throw error } }
                    }
                state = .open(connection)
                return connection
            }
        }
        guard let opening else { return nil }
        let connection: SQLiteConnection
        do {
            connection = try await opening.get()
        } catch {
            state.withLockedValue { state in
                if case .open(let failed) = state, failed === opening { state = .idle(threadStarted: true) }
            }
            throw error
        }
        _ = try await Self.run("PASSIVE", on: connection)
        var restart = try await Self.run("RESTART", on: connection)
        for _ in 0..<Self.restartRetries where restart.busy {
            try await Task.sleep(for: .milliseconds(3))
            restart = try await Self.run("RESTART", on: connection)
        }
        return restart
    }

    /// How often a round tries again to restart a log it found busy, 3 ms apart; a round that
    /// still finds it busy leaves it to the next round (its frames are copied either way).
    static let restartRetries = 5

    /// https://sqlite.org/pragma.html#pragma_wal_checkpoint: one row of (busy, log, checkpointed).
    private static func run(_ mode: String, on connection: SQLiteConnection) async throws -> Outcome {
        let rows = try await connection.query("PRAGMA wal_checkpoint(\(mode))")
        guard let row = rows.first, row.columns.count == 3, let busy = row.columns[0].data.integer,
            let log = row.columns[1].data.integer, let copied = row.columns[2].data.integer
        else { throw StorageError.corrupted("PRAGMA wal_checkpoint answered with an unexpected row") }
        return Outcome(busy: busy != 0, logFrames: Int(log), checkpointedFrames: Int(copied))
    }

    func close() async {
        let (opened, threadStarted) = state.withLockedValue { state -> (EventLoopFuture<SQLiteConnection>?, Bool) in
            defer { state = .closed }
            switch state {
            case .open(let connection): return (connection, true)
            case .idle(let threadStarted): return (nil, threadStarted)
            case .closed: return (nil, false)
            }
        }
        if let connection = try? await opened?.get() { try? await connection.close() }
        if threadStarted { try? await threadPool.shutdownGracefully() }
    }
}
