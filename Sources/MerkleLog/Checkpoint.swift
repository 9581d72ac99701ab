import Foundation

/// A tlog-checkpoint (c2sp.org/tlog-checkpoint) note text: origin, tree size, base64 root, and
/// optional extension lines (which we never write: monitors cannot audit them).
public struct Checkpoint: Equatable, Sendable {
    public var origin: String
    public var size: UInt64
    public var root: Data
    public var extensions: [String]

    public init(origin: String, size: UInt64, root: Data, extensions: [String] = []) {
        self.origin = origin
        self.size = size
        self.root = root
        self.extensions = extensions
    }

    public var text: String {
        ([origin, String(size), root.base64EncodedString()] + extensions).joined(separator: "\n") + "\n"
    }

    public enum ParseError: Error, Equatable, Sendable, CustomStringConvertible {
        case malformed(String)
        public var description: String {
            switch self { case .malformed(let why): "not a checkpoint: \(why)" }
        }
    }

    public init(text: String) throws(ParseError) {
        guard text.hasSuffix("\n") else { throw .malformed("the body must end in a newline") }
        let lines = text.dropLast().split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.count >= 3 else { throw .malformed("fewer than three lines") }
        guard !lines[0].isEmpty else { throw .malformed("bad origin") }
        guard let size = StrictDecimal.parse(lines[1]) else { throw .malformed("bad tree size") }
        guard let root = StrictBase64.hash(lines[2]) else { throw .malformed("the root is not a base64 SHA-256 hash") }
        guard lines.dropFirst(3).allSatisfy({ !$0.isEmpty }) else { throw .malformed("empty extension line") }
        if size == 0 && root != MerkleHash.emptyRoot { throw .malformed("an empty tree must have the empty root") }
        self.init(origin: String(lines[0]), size: size, root: root, extensions: lines.dropFirst(3).map(String.init))
    }
}

/// A checkpoint with its signatures, verified against a log key and, optionally, a witness policy.
public struct SignedCheckpoint: Sendable {
    public let note: SignedNote
    public let checkpoint: Checkpoint

    public init(note: SignedNote) throws(Checkpoint.ParseError) {
        self.note = note
        self.checkpoint = try Checkpoint(text: note.text)
    }

    public init(parsing text: String) throws {
        try self.init(note: SignedNote(parsing: text))
    }

    public enum Failure: Error, Equatable, Sendable, CustomStringConvertible {
        case wrongOrigin(String)
        case logSignature(String)
        case quorumNotMet(String)
        public var description: String {
            switch self {
            case .wrongOrigin(let origin): "the checkpoint is for \(origin), not this log"
            case .logSignature(let why): "log signature: \(why)"
            case .quorumNotMet(let why): "witness quorum not met: \(why)"
            }
        }
    }

    /// V0 of tlog.md §6.8: the log's own signature (its key name is the origin), then the policy's
    /// quorum over witness cosignatures. Returns the names of the witnesses whose cosignature verified.
    @discardableResult
    public func verify(log: Ed25519NoteVerifier, policy: WitnessPolicy? = nil) throws(Failure) -> Set<String> {
        guard checkpoint.origin == log.name else { throw .wrongOrigin(checkpoint.origin) }
        do {
            try note.verify(with: [log])
        } catch {
            throw .logSignature(error.description)
        }
        guard let policy else { return [] }
        var cosigned: Set<String> = []
        let message = Data(note.text.utf8)
        for (name, witness) in policy.witnesses {
            guard let signature = note.signatures.first(where: { $0.name == witness.verifier.name && $0.keyID == witness.verifier.keyID }) else { continue }
            guard witness.verifier.verify(message: message, payload: signature.payload) else {
                throw .logSignature("the cosignature by \(witness.verifier.name) does not verify")
            }
            cosigned.insert(name)
        }
        guard policy.isSatisfied(by: cosigned) else {
            throw .quorumNotMet("cosigned by \(cosigned.sorted().joined(separator: ", ")), policy needs \(policy.quorum ?? "none")")
        }
        return cosigned
    }
}
