import CustosDomain
import FluentKit
import Foundation
import SQLKit

/// The canary's statements and the signed canaries published (tlog.md §5). A statement that stops
/// being true is dropped and never comes back, even if it later holds again: a canary that
/// reappears would say nothing.
public struct CanaryStore: Sendable {
    let store: CustosDatabase
    public init(store: CustosDatabase) { self.store = store }

    public struct Statement: Sendable, Equatable {
        public var id: String
        public var text: String
        public var since: String
        public var droppedAt: String?
    }

    public func statements() async throws -> [Statement] {
        try await store.sql.raw("SELECT id, text, since, dropped_at FROM canary_statements ORDER BY id").all().map {
            Statement(
                id: try $0.decode(column: "id", as: String.self), text: try $0.decode(column: "text", as: String.self),
                since: try $0.decode(column: "since", as: String.self), droppedAt: try $0.decode(column: "dropped_at", as: String?.self))
        }
    }

    /// What an update changed: statements made for the first time, and statements dropped.
    public struct Changes: Sendable {
        public var made: [Statement] = []
        public var dropped: [Statement] = []
    }

    /// Applies today's truth values: new true statements are added, false ones dropped for good.
    /// Returns the statements still standing, in id order, and what changed.
    public func update(truths: [(id: String, text: String, holds: Bool)], at time: Date) async throws -> (standing: [Statement], changes: Changes) {
        let known = Dictionary(uniqueKeysWithValues: try await statements().map { ($0.id, $0) })
        let stamp = Timestamp.format(time)
        var changes = Changes()
        for truth in truths {
            switch (known[truth.id], truth.holds) {
            case (nil, true):
                // Two publishers at once (issue 28): only the one whose row goes in reports the statement as made.
                let inserted = try await store.sql.raw("""
                    INSERT INTO canary_statements (id, text, since) VALUES (\(bind: truth.id), \(bind: truth.text), \(bind: stamp))
                    ON CONFLICT (id) DO NOTHING RETURNING id
                    """).all()
                if !inserted.isEmpty { changes.made.append(Statement(id: truth.id, text: truth.text, since: stamp, droppedAt: nil)) }
            case (nil, false):
                // Never true while we watched: it is never stated.
                try await store.sql.raw("""
                    INSERT INTO canary_statements (id, text, since, dropped_at) VALUES (\(bind: truth.id), \(bind: truth.text), \(bind: stamp), \(bind: stamp))
                    ON CONFLICT (id) DO NOTHING
                    """).run()
            case (let statement?, false) where statement.droppedAt == nil:
                let updated = try await store.sql.raw(
                    "UPDATE canary_statements SET dropped_at = \(bind: stamp) WHERE id = \(bind: truth.id) AND dropped_at IS NULL RETURNING id").all()
                if !updated.isEmpty { changes.dropped.append(statement) }
            default:
                break
            }
        }
        return (try await statements().filter { $0.droppedAt == nil }, changes)
    }

    public func save(note: String, at time: Date) async throws {
        try await store.sql.raw("INSERT INTO canary_notes (note, created_at) VALUES (\(bind: note), \(bind: Timestamp.format(time)))").run()
    }

    /// When the latest canary was published: a new leader of the periodic jobs continues the
    /// installation's schedule instead of starting its own (issue 28).
    public func latestTime() async throws -> Date? {
        try await store.sql.raw("SELECT created_at FROM canary_notes ORDER BY id DESC LIMIT 1").first()
            .flatMap { Timestamp.parse(try $0.decode(column: "created_at", as: String.self)) }
    }

    public func latest() async throws -> String? {
        try await store.sql.raw("SELECT note FROM canary_notes ORDER BY id DESC LIMIT 1").first()?.decode(column: "note", as: String.self)
    }
}
