import Crypto
import CustosStorage
import Foundation

/// The keys a data folder held before the keyring moved into the database (issue 28): one
/// `<name>.key` file of 32 raw bytes per signing key or secret, `storage-keys/<id>.key` (base64)
/// with `current`, and the `transparency-address` pin. Read only, for `custos keys import-folder`
/// and the automatic import of an embedded installation's first start on the new version.
struct LegacyKeyFolder {
    let folder: String
    /// Keyring name → the 32 bytes of its file.
    var secrets: [String: Data] = [:]
    var storageKeys: [SymmetricKey] = []
    var currentStorageKey: String?
    var address: String?

    /// The file each keyring name was kept in.
    static let files: [String: String] = [
        "package-signing": "package-signing.key", "log-audit": "log-audit.key", "log-legal-process": "log-legal-process.key",
        "canary": "canary.key", "report": "report.key", "blocklist": "blocklist.key", "ns-commitment": "ns-commitment.key",
    ]
    static let addressFile = "transparency-address"

    init(folder: String) throws {
        self.folder = folder
        for (name, file) in Self.files {
            let path = (folder as NSString).appendingPathComponent(file)
            guard let raw = FileManager.default.contents(atPath: path) else { continue }
            guard raw.count == 32 else { throw KeyringError("\(path) is not a 32-byte key") }
            secrets[name] = raw
        }
        let storage = (folder as NSString).appendingPathComponent("storage-keys")
        for name in (try? FileManager.default.contentsOfDirectory(atPath: storage)) ?? [] where name.hasSuffix(".key") {
            let text = try String(contentsOfFile: (storage as NSString).appendingPathComponent(name), encoding: .utf8)
            guard let bytes = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)), bytes.count == 32 else {
                throw KeyringError("\(storage)/\(name) is not a 32-byte base64 key")
            }
            storageKeys.append(SymmetricKey(data: bytes))
        }
        currentStorageKey = (try? String(contentsOfFile: (storage as NSString).appendingPathComponent("current"), encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines)
        address = (try? String(contentsOfFile: (folder as NSString).appendingPathComponent(Self.addressFile), encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines)
        if address?.isEmpty == true { address = nil }
    }

    var isEmpty: Bool { secrets.isEmpty && storageKeys.isEmpty }
}
