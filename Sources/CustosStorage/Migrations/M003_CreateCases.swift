import Foundation
import FluentKit

/// 003: demands with their documents, cases, the hash-chained audit trail, counters and the outbox.
struct M003_CreateCases: AsyncMigration {
    var name: String { "003_CreateCases" }

    func prepare(on database: any Database) async throws {
        try await database.schema("demands")
            .id()
            .field("agency_id", .uuid, .required, .references("agencies", "id"))
            .field("submitted_by", .uuid, .required, .references("principals", "id"))
            .field("received_at", .datetime, .required)
            .field("body", .string, .required)
            .field("idempotency_key", .string)
            .field("request_hash", .string, .required)
            .unique(on: "agency_id", "idempotency_key")
            .create()
        try await database.schema("demand_documents")
            .id()
            .field("demand_id", .uuid, .required, .references("demands", "id"))
            .field("filename", .string, .required)
            .field("media_type", .string, .required)
            .field("byte_count", .int, .required)
            .field("sha256", .string, .required)
            .field("content", .data, .required)
            .create()
        try await database.schema("cases")
            .id()
            .field("number", .string, .required)
            .field("demand_id", .uuid, .required, .references("demands", "id"))
            .field("agency_id", .uuid, .required, .references("agencies", "id"))
            .field("tenant_id", .uuid, .references("tenants", "id"))
            .field("state", .string, .required)
            .field("outcome", .string)
            .field("is_emergency", .bool, .required)
            .field("due_at", .datetime)
            .field("country", .string, .required)
            .field("instrument", .string, .required)
            .field("opened_at", .datetime, .required)
            .field("updated_at", .datetime, .required)
            .field("version", .int, .required)
            .field("body", .string, .required)
            .unique(on: "number")
            .unique(on: "demand_id")
            .create()
        try await database.schema("audit_entries")
            .id()
            .field("sequence", .int, .required)
            .field("case_id", .uuid)
            .field("subject", .string, .required)
            .field("action", .string, .required)
            .field("outcome", .string, .required)
            .field("actor", .string, .required)
            .field("at", .datetime, .required)
            .field("body", .string, .required)
            .field("previous_hash", .string, .required)
            .field("hash", .string, .required)
            .unique(on: "sequence")
            .create()
        try await database.schema("counters")
            .field("name", .string, .identifier(auto: false))
            .field("value", .int, .required)
            .field("text_value", .string, .required)
            .create()
        // Seeded here so concurrent first writers never race to create them.
        for name in [AuditWriter.headCounter, SQLCaseRepository.caseNumberCounter] {
            let counter = CounterRow()
            counter.id = name
            counter.value = 0
            counter.textValue = ""
            try await counter.create(on: database)
        }
        try await database.schema("outbox")
            .id()
            .field("kind", .string, .required)
            .field("case_id", .uuid)
            .field("recipient", .string, .required)
            .field("payload", .string, .required)
            .field("created_at", .datetime, .required)
            .field("delivered_at", .datetime)
            .field("attempts", .int, .required)
            .create()
    }

    func revert(on database: any Database) async throws {
        for table in ["outbox", "counters", "audit_entries", "cases", "demand_documents", "demands"] {
            try await database.schema(table).delete()
        }
    }
}
