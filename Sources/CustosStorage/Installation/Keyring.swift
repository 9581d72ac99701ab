import Crypto
import CustosDomain
import Foundation
import SQLKit

/// Every key of one installation, in the database, sealed with the master key (issue 28), so all
/// instances sign with the same log keys and open each other's sealed documents. A key is made
/// once: whoever stores it first wins (`INSERT … ON CONFLICT DO NOTHING`), and everyone, the
/// loser too, then uses what is stored. Nothing here is cached: callers load once at start and
/// the server's keyring refresh reloads the storage keys.
public struct Keyring: Sendable {
    let store: CustosDatabase
    public let master: MasterKey

    public init(store: CustosDatabase, master: MasterKey) {
        self.store = store
        self.master = master
    }

    var sql: any SQLDatabase { store.sql }
    /// The database the keyring is kept in.
    public var database: CustosDatabase { store }

    /// A stored key as the start check and `custos keys export-public` see it.
    public struct Entry: Sendable, Equatable {
        public var name: String
        public var sealedBy: String?
        public var publicKey: String?
    }

    /// The setting naming the storage key new values are sealed with.
    public static let currentStorageKey = "storage.current"
    static let storagePrefix = "storage/"

    public func entries() async throws -> [Entry] {
        try await sql.raw("SELECT name, sealed, public_key FROM installation_keys ORDER BY name").all().map {
            Entry(
                name: try $0.decode(column: "name", as: String.self),
                sealedBy: MasterKey.sealingID(of: try $0.decode(column: "sealed", as: Data.self)),
                publicKey: try $0.decode(column: "public_key", as: String?.self))
        }
    }

    /// The names of stored keys this master key cannot open: an instance given the wrong master
    /// key must refuse to start rather than make keys of its own.
    public func unopenable() async throws -> [Entry] {
        try await entries().filter { $0.sealedBy != master.id }
    }

    /// The secret stored under `name`, if any.
    public func stored(_ name: String) async throws -> Data? {
        guard let row = try await sql.raw("SELECT sealed FROM installation_keys WHERE name = \(bind: name)").first() else { return nil }
        return try master.open(try row.decode(column: "sealed", as: Data.self), name: name)
    }

    /// Stores `bytes` under `name` unless a key of that name exists. Returns whether it was stored.
    @discardableResult
    func insertIfAbsent(_ name: String, _ bytes: Data, publicKey: String?, at time: Date) async throws -> Bool {
        let sealed = try master.seal(bytes, name: name)
        let rows = try await sql.raw("""
            INSERT INTO installation_keys (name, sealed, master_key_id, public_key, created_ms)
            VALUES (\(bind: name), \(bind: sealed), \(bind: master.id), \(bind: publicKey), \(bind: Self.milliseconds(time)))
            ON CONFLICT (name) DO NOTHING RETURNING name
            """).all()
        return !rows.isEmpty
    }

    /// The secret named `name`: the stored one, else `make()` stored now. When another instance
    /// stores one at the same moment, the first stored wins and is returned to both.
    public func secret(_ name: String, at time: Date, publicKey: (Data) -> String? = { _ in nil }, make: () -> Data) async throws -> Data {
        if let existing = try await stored(name) { return existing }
        let fresh = make()
        try await insertIfAbsent(name, fresh, publicKey: publicKey(fresh), at: time)
        guard let winner = try await stored(name) else { throw KeyringError("the key \(name) was stored and is gone") }
        return winner
    }

    /// What importing one key found.
    public enum ImportOutcome: String, Sendable, Equatable {
        /// Stored now.
        case imported
        /// The same key was stored already (an import run twice).
        case alreadyPresent
        /// A different key of that name is stored: the folder belongs to another installation,
        /// or this one has made its keys already. Nothing is changed.
        case conflicts
    }

    public func importSecret(_ name: String, _ bytes: Data, publicKey: String?, at time: Date) async throws -> ImportOutcome {
        if try await insertIfAbsent(name, bytes, publicKey: publicKey, at: time) { return .imported }
        return try await stored(name) == bytes ? .alreadyPresent : .conflicts
    }

    // MARK: Settings every instance shares

    public func setting(_ name: String) async throws -> String? {
        try await sql.raw("SELECT value FROM installation_settings WHERE name = \(bind: name)").first()?.decode(column: "value", as: String.self)
    }

    /// The stored value of `name`, storing `value` first if there is none (first writer wins).
    public func pin(_ name: String, _ value: String) async throws -> String {
        try await sql.raw("INSERT INTO installation_settings (name, value) VALUES (\(bind: name), \(bind: value)) ON CONFLICT (name) DO NOTHING").run()
        guard let stored = try await setting(name) else { throw KeyringError("the setting \(name) was stored and is gone") }
        return stored
    }

    public func set(_ name: String, _ value: String) async throws {
        try await sql.raw("""
            INSERT INTO installation_settings (name, value) VALUES (\(bind: name), \(bind: value))
            ON CONFLICT (name) DO UPDATE SET value = \(bind: value)
            """).run()
    }

    // MARK: Storage keys

    /// Every storage key and the current one; on first start a storage key is made (first writer
    /// wins, as for every key). `create: false` (tools that only read) throws when there is none.
    public func storageSealer(at time: Date, create: Bool = true) async throws -> StorageSealer {
        var current = try await setting(Self.currentStorageKey)
        if current == nil {
            guard create else { throw KeyringError("this installation has no storage key yet") }
            let id = try await addStorageKey(at: time)
            current = try await pin(Self.currentStorageKey, id)
            if current != id { try await sql.raw("DELETE FROM installation_keys WHERE name = \(bind: Self.storagePrefix + id)").run() }
        }
        var keys: [String: SymmetricKey] = [:]
        let rows = try await sql.raw("SELECT name, sealed FROM installation_keys WHERE name LIKE \(bind: Self.storagePrefix + "%")").all()
        for row in rows {
            let name = try row.decode(column: "name", as: String.self)
            let key = SymmetricKey(data: try master.open(try row.decode(column: "sealed", as: Data.self), name: name))
            keys[StorageSealer.keyID(key)] = key
        }
        guard let current, keys[current] != nil else {
            throw KeyringError("the current storage key \(current ?? "-") is missing from the keyring")
        }
        return StorageSealer(currentID: current, keys: keys)
    }

    /// Stores a new random storage key (not yet current); returns its id.
    public func addStorageKey(at time: Date) async throws -> String {
        try await addStorageKey(SymmetricKey(size: .bits256), at: time)
    }

    /// Stores `key` as a storage key (an import); returns its id.
    @discardableResult
    public func addStorageKey(_ key: SymmetricKey, at time: Date) async throws -> String {
        let id = StorageSealer.keyID(key)
        try await insertIfAbsent(Self.storagePrefix + id, key.withUnsafeBytes { Data($0) }, publicKey: nil, at: time)
        return id
    }

    /// Removes every storage key but `current` (after a rotation has resealed everything).
    public func retireStorageKeys(keeping current: String) async throws -> Int {
        let old = try await entries().filter { $0.name.hasPrefix(Self.storagePrefix) && $0.name != Self.storagePrefix + current }
        for entry in old { try await sql.raw("DELETE FROM installation_keys WHERE name = \(bind: entry.name)").run() }
        return old.count
    }

    // MARK: Master key rotation

    /// Seals every stored key with `next` instead, in one transaction with its audit entry: all or
    /// nothing. Returns the number of keys resealed.
    public func reseal(with next: MasterKey, audit: AuditRecord) async throws -> Int {
        let master = self.master
        let isPostgres = store.location.isPostgres
        return try await store.database.transaction { tx in
            let sql = tx as! any SQLDatabase
            let rows = try await sql.raw("SELECT name, sealed FROM installation_keys").all()
            for row in rows {
                let name = try row.decode(column: "name", as: String.self)
                let plain = try master.open(try row.decode(column: "sealed", as: Data.self), name: name)
                try await sql.raw("""
                    UPDATE installation_keys SET sealed = \(bind: try next.seal(plain, name: name)), master_key_id = \(bind: next.id)
                    WHERE name = \(bind: name)
                    """).run()
            }
            var record = audit
            record.details["keys"] = String(rows.count)
            _ = try await AuditWriter.append([record], on: tx, isPostgres: isPostgres)
            return rows.count
        }
    }

    static func milliseconds(_ time: Date) -> Int64 { Int64((time.timeIntervalSince1970 * 1000).rounded(.down)) }
}
