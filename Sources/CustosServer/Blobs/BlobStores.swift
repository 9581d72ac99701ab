import CustosStorage
import Foundation

/// Picks the installation's blob store from its settings (issue 28, part 2): `CUSTOS_BLOB_URL`
/// when given, else the database with `CUSTOS_DATABASE_URL` (every instance shares it) and the
/// data folder on the embedded default.
public enum BlobStores {
    public static func make(configuration: AppConfiguration, database: CustosDatabase) throws -> any BlobStore {
        let data = URL(fileURLWithPath: configuration.dataDirectory)
        // A folder for an in-memory database (tests) is a temporary one of its own: two such
        // installations in one process must not see (or reseal) each other's packages.
        let folder = configuration.inMemoryDatabase
            ? FileManager.default.temporaryDirectory.appendingPathComponent("custos-blobs-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString.prefix(8))") : data
        let scratch = configuration.inMemoryDatabase ? folder.appendingPathComponent("scratch") : data.appendingPathComponent("scratch")
        let url = configuration.blobURL?.trimmingCharacters(in: .whitespaces) ?? ""
        switch url {
        case "":
            return database.location.isPostgres ? DatabaseBlobStore(store: database, scratch: scratch) : FolderBlobStore(root: folder)
        case "folder":
            return FolderBlobStore(root: folder)
        case "database":
            return DatabaseBlobStore(store: database, scratch: scratch)
        case let text where text.hasPrefix("s3://"):
            return S3BlobStore(
                settings: try S3BlobStore.Settings(
                    url: text, endpoint: configuration.s3Endpoint, region: configuration.s3Region, accessKeyID: configuration.s3AccessKeyID,
                    secretAccessKey: configuration.s3SecretAccessKey, sessionToken: configuration.s3SessionToken, partSize: configuration.s3PartMiB << 20),
                scratch: scratch)
        default:
            throw ConfigurationProblem("CUSTOS_BLOB_URL must be folder, database or s3://bucket/prefix (got \(url))")
        }
    }
}
