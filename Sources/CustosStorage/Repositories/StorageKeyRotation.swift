import CustosDomain
import FluentKit
import Foundation

/// Reseals every stored document, objection attachment and second-factor key with the sealer's
/// current key (issue 10, `custos keys rotate`); the packages on disk are resealed by the server
/// module first, and their count goes into the same audit entry. Each row is its own small update, so a rotation
/// that stops halfway leaves every row readable (the old keys stay until it finishes) and running
/// it again finishes the job.
public enum StorageKeyRotation {
    public struct Result: Equatable, Sendable {
        public var documents = 0
        public var attachments = 0
        public var secondFactorKeys = 0
        public var packages = 0
    }

    public static func reseal(_ store: CustosDatabase, actor: String, at time: Date, packagesResealed: Int = 0) async throws -> Result {
        let sealer = store.sealer
        var result = Result()
        result.packages = packagesResealed
        for row in try await DocumentRow.query(on: store.database).all() {
            if let key = row.blobKey {
                if try await resealBlob(key, store: store, sealer: sealer) { result.documents += 1 }
            } else if !sealer.isCurrent(row.content) {
                row.content = try sealer.seal(try sealer.open(row.content))
                try await row.update(on: store.database)
                result.documents += 1
            }
        }
        for row in try await AttachmentRow.query(on: store.database).all() {
            if let key = row.blobKey {
                if try await resealBlob(key, store: store, sealer: sealer) { result.attachments += 1 }
            } else if !sealer.isCurrent(row.content) {
                row.content = try sealer.seal(try sealer.open(row.content))
                try await row.update(on: store.database)
                result.attachments += 1
            }
        }
        for row in try await PrincipalRow.query(on: store.database).filter(\.$totpSecret != nil).all() {
            guard let stored = row.totpSecret else { continue }
            let plain = try sealer.openText(stored)
            let sealedNow = stored.hasPrefix("sealed:") ? Data(base64Encoded: String(stored.dropFirst(7))) ?? Data() : Data()
            if stored.hasPrefix("sealed:") && sealer.isCurrent(sealedNow) { continue }
            row.totpSecret = try sealer.sealText(plain)
            try await row.update(on: store.database)
            result.secondFactorKeys += 1
        }
        try await AuditWriter.append([AuditRecord(
            caseID: nil, subject: "storage", action: "storage.keys_rotated", actor: actor, at: time,
            details: [
                "key": sealer.currentID ?? "", "documents": String(result.documents), "attachments": String(result.attachments),
                "secondFactorKeys": String(result.secondFactorKeys), "packages": String(result.packages),
            ])], on: store.database, isPostgres: store.location.isPostgres)
        return result
    }

    /// Reseals a document kept in the object store, replacing the blob whole; false when it is current.
    static func resealBlob(_ key: String, store: CustosDatabase, sealer: StorageSealer) async throws -> Bool {
        guard let blobs = store.documentBlobs else {
            throw StorageError.corrupted("\(key) is kept in an object store, and none is configured (CUSTOS_BLOB_URL)")
        }
        guard let sealed = try await blobs.read(key, limit: 1 << 31) else { throw StorageError.corrupted("\(key) is missing from \(blobs.description)") }
        guard !sealer.isCurrent(sealed) else { return false }
        try await blobs.put(key, data: try sealer.seal(try sealer.open(sealed)))
        return true
    }
}
