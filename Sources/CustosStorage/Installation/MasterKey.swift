import Crypto
import CustosDomain
import Foundation

/// The one key every instance of an installation is given (`CUSTOS_MASTER_KEY`, base64 of 32
/// bytes, or `CUSTOS_MASTER_KEY_FILE`); it seals every other key where they all live, in the
/// database (issue 28). AES-256-GCM with the key's name as additional data, so a sealed key cannot
/// be moved to another name (the package key passed off as a log key). A sealed key is
/// `CMK1` + the master key's 8-byte id + nonce, ciphertext and tag.
public struct MasterKey: Sendable {
    static let magic = Data("CMK1".utf8)
    let key: SymmetricKey
    /// Hex of the first 8 bytes of SHA-256 over the key: names the key, reveals nothing of it.
    public let id: String

    public init(bytes: Data) throws {
        guard bytes.count == 32 else { throw KeyringError("a master key is 32 bytes, not \(bytes.count)") }
        key = SymmetricKey(data: bytes)
        id = Hex.encode(SHA256.hash(data: bytes).prefix(8))
    }

    /// A new random master key.
    public static func generate() -> MasterKey {
        try! MasterKey(bytes: SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) })
    }

    /// From settings text: base64 of 32 bytes (what `openssl rand -base64 32` prints).
    public init(base64 text: String, source: String) throws {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let bytes = Data(base64Encoded: trimmed), bytes.count == 32 else {
            throw KeyringError("\(source) must hold base64 of 32 bytes (for example `openssl rand -base64 32`)")
        }
        try self.init(bytes: bytes)
    }

    /// From a file holding the base64 text, or the 32 raw bytes.
    public init(contentsOfFile path: String) throws {
        guard let raw = FileManager.default.contents(atPath: path) else { throw KeyringError("cannot read the master key file \(path)") }
        if raw.count == 32, Data(base64Encoded: raw) == nil {
            try self.init(bytes: raw)
        } else {
            try self.init(base64: String(decoding: raw, as: UTF8.self), source: "the master key file \(path)")
        }
    }

    /// The base64 text a key file holds.
    public var base64: String { key.withUnsafeBytes { Data($0) }.base64EncodedString() }

    /// Writes the key to `path` (owner-only), refusing to replace an existing file.
    public func write(toNewFile path: String) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let descriptor = createExclusively(path)
        guard descriptor >= 0 else { throw KeyringError("cannot create \(path) (errno \(errno)): it may exist already") }
        defer { closeFile(descriptor) }
        let text = Data((base64 + "\n").utf8)
        let written = text.withUnsafeBytes { Foundation.write(descriptor, $0.baseAddress, $0.count) }
        guard written == text.count, fsync(descriptor) == 0 else { throw KeyringError("cannot write \(path) (errno \(errno))") }
    }

    /// Puts a key file in place of another in one step (rename(2)), so a crash leaves one of the two.
    public static func rename(_ source: String, to target: String) throws {
        guard renameFile(source, target) == 0 else { throw KeyringError("cannot move \(source) to \(target) (errno \(errno))") }
    }

    public func seal(_ plain: Data, name: String) throws -> Data {
        let box = try AES.GCM.seal(plain, using: key, authenticating: Data(name.utf8))
        guard let combined = box.combined else { throw KeyringError("AES-GCM produced no combined box") }
        return Self.magic + Hex.decode(id)! + combined
    }

    /// The id of the master key that sealed `stored`, if it is a sealed key at all.
    public static func sealingID(of stored: Data) -> String? {
        guard stored.starts(with: magic), stored.count > magic.count + 8 + 28 else { return nil }
        return Hex.encode(stored.dropFirst(magic.count).prefix(8))
    }

    public func open(_ stored: Data, name: String) throws -> Data {
        guard let sealedBy = Self.sealingID(of: stored) else { throw KeyringError("the stored key \(name) is not sealed with a master key") }
        guard sealedBy == id else {
            throw KeyringError("the stored key \(name) is sealed with master key \(sealedBy), and this instance was given master key \(id)")
        }
        do {
            return try AES.GCM.open(AES.GCM.SealedBox(combined: stored.dropFirst(Self.magic.count + 8)), using: key, authenticating: Data(name.utf8))
        } catch {
            throw KeyringError("the stored key \(name) does not open with master key \(id): it was altered or moved")
        }
    }
}

public struct KeyringError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// open(2) with O_EXCL: outside `MasterKey`, whose `open` would shadow the system call.
private func createExclusively(_ path: String) -> Int32 { open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600) }
private func closeFile(_ descriptor: Int32) { close(descriptor) }
private func renameFile(_ source: String, _ target: String) -> Int32 { rename(source, target) }
