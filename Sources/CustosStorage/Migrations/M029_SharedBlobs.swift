import FluentKit
import SQLKit

/// 029: blobs in the database, for installations whose instances share nothing but PostgreSQL
/// (issue 28, part 2). `blobs` names each stored file and which generation of chunks is its
/// content; `blob_chunks` holds the content a MiB per row, so a blob is written and read in
/// pieces. A replace writes a new generation and switches the name to it in one transaction.
struct M029_SharedBlobs: AsyncMigration {
    var name: String { "029_SharedBlobs" }

    func prepare(on database: any Database) async throws {
        try await database.schema("blobs")
            .field("key", .string, .identifier(auto: false))
            .field("generation", .string, .required)
            .field("size", .int64, .required)
            .field("chunks", .int64, .required)
            .field("stored_ms", .int64, .required)
            .create()
        try await database.schema("blob_chunks")
            .field("generation", .string, .required)
            .field("seq", .int64, .required)
            .field("bytes", .data, .required)
            .compositeIdentifier(over: "generation", "seq")
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("blob_chunks").delete()
        try await database.schema("blobs").delete()
    }
}
