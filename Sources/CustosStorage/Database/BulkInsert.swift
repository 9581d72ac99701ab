import FluentKit
import Foundation
import NIOCore
import SQLKit
import SQLiteNIO

/// One column value of a bulk insert, typed the way both databases store it through fluent-kit
/// (SQLite: UUIDs as upper-case text, dates as seconds since 1970; PostgreSQL: native types).
enum BulkValue: Sendable {
    case integer(Int64)
    case text(String)
    case blob([UInt8])
    case uuid(UUID)
    case date(Date)
    /// fluent-kit's `.bool`: an integer 0/1 on SQLite, a boolean on PostgreSQL.
    case bool(Bool)
    case null
}

/// Multi-row `INSERT`s for the hot append paths (audit entries, Merkle log nodes and entries).
///
/// On SQLite the values go straight to SQLiteNIO as `SQLiteData`: SQLKit's generic path serialises
/// an expression tree per bind and sends every value through `Encodable` and dynamic casts, which
/// cost more than SQLite's own work for an audit append. PostgreSQL keeps SQLKit's binds in a
/// statement whose text is written here.
enum BulkInsert {
    /// At most this many rows per statement (12 columns × 1,000 rows stays within both databases'
    /// bind limits: SQLite 32,766, PostgreSQL 65,535).
    static let rowsPerStatement = 1000

    /// Inserts `values` (row after row, `columns.count` values each) into `table`, in the caller's
    /// transaction.
    static func run(into table: String, columns: [String], values: [BulkValue], on database: any Database) async throws {
        let width = columns.count
        precondition(width > 0 && values.count % width == 0, "a whole number of rows")
        let rowCount = values.count / width
        var row = 0
        while row < rowCount {
            let count = min(rowsPerStatement, rowCount - row)
            let slice = values[(row * width)..<((row + count) * width)]
            if let sqlite = database as? any SQLiteDatabase {
                try await sqlite.query(statement(table, columns, rows: count), slice.map(\.sqliteData)) { _ in }
            } else {
                // The statement's text by hand here too (SQLKit's insert builder escapes every
                // identifier through a generic string search); the values stay SQLKit binds.
                var query = SQLQueryString("")
                query.appendLiteral(statement(table, columns, rows: 0))
                var offset = slice.startIndex
                for index in 0..<count {
                    query.appendLiteral(index == 0 ? "(" : ",(")
                    for (position, value) in slice[offset..<offset + width].enumerated() {
                        if position > 0 { query.appendLiteral(",") }
                        query.appendInterpolation(value.sqlBind)
                    }
                    query.appendLiteral(")")
                    offset += width
                }
                try await (database as! any SQLDatabase).raw(query).run()
            }
            row += count
        }
    }

    /// `INSERT INTO "t" ("a", "b") VALUES (?, ?), (?, ?)…` (SQLite's positional parameters).
    static func statement(_ table: String, _ columns: [String], rows: Int) -> String {
        let placeholders = "(" + Array(repeating: "?", count: columns.count).joined(separator: ",") + ")"
        var text = "INSERT INTO \"\(table)\" (" + columns.map { "\"\($0)\"" }.joined(separator: ",") + ") VALUES "
        text.reserveCapacity(text.utf8.count + rows * (placeholders.utf8.count + 1))
        for index in 0..<rows {
            if index > 0 { text.append(",") }
            text.append(placeholders)
        }
        return text
    }
}

extension BulkValue {
    var sqliteData: SQLiteData {
        switch self {
        case .integer(let value): .integer(Int(value))
        case .text(let value): .text(value)
        case .blob(let bytes): .blob(ByteBuffer(bytes: bytes))
        case .uuid(let value): .text(value.uuidString)
        case .date(let value): .float(value.timeIntervalSince1970)
        case .bool(let value): .integer(value ? 1 : 0)
        case .null: .null
        }
    }

    var sqlBind: any SQLExpression {
        switch self {
        case .integer(let value): SQLBind(value)
        case .text(let value): SQLBind(value)
        case .blob(let bytes): SQLBind(Data(bytes))
        case .uuid(let value): SQLBind(value)
        case .date(let value): SQLBind(value)
        case .bool(let value): SQLBind(value)
        case .null: SQLLiteral.null
        }
    }
}
