import FluentKit
import FluentPostgresDriver
import FluentSQLiteDriver
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import SQLKit
import ServiceLifecycle

/// Owns fluent-kit's `Databases` without Vapor: opens SQLite or PostgreSQL, runs the numbered
/// migrations, hands out `Database` handles, and shuts down with the ServiceLifecycle group.
/// This is the small glue layer that Vapor would otherwise provide.
public final class CustosDatabase: Service, Sendable {
    public let location: DatabaseLocation
    /// Encryption at rest for uploaded documents and second-factor keys (issue 10). The keys come
    /// from the keyring after the migrations (issue 28) and are replaced when a rotation adds one.
    public var sealer: StorageSealer { currentSealer.withLockedValue { $0 } }
    private let currentSealer: NIOLockedValueBox<StorageSealer>

    /// Seals with `sealer`'s keys from now on (the keyring loaded at start, or reloaded).
    public func use(_ sealer: StorageSealer) {
        currentSealer.withLockedValue { $0 = sealer }
    }

    /// Where demand documents and objection attachments are kept when not in their rows: an
    /// object store outside the database (issue 28); nil keeps them in the rows, in the same
    /// transaction as the demand or event that brings them.
    public var documentBlobs: (any BlobStore)? { currentDocumentBlobs.withLockedValue { $0 } }
    private let currentDocumentBlobs = NIOLockedValueBox<(any BlobStore)?>(nil)

    public func keepDocuments(in blobs: (any BlobStore)?) {
        currentDocumentBlobs.withLockedValue { $0 = blobs }
    }
    let databases: Databases
    let eventLoopGroup: any EventLoopGroup
    let threadPool: NIOThreadPool
    let logger: Logger
    /// SQLite runs on a single event loop so every query but the log reader's shares one
    /// connection: SQLite allows one writer at a time, and one connection serialises transactions
    /// instead of failing with BUSY.
    let sqliteLoop: (any EventLoop)?
    /// Reads of committed log data (nodes, public entries), beside the one read-write connection
    /// (SQLite files only).
    let logReader: SQLiteSideConnection?
    /// Keeps the WAL copied into the database file while the database runs as a service (SQLite
    /// files given an interval: the server's database); without it SQLite checkpoints inside
    /// commits, as the CLI and the small demo record store do.
    let checkpointer: SQLiteCheckpointer?

    public static let migrations: [any Migration] = [
        M001_CreateDirectory(), M002_CreateIdentity(), M003_CreateCases(), M004_AddIndexes(), M005_AddCustomerFacts(), M006_CreateNoticesAndJobs(),
        M007_AddNoticeBarsAndAttachments(), M008_CreateTenantWebhooks(), M009_CreatePackageLinks(), M010_CreatePackages(),
        M011_CreateMerkleLogs(), M012_AuditSequenceKey(), M013_CreateReportFacts(), M014_CreateReportPeriods(), M015_AddReportFactTimes(), M016_ReportFactsByTime(), M017_AgencyDirectory(), M018_AddReportFactRedFlags(), M019_RequesterStanding(), M020_Blocklist(), M021_CredentialResets(), M022_SecondFactor(), M023_AgencyRegistrations(), M024_CopyrightNotices(), M025_LoginThrottle(), M026_BlocklistValueIndex(), M027_AgencyCasesNewestFirst(),
        M028_OneInstallation(), M029_SharedBlobs(), M030_IdentityProvider(), M031_ExternalDocuments(),
    ]

    /// The migrations this database runs: Custos's own schema, or the demo record store's.
    let schema: [any Migration]

    public init(
        location: DatabaseLocation, logger: Logger, migrations: [any Migration] = CustosDatabase.migrations, sealer: StorageSealer = .none,
        checkpointInterval: Duration? = nil
    ) throws {
        self.currentSealer = NIOLockedValueBox(sealer)
        self.schema = migrations
        self.location = location
        self.logger = logger
        self.threadPool = NIOThreadPool.singleton
        self.eventLoopGroup = MultiThreadedEventLoopGroup.singleton
        self.databases = Databases(threadPool: threadPool, on: eventLoopGroup)
        switch location {
        case .sqliteFile(let path):
            try FileManager.default.createDirectory(
                at: URL(fileURLWithPath: path).deletingLastPathComponent(), withIntermediateDirectories: true)
            databases.use(.sqlite(.file(path), sqlLogLevel: .trace), as: .sqlite)
            let loop = eventLoopGroup.next()
            sqliteLoop = loop
            logReader = .reader(path: path, threadPool: threadPool, eventLoop: loop, logger: logger)
            checkpointer = checkpointInterval.map { SQLiteCheckpointer(path: path, interval: $0, eventLoop: loop, logger: logger) }
        case .sqliteInMemory:
            databases.use(.sqlite(.memory, sqlLogLevel: .trace), as: .sqlite)
            sqliteLoop = eventLoopGroup.next()
            logReader = nil  // another connection would open another, empty, database
            checkpointer = nil
        case .postgres(let url):
            let configuration = try SQLPostgresConfiguration(url: url)
            databases.use(.postgres(configuration: configuration, maxConnectionsPerEventLoop: 4, sqlLogLevel: .trace), as: .psql)
            sqliteLoop = nil
            logReader = nil
            checkpointer = nil
        }
    }

    /// A handle for one unit of work.
    public var database: any Database {
        databases.database(logger: logger, on: sqliteLoop ?? eventLoopGroup.any())!
    }

    var sql: any SQLDatabase { database as! any SQLDatabase }

    /// Creates and migrates the schema on first start; a no-op when it is current.
    public func migrate() async throws {
        if !location.isPostgres {
            // WAL lets readers run beside the writer; sqlite-kit already turns foreign keys on.
            _ = try await sql.raw("PRAGMA journal_mode=WAL").all()
            // 64 MiB of page cache on the one connection (the default is 2 MiB): the audit log's
            // appends and verification touch index pages all over the file.
            _ = try await sql.raw("PRAGMA cache_size=-65536").all()
            // Multi-row inserts keep a statement journal; in memory it costs no file writes.
            _ = try await sql.raw("PRAGMA temp_store=MEMORY").all()
            // Checkpoint the WAL every 10,000 pages (about 40 MiB) instead of every 1,000: a page that
            // many commits touch (an index's hot leaf) is copied into the database once per
            // checkpoint, and a checkpoint runs inside the commit that triggers it. The file is cut
            // back to 64 MiB afterwards. A server copies the log in the background meanwhile
            // (`SQLiteCheckpointer`), so that checkpoint then has little left to copy.
            _ = try await sql.raw("PRAGMA wal_autocheckpoint=10000").all()
            _ = try await sql.raw("PRAGMA journal_size_limit=67108864").all()
        }
        if location.isPostgres {
            // Instances starting at once on one empty database would each create the schema and
            // all but one die on a duplicate key (issue 28): the first to take the advisory lock
            // migrates, the others wait for it and then find nothing left to do. The lock is held
            // by one pooled connection for the whole run; the migrator works on others.
            let migrator = self.migrator
            try await database.withConnection { connection in
                let sql = connection as! any SQLDatabase
                try await sql.raw("SELECT pg_advisory_lock(\(bind: Self.migrationLock))").run()
                do {
                    try await migrator.setupIfNeeded().get()
                    try await migrator.prepareBatch().get()
                } catch {
                    try? await sql.raw("SELECT pg_advisory_unlock(\(bind: Self.migrationLock))").run()
                    throw error
                }
                try await sql.raw("SELECT pg_advisory_unlock(\(bind: Self.migrationLock))").run()
            }
            return
        }
        try await migrator.setupIfNeeded().get()
        try await migrator.prepareBatch().get()
    }

    /// The advisory lock migrations run under on PostgreSQL ("custos" as a number).
    static let migrationLock: Int64 = 0x6375_7374_6f73

    /// Whether every migration of this database's schema has run (`GET /ready`).
    public func migrationsCurrent() async throws -> Bool {
        let applied = try await sql.raw("SELECT name FROM _fluent_migrations").all(decodingColumn: "name", as: String.self)
        return Set(schema.map(\.name)).isSubset(of: Set(applied))
    }

    /// Reverts the last batch of migrations.
    public func revertLastBatch() async throws {
        try await migrator.setupIfNeeded().get()
        try await migrator.revertLastBatch().get()
    }

    /// Reverts everything (used by tests to prove every migration has a working `revert`).
    public func revertAll() async throws {
        try await migrator.revertAllBatches().get()
    }

    private var migrator: Migrator {
        let migrations = Migrations()
        migrations.add(schema)
        return Migrator(databases: databases, migrations: migrations, logger: logger, on: sqliteLoop ?? eventLoopGroup.any(), migrationLogLevel: .debug)
    }

    /// While the server runs: checkpoints the WAL in the background (SQLite files), until the
    /// service group shuts down.
    public func run() async throws {
        if let checkpointer {
            await cancelWhenGracefulShutdown { await checkpointer.runUntilCancelled() }
        } else {
            try? await gracefulShutdown()
        }
        await shutdown()
    }

    /// The background checkpoints of `run()` without the service group, until the task is
    /// cancelled (the benchmarks run them around their appends, as a server does).
    public func checkpointWALUntilCancelled() async {
        await checkpointer?.runUntilCancelled()
    }

    /// Whether `run()` copies the WAL in the background (a SQLite file with an interval set).
    public var checkpointsInBackground: Bool { checkpointer != nil }

    /// One background checkpoint now (tests); nil when this database has no WAL of its own.
    func checkpointWAL() async throws -> SQLiteCheckpointer.Outcome? {
        try await checkpointer?.checkpoint()
    }

    public func shutdown() async {
        await checkpointer?.close()
        await logReader?.close()
        await databases.shutdownAsync()
    }
}
