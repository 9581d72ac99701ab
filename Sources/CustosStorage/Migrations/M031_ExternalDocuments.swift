import FluentKit

/// 031: with packages in an object store (`CUSTOS_BLOB_URL=s3://…`), demand documents and
/// objection attachments go there too (issue 28, part 2): their rows then name the blob
/// (`blob_key`) and keep no bytes. Rows without a key hold their sealed bytes as before.
struct M031_ExternalDocuments: AsyncMigration {
    var name: String { "031_ExternalDocuments" }

    func prepare(on database: any Database) async throws {
        try await database.schema("demand_documents").field("blob_key", .string).update()
        try await database.schema("case_attachments").field("blob_key", .string).update()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("case_attachments").deleteField("blob_key").update()
        try await database.schema("demand_documents").deleteField("blob_key").update()
    }
}
