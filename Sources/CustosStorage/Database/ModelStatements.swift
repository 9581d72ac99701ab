import FluentKit
import Foundation
import SQLKit

/// Inserts and simple reads of fluent models, written as plain statements.
///
/// fluent-kit's query builder costs about 0.4 ms of CPU per statement before the database sees
/// it (measured with `LogBench --query-cost`: a find by id 0.50–0.74 ms, the same read as a plain
/// statement 0.13–0.20 ms): SQLKit escapes every identifier, and a select names every column
/// three times, through a generic string search. A demand's intake makes a dozen such statements.
/// These helpers keep the models as the one description of each table (columns and values come
/// from the model's own `input(to:)` and `output(from:)`), and only assemble the statement by hand.
/// Column names are the models' own constant keys, so they are quoted here without escaping.
enum ModelStatements {
    /// Inserts the rows in one statement (several for very many rows), in the caller's transaction
    /// if `database` is one. The models must have their ids set, and all must set the same columns.
    /// Afterwards they count as stored, as after fluent-kit's `create`.
    static func insert<M: Model>(_ models: [M], on database: any Database) async throws {
        guard let first = models.first else { return }
        let columns = try ValueCollector(first).collected().columns
        var values: [BulkValue] = []
        values.reserveCapacity(columns.count * models.count)
        for model in models {
            let collected = try ValueCollector(model).collected()
            guard collected.columns == columns else {
                throw StorageError.corrupted("rows of \(M.schema) to insert set different columns")
            }
            values += collected.values
        }
        try await BulkInsert.run(into: M.schema, columns: columns, values: values, on: database)
        for model in models { model._$idExists = true }
    }

    static func insert<M: Model>(_ model: M, on database: any Database) async throws {
        try await insert([model], on: database)
    }

    /// The rows of `M` whose columns equal the given values (all of them), in the order given by
    /// `orderBy` (a column, ascending), at most `limit`.
    static func rows<M: Model>(
        _ type: M.Type, where conditions: [(column: String, equals: BulkValue)], orderBy: String? = nil, limit: Int? = nil,
        on database: any Database
    ) async throws -> [M] {
        var query = SQLQueryString("SELECT ")
        query.appendLiteral(M.keys.map { "\"\($0.description)\"" }.joined(separator: ", "))
        query.appendLiteral(" FROM \"\(M.schema)\"")
        for (offset, condition) in conditions.enumerated() {
            query.appendLiteral(offset == 0 ? " WHERE " : " AND ")
            if case .null = condition.equals {
                query.appendLiteral("\"\(condition.column)\" IS NULL")
            } else {
                query.appendLiteral("\"\(condition.column)\" = ")
                query.appendInterpolation(condition.equals.sqlBind)
            }
        }
        if let orderBy { query.appendLiteral(" ORDER BY \"\(orderBy)\"") }
        if let limit { query.appendLiteral(" LIMIT \(limit)") }
        return try await rows(M.self, selectedBy: query, on: database)
    }

    /// The models a hand-written query selects (a join, say); it must select `M`'s columns under
    /// their own names (`p.*` for `principals p`).
    static func rows<M: Model>(_ type: M.Type, selectedBy query: SQLQueryString, on database: any Database) async throws -> [M] {
        try await (database as! any SQLDatabase).raw(query).all().map { row in
            let model = M()
            try model.output(from: RowOutput(row: row))
            return model
        }
    }

    static func first<M: Model>(
        _ type: M.Type, where conditions: [(column: String, equals: BulkValue)], on database: any Database
    ) async throws -> M? {
        try await rows(type, where: conditions, limit: 1, on: database).first
    }

    /// The row with this id (`M`'s id column).
    static func find<M: Model>(_ type: M.Type, id: UUID, on database: any Database) async throws -> M? {
        try await first(type, where: [(idColumn(of: type), .uuid(id))], on: database)
    }

    static func idColumn<M: Model>(of type: M.Type) -> String {
        M()._$idKeys[0].description
    }

    /// What a model sets for an insert, as the columns and the values `BulkInsert` takes.
    private final class ValueCollector: DatabaseInput {
        var columns: [String] = []
        var values: [BulkValue] = []
        var unsupported: [String] = []
        let schema: String

        init<M: Model>(_ model: M) {
            schema = M.schema
            model.input(to: self)
        }

        func collected() throws -> (columns: [String], values: [BulkValue]) {
            guard unsupported.isEmpty else {
                throw StorageError.corrupted("\(schema): no plain statement for \(unsupported.joined(separator: ", "))")
            }
            return (columns, values)
        }

        func set(_ value: DatabaseQuery.Value, at key: FieldKey) {
            let bulk: BulkValue
            switch value {
            case .default: return  // the column's default: left out, as fluent-kit does
            case .null: bulk = .null
            case .bind(let bound):
                guard let converted = Self.bulkValue(bound) else {
                    unsupported.append("\(key.description) (\(type(of: bound)))")
                    return
                }
                bulk = converted
            default:
                unsupported.append(key.description)  // no model here sets enums, arrays or dictionaries
                return
            }
            columns.append(key.description)
            values.append(bulk)
        }

        /// The Swift types the models use, stored as fluent-kit stores them.
        static func bulkValue(_ value: any Encodable & Sendable) -> BulkValue? {
            switch value {
            case let value as String: .text(value)
            case let value as UUID: .uuid(value)
            case let value as Date: .date(value)
            case let value as Int: .integer(Int64(value))
            case let value as Int64: .integer(value)
            case let value as Bool: .bool(value)
            case let value as Data: .blob(Array(value))
            default: nil
            }
        }
    }

    /// A result row as fluent-kit's models read one: columns by their own names.
    private struct RowOutput: DatabaseOutput {
        let row: any SQLRow

        func schema(_ schema: String) -> any DatabaseOutput { self }
        func contains(_ key: FieldKey) -> Bool { row.contains(column: key.description) }
        func decodeNil(_ key: FieldKey) throws -> Bool { try row.decodeNil(column: key.description) }
        func decode<T: Decodable>(_ key: FieldKey, as type: T.Type) throws -> T { try row.decode(column: key.description, as: T.self) }
        var description: String { "\(row.allColumns)" }
    }
}

extension Model {
    /// The column of a field, for `ModelStatements` conditions: named through the model, never
    /// retyped.
    static func column<Property: AnyQueryableProperty>(_ field: KeyPath<Self, Property>) -> String {
        path(for: field)[0].description
    }
}
