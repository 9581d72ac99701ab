import Crypto
import Foundation

/// A C2SP signed note (c2sp.org/signed-note): a text ending in a newline, a blank line, and one or
/// more lines `— <key name> <base64(key ID || signature)>`. Written by hand: no Swift package
/// implements C2SP notes.
public struct SignedNote: Equatable, Sendable {
    public struct Signature: Equatable, Sendable {
        public var name: String
        public var keyID: UInt32
        /// The bytes after the key ID (an Ed25519 signature, or timestamp + signature for cosignatures).
        public var payload: Data

        public init(name: String, keyID: UInt32, payload: Data) {
            self.name = name
            self.keyID = keyID
            self.payload = payload
        }

        public var line: String {
            var bytes = Data()
            bytes.appendBigEndian(keyID)
            bytes.append(payload)
            return "\u{2014} \(name) \(bytes.base64EncodedString())\n"
        }
    }

    /// The note text including its final newline.
    public var text: String
    public var signatures: [Signature]

    public init(text: String, signatures: [Signature] = []) {
        self.text = text
        self.signatures = signatures
    }

    public var serialized: String { text + "\n" + signatures.map(\.line).joined() }

    public enum ParseError: Error, Equatable, Sendable, CustomStringConvertible {
        case malformed(String)
        public var description: String {
            switch self { case .malformed(let why): "not a signed note: \(why)" }
        }
    }

    public static let signaturePrefix = "\u{2014} "

    public init(parsing data: Data) throws(ParseError) {
        guard let string = String(data: data, encoding: .utf8) else { throw .malformed("not UTF-8") }
        try self.init(parsing: string)
    }

    public init(parsing string: String) throws(ParseError) {
        guard !string.unicodeScalars.contains(where: { $0.value < 0x20 && $0 != "\n" }) else {
            throw .malformed("control characters")
        }
        guard string.hasSuffix("\n") else { throw .malformed("does not end in a newline") }
        // The signatures start after the last blank line.
        guard let split = string.range(of: "\n\n", options: .backwards) else { throw .malformed("no blank line before the signatures") }
        let text = String(string[..<split.lowerBound]) + "\n"
        let block = string[split.upperBound...]
        var signatures: [Signature] = []
        for line in block.split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
            guard line.hasPrefix(Self.signaturePrefix) else { throw .malformed("a signature line must start with an em dash and a space") }
            let rest = line.dropFirst(Self.signaturePrefix.count)
            let parts = rest.split(separator: " ", omittingEmptySubsequences: false)
            guard parts.count == 2, NoteKey.isValidName(parts[0]) else { throw .malformed("bad signature line") }
            guard let bytes = StrictBase64.decode(parts[1]), bytes.count > 4 else { throw .malformed("bad signature encoding") }
            signatures.append(Signature(name: String(parts[0]), keyID: bytes.readBigEndianUInt32(at: 0), payload: Data(bytes.dropFirst(4))))
        }
        guard !signatures.isEmpty else { throw .malformed("no signatures") }
        self.init(text: text, signatures: signatures)
    }

    public enum VerificationError: Error, Equatable, Sendable, CustomStringConvertible {
        case invalidSignature(name: String)
        case noKnownSignature
        public var description: String {
            switch self {
            case .invalidSignature(let name): "the signature by \(name) does not verify"
            case .noKnownSignature: "no signature from a known key"
            }
        }
    }

    /// The signature rules of c2sp.org/signed-note: unknown keys are ignored; a signature whose name
    /// and key ID match a known key must verify (else the whole note is rejected); at least one must.
    /// Returns the verifiers whose signatures verified, with the signature each checked.
    @discardableResult
    public func verify(with verifiers: [any NoteVerifier]) throws(VerificationError) -> [(verifier: any NoteVerifier, signature: Signature)] {
        var verified: [(verifier: any NoteVerifier, signature: Signature)] = []
        let message = Data(text.utf8)
        for signature in signatures {
            guard let verifier = verifiers.first(where: { $0.name == signature.name && $0.keyID == signature.keyID }) else { continue }
            guard verifier.verify(message: message, payload: signature.payload) else { throw .invalidSignature(name: signature.name) }
            verified.append((verifier, signature))
        }
        guard !verified.isEmpty else { throw .noKnownSignature }
        return verified
    }
}

extension Data {
    mutating func appendBigEndian(_ value: UInt32) {
        Swift.withUnsafeBytes(of: value.bigEndian) { append(contentsOf: $0) }
    }

    mutating func appendBigEndian(_ value: UInt64) {
        Swift.withUnsafeBytes(of: value.bigEndian) { append(contentsOf: $0) }
    }

    func readBigEndianUInt32(at offset: Int) -> UInt32 {
        let start = startIndex + offset
        return self[start..<start + 4].reduce(0) { $0 << 8 | UInt32($1) }
    }

    func readBigEndianUInt64(at offset: Int) -> UInt64 {
        let start = startIndex + offset
        return self[start..<start + 8].reduce(0) { $0 << 8 | UInt64($1) }
    }
}
