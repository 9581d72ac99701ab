import Crypto
import CustosDomain
import Foundation
import MerkleLog
import ZIPFoundation

/// Checks a production package the way its recipient would (`custos package verify`): the
/// Ed25519 signature over the exact bytes of `manifest.json`, every file's size and SHA-256, the
/// RFC 6962 Merkle root, the cover letter's hash, and that the ZIP holds nothing the manifest
/// does not list. Files are hashed as they are read, so memory stays flat.
public enum PackageVerifier {
    public struct Report: Sendable {
        public var manifest: ProductionManifest?
        public var problems: [String]
        public var isValid: Bool { problems.isEmpty && manifest != nil }
    }

    public static func verify(_ url: URL, publicKey: Curve25519.Signing.PublicKey) -> Report {
        var problems: [String] = []
        let archive: Archive
        do {
            archive = try Archive(url: url, accessMode: .read)
        } catch {
            return Report(manifest: nil, problems: ["not a readable ZIP archive: \(error)"])
        }
        // One pass over the central directory: `archive[path]` scans it on every call.
        var entries: [String: Entry] = [:]
        for entry in archive { entries[entry.path] = entry }
        func whole(_ path: String) -> Data? {
            guard let entry = entries[path] else { return nil }
            var data = Data()
            do {
                _ = try archive.extract(entry, skipCRC32: false) { data.append($0) }
            } catch {
                problems.append("\(path): cannot be read (\(error))")
                return nil
            }
            return data
        }
        guard let manifestBytes = whole(PackageBuilder.manifestPath) else {
            return Report(manifest: nil, problems: problems + ["\(PackageBuilder.manifestPath) is missing"])
        }
        guard let signature = whole(PackageBuilder.signaturePath) else {
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
            guard let entry = entries[file.path] else {
                problems.append("\(file.path): listed in the manifest but missing")
                continue
            }
            var hasher = SHA256()
            var size = 0
            do {
                _ = try archive.extract(entry, skipCRC32: false) { chunk in
                    hasher.update(data: chunk)
                    size += chunk.count
                }
            } catch {
                problems.append("\(file.path): cannot be read (\(error))")
                continue
            }
            let digest = PackageBuilder.hex(hasher.finalize())
            if size != file.size { problems.append("\(file.path): \(size) bytes, the manifest says \(file.size)") }
            if digest != file.sha256 { problems.append("\(file.path): SHA-256 \(digest), the manifest says \(file.sha256)") }
        }
        let root = Hex.encode(MerkleHash.root(ofLeaves: manifest.files.map { Hex.decode($0.sha256) ?? Data() }))
        if root != manifest.merkleRoot { problems.append("the Merkle root of the listed files is \(root), the manifest says \(manifest.merkleRoot)") }
        if let letter = whole(manifest.coverLetter.path) {
            let digest = PackageBuilder.hex(SHA256.hash(data: letter))
            if digest != manifest.coverLetter.sha256 { problems.append("\(manifest.coverLetter.path): SHA-256 \(digest), the manifest says \(manifest.coverLetter.sha256)") }
        } else {
            problems.append("\(manifest.coverLetter.path) is missing")
        }
        for path in entries.keys.sorted() where !listed.contains(path) {
            problems.append("\(path): in the ZIP but not in the manifest")
        }
        return Report(manifest: manifest, problems: problems)
    }
}
