import Foundation

/// Which database Custos runs on: an SQLite file in the data folder (the embedded default) or a
/// PostgreSQL server named by a `postgres://` URL.
public enum DatabaseLocation: Equatable, Sendable, CustomStringConvertible {
    case sqliteFile(path: String)
    case sqliteInMemory
    case postgres(url: String)

    /// Reads `CUSTOS_DATABASE_URL`-style settings: a postgres URL wins; otherwise SQLite in `dataDirectory`.
    public static func resolve(databaseURL: String?, dataDirectory: String) throws -> DatabaseLocation {
        if let url = databaseURL?.trimmingCharacters(in: .whitespaces), !url.isEmpty {
            guard url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") else {
                throw StorageError.configuration("CUSTOS_DATABASE_URL must be a postgres:// URL, got \(url.prefix(24))…")
            }
            return .postgres(url: url)
        }
        return .sqliteFile(path: URL(fileURLWithPath: dataDirectory).appendingPathComponent("custos.sqlite").path)
    }

    public var isPostgres: Bool {
        if case .postgres = self { return true }
        return false
    }

    /// Safe to print: never shows a password.
    public var description: String {
        switch self {
        case .sqliteFile(let path): "SQLite at \(path)"
        case .sqliteInMemory: "SQLite in memory"
        case .postgres(let url):
            if let components = URLComponents(string: url) {
                "PostgreSQL at \(components.host ?? "?"):\(components.port ?? 5432)\(components.path)"
            } else {
                "PostgreSQL"
            }
        }
    }
}

/// Failures of the storage layer that callers can act on.
public enum StorageError: Error, Equatable, CustomStringConvertible {
    case configuration(String)
    case notFound(String)
    case conflict(String)
    /// The same idempotency key was used before with a different request body.
    case idempotencyMismatch
    case corrupted(String)

    public var description: String {
        switch self {
        case .configuration(let message), .notFound(let message), .conflict(let message), .corrupted(let message): message
        case .idempotencyMismatch: "this Idempotency-Key was already used for a different request"
        }
    }
}
