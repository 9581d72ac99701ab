import Crypto
import CustosDomain
import Foundation

/// Encryption at rest for what requesters and customers upload (demand documents, objection
/// attachments) and for second-factor keys (issue 10): AES-256-GCM from swift-crypto. Production
/// packages, too large to seal in one piece, use the same keys through `SealedStream`. A sealed
/// value is `CSE1` + the key's 8-byte id + nonce, ciphertext and tag, so a value names the key it
/// needs and keys can be rotated (`custos keys rotate`). The keys come from the installation's
/// keyring in the database (`Keyring.storageSealer`, issue 28). Values stored before encryption existed
/// carry no marker and are read as they are until a rotation seals them.
public struct StorageSealer: Sendable {
    static let magic = Data("CSE1".utf8)
    public let currentID: String?
    let keys: [String: SymmetricKey]

    /// No encryption: for tools that open a database without its data folder (benchmarks).
    public static let none = StorageSealer(currentID: nil, keys: [:])

    init(currentID: String?, keys: [String: SymmetricKey]) {
        self.currentID = currentID
        self.keys = keys
    }

    public static func keyID(_ key: SymmetricKey) -> String {
        Hex.encode(SHA256.hash(data: key.withUnsafeBytes { Data($0) }).prefix(8))
    }

    /// A sealer with one random key that lives as long as the process (in-memory test databases).
    public static func ephemeral() -> StorageSealer {
        let key = SymmetricKey(size: .bits256)
        return StorageSealer(currentID: keyID(key), keys: [keyID(key): key])
    }

    public struct SealError: Error, CustomStringConvertible {
        public var description: String
    }

    public func seal(_ plain: Data) throws -> Data {
        guard let currentID, let key = keys[currentID] else { return plain }
        let box = try AES.GCM.seal(plain, using: key)
        guard let combined = box.combined else { throw SealError(description: "AES-GCM produced no combined box") }
        return Self.magic + Hex.decode(currentID)! + combined
    }

    /// The plain bytes; a value without the marker is returned as stored (from before encryption).
    public func open(_ stored: Data) throws -> Data {
        guard stored.starts(with: Self.magic), stored.count > Self.magic.count + 8 + 28 else { return stored }
        let id = Hex.encode(stored.dropFirst(Self.magic.count).prefix(8))
        guard let key = keys[id] else { throw SealError(description: "the storage key \(id) is missing from the key folder") }
        do {
            return try AES.GCM.open(AES.GCM.SealedBox(combined: stored.dropFirst(Self.magic.count + 8)), using: key)
        } catch {
            throw SealError(description: "a stored document does not decrypt with key \(id): it was altered")
        }
    }

    /// Whether `stored` is sealed with the current key (rotation skips those).
    public func isCurrent(_ stored: Data) -> Bool {
        guard let currentID, stored.starts(with: Self.magic) else { return currentID == nil }
        return Hex.encode(stored.dropFirst(Self.magic.count).prefix(8)) == currentID
    }

    /// Text columns (second-factor keys) hold sealed bytes as `sealed:<base64>`.
    public func sealText(_ text: String) throws -> String {
        currentID == nil ? text : "sealed:" + (try seal(Data(text.utf8))).base64EncodedString()
    }

    public func openText(_ stored: String) throws -> String {
        guard stored.hasPrefix("sealed:"), let data = Data(base64Encoded: String(stored.dropFirst(7))) else { return stored }
        return String(decoding: try open(data), as: UTF8.self)
    }

    /// A sealer with one given key (32 bytes): tools that keep a key of their own (the benchmarks).
    public init(singleKey bytes: Data) throws {
        guard bytes.count == 32 else { throw SealError(description: "a storage key is 32 bytes, not \(bytes.count)") }
        let key = SymmetricKey(data: bytes)
        self.init(currentID: Self.keyID(key), keys: [Self.keyID(key): key])
    }
}

extension StorageSealer {
    /// The keys of both, sealing with `newer`'s current key: a server keeps every key it once
    /// loaded until it stops, so a value sealed a moment before a rotation retired its key still opens.
    public func merging(_ newer: StorageSealer) -> StorageSealer {
        StorageSealer(currentID: newer.currentID, keys: keys.merging(newer.keys) { _, new in new })
    }

    /// The ids of every key this sealer opens.
    public var keyIDs: [String] { keys.keys.sorted() }
}
