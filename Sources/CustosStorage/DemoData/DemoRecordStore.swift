import CustosDomain
import FluentKit
import Foundation
import SQLKit

/// The built-in demo data source (issue 5): realistic customer records in their own SQLite file
/// in the data folder (`demo-records.sqlite`), filled by `custos demo load`. It stands in for the
/// provider's systems. On purpose it returns every record of the named accounts, whatever the
/// category or date, key material included, as a careless source would: Custos's own scope check
/// must cut what the plan does not allow, and the manifest shows the cuts.
public struct DemoRecordStore: CustomerDataSource {
    public let name = "demo-store"
    let store: CustosDatabase
    /// Records read from the database per query while streaming.
    static let pageSize = 200

    public static let fileName = "demo-records.sqlite"
    public static let migrations: [any Migration] = [M001_CreateDemoRecords()]

    public init(store: CustosDatabase) { self.store = store }

    /// Opens (creating and migrating) the store beside the main database: its own SQLite file in the
    /// data folder, or on PostgreSQL its own table in the installation's database, so that every
    /// instance builds packages from the same records (issue 28: an instance with an empty store
    /// of its own read 0 records and closed cases as having no data).
    public static func open(dataDirectory: String, inMemory: Bool, beside main: DatabaseLocation? = nil, logger: Logger) async throws -> DemoRecordStore {
        let location: DatabaseLocation
        if case .postgres(let url)? = main {
            location = .postgres(url: url)
        } else {
            location = inMemory ? .sqliteInMemory : .sqliteFile(path: (dataDirectory as NSString).appendingPathComponent(fileName))
        }
        let database = try CustosDatabase(location: location, logger: logger, migrations: migrations)
        try await database.migrate()
        return DemoRecordStore(store: database)
    }

    public var database: CustosDatabase { store }

    public func count() async throws -> Int { try await DemoRecordRow.query(on: store.database).count() }

    /// Adds records in one transaction.
    public func add(_ records: [CustomerRecord]) async throws {
        try await store.database.transaction { tx in
            for record in records {
                let row = DemoRecordRow()
                row.id = UUID()
                row.account = record.account
                row.category = record.category.rawValue
                row.timestamp = record.timestamp
                row.mediaType = record.mediaType
                row.content = record.bytes
                row.sourceID = record.sourceID ?? row.id!.uuidString.lowercased()
                try await row.create(on: tx)
            }
        }
    }

    public func expectedCount(for plan: CollectionPlan) async throws -> Int? {
        try await DemoRecordRow.query(on: store.database).filter(\.$account ~~ plan.accounts).count()
    }

    public func records(for plan: CollectionPlan) -> AsyncThrowingStream<CustomerRecord, any Error> {
        // Pulled page by page as the consumer asks: memory holds at most one page.
        let cursor = Cursor(store: store, accounts: plan.accounts)
        return AsyncThrowingStream(unfolding: { try await cursor.next() })
    }

    /// Reads the named accounts' records in (timestamp, id) order, one page at a time.
    actor Cursor {
        let store: CustosDatabase
        let accounts: [String]
        var buffer: [CustomerRecord] = []
        var offset = 0
        var exhausted = false

        init(store: CustosDatabase, accounts: [String]) {
            self.store = store
            self.accounts = accounts
        }

        func next() async throws -> CustomerRecord? {
            if buffer.isEmpty && !exhausted {
                let page = try await DemoRecordRow.query(on: store.database).filter(\.$account ~~ accounts)
                    .sort(\.$timestamp).sort(\.$id).range(offset..<(offset + DemoRecordStore.pageSize)).all()
                offset += page.count
                exhausted = page.count < DemoRecordStore.pageSize
                buffer = page.reversed().compactMap { row in
                    DataCategory(rawValue: row.category).map {
                        CustomerRecord(account: row.account, category: $0, timestamp: row.timestamp, mediaType: row.mediaType, bytes: row.content, sourceID: row.sourceID)
                    }
                }
            }
            return buffer.popLast()
        }
    }
}

final class DemoRecordRow: Model, @unchecked Sendable {
    static let schema = "demo_records"
    @ID(key: .id) var id: UUID?
    @Field(key: "account") var account: String
    @Field(key: "category") var category: String
    @Field(key: "timestamp") var timestamp: Date
    @Field(key: "media_type") var mediaType: String
    @Field(key: "content") var content: Data
    @Field(key: "source_id") var sourceID: String
    // By hand, not by reflection (see ModelProperties.swift).
    var properties: [any AnyProperty] { [$id, $account, $category, $timestamp, $mediaType, $content, $sourceID] }
    init() {}
}

/// The demo store's only table.
struct M001_CreateDemoRecords: AsyncMigration {
    var name: String { "demo_001_CreateDemoRecords" }

    func prepare(on database: any Database) async throws {
        try await database.schema("demo_records")
            .id()
            .field("account", .string, .required)
            .field("category", .string, .required)
            .field("timestamp", .datetime, .required)
            .field("media_type", .string, .required)
            .field("content", .data, .required)
            .field("source_id", .string, .required)
            .create()
        try await (database as! any SQLDatabase).raw("CREATE INDEX demo_records_account_idx ON demo_records (account, timestamp)").run()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("demo_records").delete()
    }
}
