import Crypto
import CustosDomain
import CustosStorage
import Foundation
import MerkleLog
import ZIPFoundation

/// Checks a production package the way its recipient would (`custos package verify`): the
/// Ed25519 signature over the exact bytes of `manifest.json`, every file's size and SHA-256, the
/// RFC 6962 Merkle root, the cover letter's hash, and that the ZIP holds nothing the manifest
/// does not list. Files are hashed as they are read, so memory stays flat.
///
/// A plain ZIP (what a recipient downloads) is read with ZIPFoundation. A package sealed at rest
/// (issue 10) is opened chunk by chunk with the storage key and read in order by
/// `StoredZipStreamReader`; both give the same digests to the same checks.
public enum PackageVerifier {
    public struct Report: Sendable {
        public var manifest: ProductionManifest?
        public var problems: [String]
        public var isValid: Bool { problems.isEmpty && manifest != nil }
    }

    /// What the checks need from an archive, however it was read.
    struct Contents {
        var digests: [String: (size: UInt64, sha256: String)] = [:]
        var manifestBytes: Data?
        var signature: Data?
        /// What a sealed package was sealed for (`PackageBuilder.sealContext`); `nil` when plain.
        var sealedFor: String?
        var problems: [String] = []
    }

    /// Checks the package at `url`. A sealed one needs `sealer` (its storage keys) and, when
    /// given, must have been sealed for `context` (`PackageBuilder.sealContext`).
    public static func verify(_ url: URL, publicKey: Curve25519.Signing.PublicKey, sealer: StorageSealer = .none, context: String? = nil) async -> Report {
        guard SealedFileReader.isSealed(url) else { return finish(readPlain(url), publicKey: publicKey) }
        do {
            let file = try SealedFileReader(url: url, sealer: sealer, context: context)
            return finish(await readSealed(sealedFor: file.header?.context, next: file.next), publicKey: publicKey)
        } catch {
            return finish(Contents(problems: ["the sealed package cannot be read: \(error)"]), publicKey: publicKey)
        }
    }

    /// Checks a package read from a blob store (the database or S3), in order as it streams.
    public static func verify(_ stored: SealedBlobReader, publicKey: Curve25519.Signing.PublicKey) async -> Report {
        finish(await readSealed(sealedFor: stored.header?.context, next: stored.next), publicKey: publicKey)
    }

    static func finish(_ contents: Contents, publicKey: Curve25519.Signing.PublicKey) -> Report {
        var report = check(contents, publicKey: publicKey)
        // A sealed package must be the one of the case its manifest names.
        if let sealedFor = contents.sealedFor, let manifest = report.manifest,
            sealedFor != PackageBuilder.sealContext(caseID: manifest.caseID, purpose: manifest.purpose ?? .production)
        {
            report.problems.append("the package was sealed as \(sealedFor), but its manifest is of case \(manifest.caseID.uuidString.lowercased())")
        }
        return report
    }

    static func readSealed(sealedFor: String?, next: @escaping () async throws -> Data?) async -> Contents {
        var contents = Contents()
        contents.sealedFor = sealedFor
        do {
            var reader = StoredZipStreamReader(next: next)
            let read = try await reader.read(keepingWhole: [PackageBuilder.manifestPath, PackageBuilder.signaturePath])
            for entry in read.entries { contents.digests[entry.path] = (entry.size, entry.sha256) }
            contents.manifestBytes = read.whole[PackageBuilder.manifestPath]
            contents.signature = read.whole[PackageBuilder.signaturePath]
        } catch {
            contents.problems.append("the sealed package cannot be read: \(error)")
        }
        return contents
    }

    static func readPlain(_ url: URL) -> Contents {
        var contents = Contents()
        let archive: Archive
        do {
            archive = try Archive(url: url, accessMode: .read)
        } catch {
            contents.problems.append("not a readable ZIP archive: \(error)")
            return contents
        }
        for entry in archive {
            var hasher = SHA256()
            var size: UInt64 = 0
            var whole: Data?
            if entry.path == PackageBuilder.manifestPath || entry.path == PackageBuilder.signaturePath { whole = Data() }
            do {
                _ = try archive.extract(entry, skipCRC32: false) { chunk in
                    hasher.update(data: chunk)
                    size += UInt64(chunk.count)
                    whole?.append(chunk)
                }
            } catch {
                contents.problems.append("\(entry.path): cannot be read (\(error))")
                continue
            }
            contents.digests[entry.path] = (size, PackageBuilder.hex(hasher.finalize()))
            if entry.path == PackageBuilder.manifestPath { contents.manifestBytes = whole }
            if entry.path == PackageBuilder.signaturePath { contents.signature = whole }
        }
        return contents
    }

    static func check(_ contents: Contents, publicKey: Curve25519.Signing.PublicKey) -> Report {
        var problems = contents.problems
        guard let manifestBytes = contents.manifestBytes else {
            return Report(manifest: nil, problems: problems + ["\(PackageBuilder.manifestPath) is missing"])
        }
        guard let signature = contents.signature else {
            return Report(manifest: nil, problems: problems + ["\(PackageBuilder.signaturePath) is missing"])
        }
        if !publicKey.isValidSignature(signature, for: manifestBytes) {
            problems.append("manifest.sig is not a valid Ed25519 signature of manifest.json by key \(PackageSigningKey.keyID(of: publicKey))")
        }
        let manifest: ProductionManifest
        do {
            manifest = try CustosJSON.makeDecoder().decode(ProductionManifest.self, from: manifestBytes)
        } catch {
            return Report(manifest: nil, problems: problems + ["manifest.json cannot be read: \(error)"])
        }
        if manifest.signingKeyID != PackageSigningKey.keyID(of: publicKey) {
            problems.append("the manifest names signing key \(manifest.signingKeyID), not the key given (\(PackageSigningKey.keyID(of: publicKey)))")
        }

        var listed: Set<String> = [PackageBuilder.manifestPath, PackageBuilder.signaturePath, manifest.coverLetter.path]
        for file in manifest.files {
            listed.insert(file.path)
            guard let found = contents.digests[file.path] else {
                problems.append("\(file.path): listed in the manifest but missing")
                continue
            }
            if found.size != UInt64(file.size) { problems.append("\(file.path): \(found.size) bytes, the manifest says \(file.size)") }
            if found.sha256 != file.sha256 { problems.append("\(file.path): SHA-256 \(found.sha256), the manifest says \(file.sha256)") }
        }
        let root = Hex.encode(MerkleHash.root(ofLeaves: manifest.files.map { Hex.decode($0.sha256) ?? Data() }))
        if root != manifest.merkleRoot { problems.append("the Merkle root of the listed files is \(root), the manifest says \(manifest.merkleRoot)") }
        if let letter = contents.digests[manifest.coverLetter.path] {
            if letter.sha256 != manifest.coverLetter.sha256 {
                problems.append("\(manifest.coverLetter.path): SHA-256 \(letter.sha256), the manifest says \(manifest.coverLetter.sha256)")
            }
        } else {
            problems.append("\(manifest.coverLetter.path) is missing")
        }
        for path in contents.digests.keys.sorted() where !listed.contains(path) {
            problems.append("\(path): in the ZIP but not in the manifest")
        }
        return Report(manifest: manifest, problems: problems)
    }
}
