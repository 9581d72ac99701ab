import Foundation

/// The body of a tlog-witness `add-checkpoint` request: `old <size>`, up to 63 consistency proof
/// hashes, a blank line, and the signed checkpoint.
public struct AddCheckpointRequest: Sendable {
    public var oldSize: UInt64
    public var proof: [Data]
    public var checkpoint: SignedNote

    public init(oldSize: UInt64, proof: [Data], checkpoint: SignedNote) {
        self.oldSize = oldSize
        self.proof = proof
        self.checkpoint = checkpoint
    }

    public var body: String {
        "old \(oldSize)\n" + proof.map { $0.base64EncodedString() + "\n" }.joined() + "\n" + checkpoint.serialized
    }

    public init(parsing text: String) throws(WitnessRefusal) {
        guard let blank = text.range(of: "\n\n") else { throw .badRequest("no blank line before the checkpoint") }
        let lines = text[..<blank.lowerBound].split(separator: "\n", omittingEmptySubsequences: false)
        guard let first = lines.first, first.hasPrefix("old "), let old = StrictDecimal.parse(first.dropFirst(4)) else {
            throw .badRequest("the first line must be old <size>")
        }
        guard lines.count - 1 <= 63 else { throw .badRequest("more than 63 proof lines") }
        var proof: [Data] = []
        for line in lines.dropFirst() {
            guard let hash = StrictBase64.hash(line) else { throw .badRequest("a proof line is not a base64 hash") }
            proof.append(hash)
        }
        do {
            self.init(oldSize: old, proof: proof, checkpoint: try SignedNote(parsing: String(text[blank.upperBound...])))
        } catch {
            throw .badRequest(error.description)
        }
    }
}

/// Why a witness refuses a checkpoint, with the HTTP status c2sp.org/tlog-witness assigns.
public enum WitnessRefusal: Error, Equatable, Sendable, CustomStringConvertible {
    case badRequest(String)
    case unknownLog
    case forbidden(String)
    case staleOldSize(latest: UInt64)
    case unprocessable(String)

    public var status: Int {
        switch self {
        case .badRequest: 400
        case .unknownLog: 404
        case .forbidden: 403
        case .staleOldSize: 409
        case .unprocessable: 422
        }
    }

    public var description: String {
        switch self {
        case .badRequest(let why): why
        case .unknownLog: "unknown log origin"
        case .forbidden(let why): why
        case .staleOldSize(let latest): "the old size is not the latest cosigned size \(latest)"
        case .unprocessable(let why): why
        }
    }
}

/// The state a witness keeps per log: the latest checkpoint it cosigned.
public struct WitnessedHead: Codable, Equatable, Sendable {
    public var size: UInt64
    public var root: Data

    public init(size: UInt64, root: Data) {
        self.size = size
        self.root = root
    }
}

/// The witness's decision, without I/O: the checks of c2sp.org/tlog-witness in its order
/// (404, 403, 400, 409, 422). The caller persists the new head before answering.
public enum WitnessDecision {
    public static func evaluate(
        _ request: AddCheckpointRequest, logs: [String: Ed25519NoteVerifier], latest: WitnessedHead?
    ) throws(WitnessRefusal) -> (checkpoint: Checkpoint, newHead: WitnessedHead) {
        let checkpoint: Checkpoint
        do { checkpoint = try Checkpoint(text: request.checkpoint.text) } catch { throw .badRequest(error.description) }
        guard let log = logs[checkpoint.origin] else { throw .unknownLog }
        do { try request.checkpoint.verify(with: [log]) } catch { throw .forbidden(error.description) }
        guard request.oldSize <= checkpoint.size else { throw .badRequest("the old size is larger than the checkpoint") }
        let current = latest ?? WitnessedHead(size: 0, root: MerkleHash.emptyRoot)
        guard request.oldSize == current.size else { throw .staleOldSize(latest: current.size) }
        if checkpoint.size == 0 && checkpoint.root != MerkleHash.emptyRoot { throw .unprocessable("an empty tree must have the empty root") }
        if request.oldSize == 0 {
            guard request.proof.isEmpty else { throw .unprocessable("a proof from size 0 must be empty") }
        } else if request.oldSize == checkpoint.size {
            guard request.proof.isEmpty, checkpoint.root == current.root else { throw .unprocessable("same size, different root") }
        } else {
            do {
                try ProofVerification.verifyConsistency(
                    oldSize: current.size, newSize: checkpoint.size, oldRoot: current.root, newRoot: checkpoint.root, proof: request.proof)
            } catch {
                throw .unprocessable("bad consistency proof: \(error.description)")
            }
        }
        return (checkpoint, WitnessedHead(size: checkpoint.size, root: checkpoint.root))
    }
}
