import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import SQLiteNIO

/// A second SQLite connection that only reads, and only what the logs never change once it is
/// committed: the stored nodes that proofs, roots and tiles are made of, and the public entries.
///
/// Every other query shares the one read-write connection (`CustosDatabase.sqliteLoop`), which
/// serialises transactions; a proof or tile asked for while a transaction runs would wait for it, and
/// each trip through fluent's pool hands the work between threads several times. With WAL a
/// reader needs neither: it sees every committed write and never blocks the writer. Because it
/// cannot see a transaction's uncommitted rows, only reads made outside a transaction come here.
/// Opened on first use, closed with the database.
final class SQLiteLogReader: Sendable {
    private enum State {
        case idle
        case open(EventLoopFuture<SQLiteConnection>)
        case closed
    }

    private let path: String
    private let threadPool: NIOThreadPool
    private let eventLoop: any EventLoop
    private let logger: Logger
    private let state = NIOLockedValueBox(State.idle)

    init(path: String, threadPool: NIOThreadPool, eventLoop: any EventLoop, logger: Logger) {
        self.path = path
        self.threadPool = threadPool
        self.eventLoop = eventLoop
        self.logger = logger
    }

    /// The reading connection, or nil once the database is shut down.
    func connection() async throws -> SQLiteConnection? {
        let opening = state.withLockedValue { state -> EventLoopFuture<SQLiteConnection>? in
            switch state {
            case .closed: return nil
            case .open(let connection): return connection
            case .idle:
                let connection = open()
                state = .open(connection)
                return connection
            }
        }
        guard let opening else { return nil }
        do {
            return try await opening.get()
        } catch {
            // A failed open is not remembered: the next read tries again.
            state.withLockedValue { state in
                if case .open(let failed) = state, failed === opening { state = .idle }
            }
            throw error
        }
    }

    private func open() -> EventLoopFuture<SQLiteConnection> {
        SQLiteConnection.open(storage: .file(path: path), threadPool: threadPool, logger: logger, on: eventLoop).flatMap { connection in
            // query_only: this connection can never write, whatever is sent down it. 16 MiB of page
            // cache holds the interior pages of a 10,000,000-leaf log's node index.
            connection.query("PRAGMA query_only = 1").flatMap { _ in connection.query("PRAGMA cache_size = -16384") }
                .map { _ in connection }
                .flatMapError { error in connection.close().flatMapThrowing { throw error } }
        }
    }

    func close() async {
        let opened = state.withLockedValue { state -> EventLoopFuture<SQLiteConnection>? in
            defer { state = .closed }
            if case .open(let connection) = state { return connection }
            return nil
        }
        if let connection = try? await opened?.get() { try? await connection.close() }
    }
}
