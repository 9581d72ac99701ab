import Crypto
import Foundation

/// Checks one kind of note signature.
public protocol NoteVerifier: Sendable {
    var name: String { get }
    var keyID: UInt32 { get }
    func verify(message: Data, payload: Data) -> Bool
}

/// Key names, key IDs and the verifier-key string `<name>+<hex key ID>+<base64(type || key)>`.
public enum NoteKey {
    /// Signature types (c2sp.org/signed-note): Ed25519 notes and timestamped Ed25519 cosignatures.
    public static let ed25519: UInt8 = 0x01
    public static let cosignatureV1: UInt8 = 0x04

    public static func isValidName(_ name: some StringProtocol) -> Bool {
        !name.isEmpty && !name.unicodeScalars.contains { $0 == "+" || $0.properties.isWhitespace || $0.value < 0x20 }
    }

    /// SHA-256(name || 0x0A || type || public key)[:4], big-endian.
    public static func keyID(name: String, type: UInt8, publicKey: Data) -> UInt32 {
        var hasher = SHA256()
        hasher.update(data: Data(name.utf8))
        hasher.update(data: [0x0A, type])
        hasher.update(data: publicKey)
        return Data(hasher.finalize()).readBigEndianUInt32(at: 0)
    }

    public static func verifierKey(name: String, type: UInt8, publicKey: Data) -> String {
        let id = keyID(name: name, type: type, publicKey: publicKey)
        return "\(name)+\(hex8(id))+\((Data([type]) + publicKey).base64EncodedString())"
    }

    static func hex8(_ id: UInt32) -> String {
        let digits = String(id, radix: 16)
        return String(repeating: "0", count: 8 - digits.count) + digits
    }

    public enum ParseError: Error, Equatable, Sendable, CustomStringConvertible {
        case malformed(String)
        public var description: String {
            switch self { case .malformed(let why): "not a verifier key: \(why)" }
        }
    }

    /// Parses a vkey, splitting at the first two `+` only (the base64 may contain `+`), and checks
    /// the key ID against the key.
    public static func parseVerifierKey(_ vkey: String) throws(ParseError) -> (name: String, keyID: UInt32, type: UInt8, publicKey: Data) {
        guard let first = vkey.firstIndex(of: "+") else { throw .malformed("no key ID") }
        let name = String(vkey[..<first])
        let rest = vkey[vkey.index(after: first)...]
        guard let second = rest.firstIndex(of: "+") else { throw .malformed("no key") }
        let idText = rest[..<second]
        let keyText = rest[rest.index(after: second)...]
        guard isValidName(name) else { throw .malformed("bad key name") }
        guard idText.count == 8, let id = UInt32(idText, radix: 16), hex8(id) == idText.lowercased() else {
            throw .malformed("the key ID is not 8 hex digits")
        }
        guard let bytes = StrictBase64.decode(keyText), bytes.count >= 2 else { throw .malformed("bad key encoding") }
        let type = bytes[bytes.startIndex]
        let key = Data(bytes.dropFirst())
        guard type == ed25519 || type == cosignatureV1 else { throw .malformed("unknown key type \(type)") }
        guard key.count == 32 else { throw .malformed("an Ed25519 key has 32 bytes") }
        guard keyID(name: name, type: type, publicKey: key) == id else { throw .malformed("the key ID does not match the key") }
        return (name, id, type, key)
    }

    /// A verifier for a vkey of either supported type.
    public static func verifier(_ vkey: String) throws(ParseError) -> any NoteVerifier {
        let parsed = try parseVerifierKey(vkey)
        guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: parsed.publicKey) else { throw .malformed("bad Ed25519 key") }
        switch parsed.type {
        case ed25519: return Ed25519NoteVerifier(name: parsed.name, publicKey: key)
        default: return CosignatureV1Verifier(name: parsed.name, publicKey: key)
        }
    }
}

/// An Ed25519 key of one signature type: its key ID and vkey follow from name, type and key.
public protocol Ed25519KeyedVerifier: NoteVerifier {
    static var signatureType: UInt8 { get }
    var publicKey: Curve25519.Signing.PublicKey { get }
}

extension Ed25519KeyedVerifier {
    public var keyID: UInt32 { NoteKey.keyID(name: name, type: Self.signatureType, publicKey: publicKey.rawRepresentation) }
    public var verifierKey: String { NoteKey.verifierKey(name: name, type: Self.signatureType, publicKey: publicKey.rawRepresentation) }
}

/// Plain Ed25519 note signatures (type 0x01): a log's signature on its checkpoints.
public struct Ed25519NoteVerifier: Ed25519KeyedVerifier {
    public static let signatureType = NoteKey.ed25519
    public let name: String
    public let publicKey: Curve25519.Signing.PublicKey

    public init(name: String, publicKey: Curve25519.Signing.PublicKey) {
        self.name = name
        self.publicKey = publicKey
    }

    public func verify(message: Data, payload: Data) -> Bool {
        payload.count == 64 && publicKey.isValidSignature(payload, for: message)
    }
}

/// Signs notes with Ed25519 (type 0x01).
public struct Ed25519NoteSigner: Sendable {
    public let name: String
    public let privateKey: Curve25519.Signing.PrivateKey

    public init(name: String, privateKey: Curve25519.Signing.PrivateKey) {
        precondition(NoteKey.isValidName(name), "a key name has no spaces or plus signs")
        self.name = name
        self.privateKey = privateKey
    }

    /// Reads Go's `PRIVATE+KEY+<name>+<hex id>+base64(0x01 || seed)` encoding (not part of C2SP).
    public init(privateKeyString: String) throws(NoteKey.ParseError) {
        let prefix = "PRIVATE+KEY+"
        guard privateKeyString.hasPrefix(prefix) else { throw .malformed("not a private key") }
        let parts = privateKeyString.dropFirst(prefix.count).split(separator: "+", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, NoteKey.isValidName(parts[0]), let bytes = StrictBase64.decode(parts[2]), bytes.count == 33,
            bytes[bytes.startIndex] == NoteKey.ed25519,
            let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: bytes.dropFirst())
        else { throw .malformed("bad private key") }
        let id = NoteKey.keyID(name: String(parts[0]), type: NoteKey.ed25519, publicKey: key.publicKey.rawRepresentation)
        guard NoteKey.hex8(id) == parts[1] else { throw .malformed("the key ID does not match the key") }
        self.init(name: String(parts[0]), privateKey: key)
    }

    public var verifier: Ed25519NoteVerifier { Ed25519NoteVerifier(name: name, publicKey: privateKey.publicKey) }
    public var verifierKey: String { verifier.verifierKey }

    public func signature(for text: String) throws -> SignedNote.Signature {
        SignedNote.Signature(name: name, keyID: verifier.keyID, payload: try privateKey.signature(for: Data(text.utf8)))
    }

    public func sign(_ text: String) throws -> SignedNote {
        SignedNote(text: text, signatures: [try signature(for: text)])
    }
}

/// tlog-cosignature/v1 (type 0x04): a witness's timestamped statement that the checkpoint is the
/// largest consistent one it has seen. The signed message is `cosignature/v1\ntime <t>\n` + the
/// checkpoint's note text; the payload is the 8-byte big-endian time and the 64-byte signature.
public struct CosignatureV1Verifier: Ed25519KeyedVerifier {
    public static let signatureType = NoteKey.cosignatureV1
    public let name: String
    public let publicKey: Curve25519.Signing.PublicKey

    public init(name: String, publicKey: Curve25519.Signing.PublicKey) {
        self.name = name
        self.publicKey = publicKey
    }

    public static func message(text: String, time: UInt64) -> Data {
        Data("cosignature/v1\ntime \(time)\n\(text)".utf8)
    }

    /// The cosignature's time, in seconds since the epoch.
    public static func time(of payload: Data) -> UInt64? {
        payload.count == 72 ? payload.readBigEndianUInt64(at: 0) : nil
    }

    public func verify(message: Data, payload: Data) -> Bool {
        guard let time = Self.time(of: payload), let text = String(data: message, encoding: .utf8) else { return false }
        return publicKey.isValidSignature(payload.dropFirst(8), for: Self.message(text: text, time: time))
    }
}

public struct CosignatureV1Signer: Sendable {
    public let name: String
    public let privateKey: Curve25519.Signing.PrivateKey

    public init(name: String, privateKey: Curve25519.Signing.PrivateKey) {
        precondition(NoteKey.isValidName(name), "a key name has no spaces or plus signs")
        self.name = name
        self.privateKey = privateKey
    }

    public var verifier: CosignatureV1Verifier { CosignatureV1Verifier(name: name, publicKey: privateKey.publicKey) }
    public var verifierKey: String { verifier.verifierKey }

    /// The cosignature line for a checkpoint's note text at `time` (seconds since the epoch).
    public func cosign(text: String, time: UInt64) throws -> SignedNote.Signature {
        var payload = Data()
        payload.appendBigEndian(time)
        payload.append(try privateKey.signature(for: CosignatureV1Verifier.message(text: text, time: time)))
        return SignedNote.Signature(name: name, keyID: verifier.keyID, payload: payload)
    }
}
