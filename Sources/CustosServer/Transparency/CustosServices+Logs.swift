import AsyncHTTPClient
import CustosDomain
import CustosStorage
import Foundation
import MerkleLog
import NIOCore

/// Checkpoints, witnessing, batches and proofs of the two Merkle logs (issue 6, tlog.md §6).
extension CustosServices {
    public func origin(of log: TransparencyLog) -> String { transparencyKeys.signer(for: log).name }

    public func verifierKey(of log: TransparencyLog) -> String { transparencyKeys.signer(for: log).verifierKey }

    // MARK: Checkpoints

    /// Signs a checkpoint of the log as it stands, unless the latest checkpoint already has this
    /// size, then asks the witnesses to cosign it. A checkpoint is published once the witness
    /// policy's quorum has cosigned it (at once, without a policy). Earlier checkpoints that never
    /// reached their quorum are offered again.
    @discardableResult
    public func checkpoint(_ log: TransparencyLog) async throws -> MerkleLogStore.StoredCheckpoint {
        let head = try await logs.head(log)
        var latest = try await logs.latestCheckpoint(log, publishedOnly: false)
        if latest == nil || latest!.size < head.size {
            let text = Checkpoint(origin: origin(of: log), size: head.size, root: head.root).text
            let note = try transparencyKeys.signer(for: log).sign(text)
            latest = try await logs.saveCheckpoint(log, size: head.size, root: head.root, note: note.serialized, at: now())
        }
        guard var checkpoint = latest, checkpoint.publishedAt == nil else { return latest! }
        checkpoint = try await witness(log, checkpoint)
        return checkpoint
    }

    /// Sends a checkpoint to every witness of the policy (c2sp.org/tlog-witness), adds the
    /// cosignatures that verify, and marks it published when the quorum is met.
    func witness(_ log: TransparencyLog, _ stored: MerkleLogStore.StoredCheckpoint) async throws -> MerkleLogStore.StoredCheckpoint {
        var note = try SignedNote(parsing: stored.note)
        var cosigned: Set<String> = []
        if let policy = witnessPolicy {
            let message = Data(note.text.utf8)
            for (name, witness) in policy.witnesses.sorted(by: { $0.key < $1.key }) {
                if let existing = note.signatures.first(where: { $0.name == witness.verifier.name && $0.keyID == witness.verifier.keyID }),
                    witness.verifier.verify(message: message, payload: existing.payload)
                {
                    cosigned.insert(name)
                    continue
                }
                guard let url = witness.url else { continue }
                do {
                    let signature = try await requestCosignature(log, stored, note: note, witness: witness, url: url)
                    note.signatures.append(signature)
                    cosigned.insert(name)
                } catch {
                    logger.warning("witness \(name) did not cosign \(log.rawValue) checkpoint \(stored.size): \(error)")
                }
            }
        }
        let published = (witnessPolicy?.isSatisfied(by: cosigned) ?? true) ? now() : nil
        try await logs.updateCheckpoint(log, size: stored.size, note: note.serialized, publishedAt: published)
        var updated = stored
        updated.note = note.serialized
        updated.publishedAt = published.map(Timestamp.format)
        return updated
    }

    public struct WitnessError: Error, CustomStringConvertible {
        public var description: String
    }

    /// One witness round trip: start from the size the witness last cosigned for us (known from
    /// our stored cosignatures), and on 409 retry once from the size the witness reports.
    func requestCosignature(
        _ log: TransparencyLog, _ stored: MerkleLogStore.StoredCheckpoint, note: SignedNote, witness: WitnessPolicy.Witness, url: String
    ) async throws -> SignedNote.Signature {
        let signedOnly = SignedNote(text: note.text, signatures: note.signatures.filter { $0.name == origin(of: log) })
        var oldSize = try await lastCosignedSize(log, by: witness, below: stored.size)
        for _ in 0..<2 {
            let proof = try await logs.consistencyProof(log, from: oldSize, to: stored.size)
            let body = AddCheckpointRequest(oldSize: oldSize, proof: proof, checkpoint: signedOnly).body
            let (status, text) = try await post(body, to: url.hasSuffix("/") ? url + "add-checkpoint" : url + "/add-checkpoint")
            switch status {
            case 200:
                let lines = try SignedNote(parsing: note.text + "\n" + text)
                guard let signature = lines.signatures.first(where: { $0.name == witness.verifier.name && $0.keyID == witness.verifier.keyID }),
                    witness.verifier.verify(message: Data(note.text.utf8), payload: signature.payload)
                else { throw WitnessError(description: "the answer carries no valid cosignature") }
                return signature
            case 409:
                guard let size = StrictDecimal.parse(text.trimmingCharacters(in: .newlines)), size <= stored.size else {
                    throw WitnessError(description: "409 without a usable size (\(text))")
                }
                oldSize = size
            default:
                throw WitnessError(description: "HTTP \(status): \(text.prefix(200))")
            }
        }
        throw WitnessError(description: "the witness kept reporting a different size")
    }

    /// The largest size below `size` whose stored checkpoint this witness cosigned (0 if none).
    func lastCosignedSize(_ log: TransparencyLog, by witness: WitnessPolicy.Witness, below size: UInt64) async throws -> UInt64 {
        for checkpoint in try await logs.checkpoints(log).reversed() where checkpoint.size < size {
            if let note = try? SignedNote(parsing: checkpoint.note),
                note.signatures.contains(where: { $0.name == witness.verifier.name && $0.keyID == witness.verifier.keyID })
            {
                return checkpoint.size
            }
        }
        return 0
    }

    func post(_ body: String, to url: String) async throws -> (Int, String) {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "text/plain; charset=utf-8")
        request.body = .bytes(ByteBuffer(string: body))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(15))
        let buffer = try await response.body.collect(upTo: 64 * 1024)
        return (Int(response.status.code), String(buffer: buffer))
    }

    // MARK: Proofs

    public enum ProofError: Error, CustomStringConvertible {
        case noPublishedCheckpoint(TransparencyLog)
        case notInCheckpoint(index: UInt64, size: UInt64)
        public var description: String {
            switch self {
            case .noPublishedCheckpoint(let log): "the \(log.rawValue) log has no published checkpoint yet"
            case .notInCheckpoint(let index, let size): "entry \(index) is not covered by the latest published checkpoint (size \(size))"
            }
        }
    }

    /// A c2sp.org/tlog-proof for entry `index` against the latest published checkpoint.
    public func proof(_ log: TransparencyLog, index: UInt64, extra: Data? = nil) async throws -> TlogProof {
        guard let checkpoint = try await logs.latestCheckpoint(log, publishedOnly: true) else { throw ProofError.noPublishedCheckpoint(log) }
        guard index < checkpoint.size else { throw ProofError.notInCheckpoint(index: index, size: checkpoint.size) }
        let path = try await logs.inclusionProof(log, index: index, size: checkpoint.size)
        return TlogProof(extra: extra, index: index, path: path, checkpoint: try SignedNote(parsing: checkpoint.note))
    }

    /// Whether `customerProof` would give a proof now, without building it (the portal asks for
    /// every card).
    public func hasCustomerProof(caseID: UUID) async throws -> Bool {
        guard let index = try await legalProcess.record(caseID: caseID)?.demandIndex,
            let published = try await logs.latestCheckpoint(.legalProcess, publishedOnly: true)
        else { return false }
        return index < published.size
    }

    /// The customer's proof for a demand on its data (tlog.md §6.8 V2): the demand entry's
    /// tlog-proof whose `extra` is a notice bundle opening the customer's own subject fields.
    /// Nil until the demand's entry is published and covered by a published checkpoint.
    public func customerProof(caseID: UUID) async throws -> TlogProof? {
        guard let record = try await legalProcess.record(caseID: caseID), let index = record.demandIndex,
            let entry = try await logs.entries(.legalProcess, from: index, count: 1).first
        else { return nil }
        let openings = record.commitment.fields.indices.filter { record.commitment.fields[$0].name.hasPrefix("subject/") }
            .map { record.commitment.opening($0) }
        do {
            return try await proof(.legalProcess, index: index, extra: LegalProcessLog.noticeBundle(entry: entry, openings: openings))
        } catch is ProofError {
            return nil
        }
    }
}
