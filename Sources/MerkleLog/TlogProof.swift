import Foundation

/// An offline inclusion proof (c2sp.org/tlog-proof): a header, optional base64 `extra` data (not
/// authenticated: the application checks it), the leaf index, the audit path, a blank line, and
/// the signed checkpoint the path leads to. Files use the extension `.tlog-proof`.
public struct TlogProof: Sendable {
    public static let header = "c2sp.org/tlog-proof@v1"

    public var extra: Data?
    public var index: UInt64
    public var path: [Data]
    public var checkpoint: SignedNote

    public init(extra: Data? = nil, index: UInt64, path: [Data], checkpoint: SignedNote) {
        self.extra = extra
        self.index = index
        self.path = path
        self.checkpoint = checkpoint
    }

    public var serialized: String {
        var text = Self.header + "\n"
        if let extra { text += "extra \(extra.base64EncodedString())\n" }
        text += "index \(index)\n"
        for hash in path { text += hash.base64EncodedString() + "\n" }
        return text + "\n" + checkpoint.serialized
    }

    public enum Failure: Error, Equatable, Sendable, CustomStringConvertible {
        case malformed(String)
        case checkpoint(String)
        case inclusion(String)
        public var description: String {
            switch self {
            case .malformed(let why): "not a tlog-proof: \(why)"
            case .checkpoint(let why): "checkpoint: \(why)"
            case .inclusion(let why): "inclusion: \(why)"
            }
        }
    }

    public init(parsing text: String) throws(Failure) {
        guard let blank = text.range(of: "\n\n") else { throw .malformed("no blank line before the checkpoint") }
        var lines = text[..<blank.lowerBound].split(separator: "\n", omittingEmptySubsequences: false)[...]
        guard lines.popFirst() == Substring(Self.header) else { throw .malformed("the first line must be \(Self.header)") }
        var extra: Data?
        if let line = lines.first, line.hasPrefix("extra ") {
            guard let data = StrictBase64.decode(line.dropFirst(6)) else { throw .malformed("bad extra data") }
            extra = data
            lines = lines.dropFirst()
        }
        guard let indexLine = lines.popFirst(), indexLine.hasPrefix("index "), let index = StrictDecimal.parse(indexLine.dropFirst(6)) else {
            throw .malformed("no index line")
        }
        var path: [Data] = []
        for line in lines {
            guard let hash = StrictBase64.hash(line) else { throw .malformed("a proof line is not a base64 hash") }
            path.append(hash)
        }
        do {
            self.init(extra: extra, index: index, path: path, checkpoint: try SignedNote(parsing: String(text[blank.upperBound...])))
        } catch {
            throw .malformed(error.description)
        }
    }

    /// The verification of c2sp.org/tlog-proof: the checkpoint's log signature and witness quorum,
    /// then the inclusion of `leafHash` (computed by the application from the entry) at `index`.
    public func verify(leafHash: Data, log: Ed25519NoteVerifier, policy: WitnessPolicy? = nil) throws(Failure) -> Checkpoint {
        let signed: SignedCheckpoint
        do {
            signed = try SignedCheckpoint(note: checkpoint)
            try signed.verify(log: log, policy: policy)
        } catch let failure as SignedCheckpoint.Failure {
            throw .checkpoint(failure.description)
        } catch {
            throw .checkpoint("\(error)")
        }
        do {
            try ProofVerification.verifyInclusion(
                index: index, size: signed.checkpoint.size, leafHash: leafHash, proof: path, root: signed.checkpoint.root)
        } catch {
            throw .inclusion(error.description)
        }
        return signed.checkpoint
    }
}
