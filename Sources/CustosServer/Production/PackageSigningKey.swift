import Crypto
import CustosDomain
import Foundation

/// The Ed25519 key that signs production packages, kept in the installation's keyring
/// (`InstallationKeys`, issue 28) and made on first start; its public half is published at
/// `/.well-known/custos/signing-key.pem`, so anyone can check a package with stock OpenSSL.
public struct PackageSigningKey: Sendable {
    public typealias PublicKey = Curve25519.Signing.PublicKey
    public let privateKey: Curve25519.Signing.PrivateKey
    public var publicKey: Curve25519.Signing.PublicKey { privateKey.publicKey }

    public init(privateKey: Curve25519.Signing.PrivateKey) { self.privateKey = privateKey }

    /// The key from its 32 secret bytes (the keyring's `package-signing`, or a benchmark's own).
    public init(secret: Data) throws {
        self.privateKey = try Curve25519.Signing.PrivateKey(rawRepresentation: secret)
    }

    public func sign(_ bytes: Data) throws -> Data { try privateKey.signature(for: bytes) }

    /// Hex of the first 8 bytes of SHA-256 over the raw public key; names the key in manifests.
    public var keyID: String { Self.keyID(of: publicKey) }

    public static func keyID(of key: Curve25519.Signing.PublicKey) -> String {
        Hex.encode(SHA256.hash(data: key.rawRepresentation).prefix(8))
    }

    public var publicKeyPEM: String { Self.pem(of: publicKey) }

    /// The DER SubjectPublicKeyInfo prefix for an Ed25519 key (RFC 8410 §4: SEQUENCE { SEQUENCE {
    /// OID 1.3.101.112 }, BIT STRING (0 unused bits) }), followed by the 32 raw key bytes.
    /// Written by hand: swift-crypto has no PEM export for Ed25519, and these 12 fixed bytes do
    /// not justify adding an X.509 library; OpenSSL reads the result in the tests.
    static let spkiPrefix: [UInt8] = [0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00]

    public static func pem(of key: Curve25519.Signing.PublicKey) -> String {
        let der = Data(spkiPrefix) + key.rawRepresentation
        let base64 = der.base64EncodedString(options: [.lineLength64Characters])
        return "-----BEGIN PUBLIC KEY-----\n\(base64)\n-----END PUBLIC KEY-----\n"
    }

    /// Reads a PEM public key as published at the well-known address.
    public static func publicKey(fromPEM pem: String) throws -> Curve25519.Signing.PublicKey {
        let body = pem.split(whereSeparator: \.isNewline).filter { !$0.hasPrefix("-----") }.joined()
        guard let der = Data(base64Encoded: body), der.count == 44, Array(der.prefix(12)) == spkiPrefix else {
            throw PackageError("not an Ed25519 public key in PEM (SubjectPublicKeyInfo)")
        }
        return try Curve25519.Signing.PublicKey(rawRepresentation: der.suffix(32))
    }
}

public struct PackageError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
