import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import SQLiteNIO

/// A SQLite connection of its own beside fluent's one read-write connection, opened on first use
/// and closed with the database (SQLite files only). Two serve a server:
///
/// - **The log reader** (`reader`) reads only what the logs never change once it is committed:
///   the stored nodes that proofs, roots and tiles are made of, and the public entries. Every
///   other query shares the read-write connection (`CustosDatabase.sqliteLoop`), which serialises
///   transactions; a proof or tile asked for while a transaction runs would wait for it, and each
///   trip through fluent's pool hands the work between threads several times. With WAL a reader
///   needs neither: it sees every committed write and never blocks the writer. Because it cannot
///   see a transaction's uncommitted rows, only reads made outside a transaction come here.
/// - **The checkpointer's** (`SQLiteCheckpointer`), on a thread of its own, so that a
///   checkpoint's disk waits never hold up the queries of the shared thread pool.
final class SQLiteSideConnection: Sendable {
    private enum State {
        case idle
        case open(EventLoopFuture<SQLiteConnection>)
        case closed
    }

    private let path: String
    private let threadPool: NIOThreadPool
    /// A pool made for this connection alone: started on first use, shut down with it.
    private let ownsThreadPool: Bool
    private let threadStarted = NIOLockedValueBox(false)
    private let eventLoop: any EventLoop
    private let logger: Logger
    /// Statements run once on the new connection (its pragmas).
    private let setUp: [String]
    private let state = NIOLockedValueBox(State.idle)

    private init(path: String, threadPool: NIOThreadPool?, eventLoop: any EventLoop, logger: Logger, setUp: [String]) {
        self.path = path
        self.threadPool = threadPool ?? NIOThreadPool(numberOfThreads: 1)
        self.ownsThreadPool = threadPool == nil
        self.eventLoop = eventLoop
        self.logger = logger
        self.setUp = setUp
    }

    /// The log reader: `query_only`, so it can never write whatever is sent down it, and 16 MiB
    /// of page cache, which holds the interior pages of a 10,000,000-leaf log's node index.
    static func reader(path: String, threadPool: NIOThreadPool, eventLoop: any EventLoop, logger: Logger) -> SQLiteSideConnection {
        SQLiteSideConnection(
            path: path, threadPool: threadPool, eventLoop: eventLoop, logger: logger, setUp: ["PRAGMA query_only = 1", "PRAGMA cache_size = -16384"])
    }

    /// A connection on a thread of its own.
    static func ownThread(path: String, eventLoop: any EventLoop, logger: Logger) -> SQLiteSideConnection {
        SQLiteSideConnection(path: path, threadPool: nil, eventLoop: eventLoop, logger: logger, setUp: [])
    }

    /// The connection, or nil once the database is shut down. A failed open is not remembered:
    /// the next call tries again.
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
            state.withLockedValue { state in
                if case .open(let failed) = state, failed === opening { state = .idle }
            }
            throw error
        }
    }

    private func open() -> EventLoopFuture<SQLiteConnection> {
        if ownsThreadPool {
            threadStarted.withLockedValue { started in
                if !started { threadPool.start() }
                started = true
            }
        }
        let setUp = self.setUp
        return SQLiteConnection.open(storage: .file(path: path), threadPool: threadPool, logger: logger, on: eventLoop).flatMap { connection in
            setUp.reduce(connection.eventLoop.makeSucceededVoidFuture()) { done, statement in done.flatMap { connection.query(statement).map { _ in } } }
                .map { connection }
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
        if ownsThreadPool, threadStarted.withLockedValue({ $0 }) { try? await threadPool.shutdownGracefully() }
    }
}
