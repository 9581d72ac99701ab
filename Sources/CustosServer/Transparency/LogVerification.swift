import AsyncHTTPClient
import Crypto
import CustosDomain
import CustosStorage
import Foundation
import MerkleLog
import NIOCore

/// `custos log verify`: recompute both logs from their stored entries and hold them against every
/// stored checkpoint, the stored tree, the head, and the witnesses' memory. Any difference names
/// the first index that can no longer be trusted.
extension CustosServices {
    public struct LogVerification: Sendable {
        public struct Problem: Sendable, CustomStringConvertible {
            public var index: UInt64?
            public var message: String
            public var description: String { index.map { "index \($0): \(message)" } ?? message }
        }

        public var log: TransparencyLog
        public var size: UInt64 = 0
        public var checkpointsChecked = 0
        public var problems: [Problem] = []
        public var firstBadIndex: UInt64? { problems.compactMap(\.index).min() }
        public var holds: Bool { problems.isEmpty }
    }

    public func verifyLogs() async throws -> [LogVerification] {
        var results: [LogVerification] = []
        for log in TransparencyLog.allCases { results.append(try await verifyLog(log)) }
        return results
    }

    /// The page size for streaming entries; verification memory stays flat.
    static let verificationPage = 20_000

    public func verifyLog(_ log: TransparencyLog) async throws -> LogVerification {
        var result = LogVerification(log: log)
        let checkpoints = try await logs.checkpoints(log)
        // The head as the walk starts. A running server may append while the walk reads (the crash
        // harness verifies beside a live server): entries up to this head must hash to its root,
        // and at the end no entry may stand beyond the head as it is then. Read after the
        // checkpoints, so none of them can be newer than it.
        let headBefore = try await logs.head(log)
        var rootAtHeadBefore: Data? = headBefore.size == 0 ? MerkleRootBuilder().root : nil
        let auditCheckpoints = log == .legalProcess ? Dictionary(uniqueKeysWithValues: try await logs.checkpoints(.audit).map { ($0.size, $0.root) }) : [:]
        let verifier = transparencyKeys.signer(for: log).verifier
        var nextCheckpoint = checkpoints.startIndex
        var lastGoodCheckpoint: UInt64 = 0
        var tree = MerkleRootBuilder()
        var count: UInt64 = 0
        var stop = false

        func checkCheckpoints(upTo size: UInt64) {
            while nextCheckpoint < checkpoints.endIndex, checkpoints[nextCheckpoint].size == size {
                let checkpoint = checkpoints[nextCheckpoint]
                result.checkpointsChecked += 1
                if let problem = checkpointProblem(checkpoint, recomputedRoot: tree.root, verifier: verifier) {
                    result.problems.append(.init(index: lastGoodCheckpoint, message: "checkpoint \(checkpoint.size): \(problem)"))
                } else {
                    lastGoodCheckpoint = checkpoint.size
                }
                nextCheckpoint += 1
            }
        }
        checkCheckpoints(upTo: 0)
        // Pages are read one ahead: the next page comes out of the database while this one is
        // hashed, so reading and hashing share the two cores instead of taking turns.
        let logs = self.logs
        /// A page item: the audit log's inputs are hashed piece by piece, the public log's entries
        /// are kept whole (their contents are checked too).
        enum Item: Sendable {
            case audit(MerkleLogStore.AuditLeafInput)
            case entry(Data)
        }
        @Sendable func fetch(after cursor: Int64, storedFrom first: UInt64) async throws -> (page: [(index: UInt64, item: Item)], stored: [Data]) {
            let page: [(index: UInt64, item: Item)]
            switch log {
            case .audit:
                page = try await logs.auditLeafInputRows(afterSequence: Int(cursor), limit: Self.verificationPage).map { (UInt64($0.sequence - 1), .audit($0)) }
            case .legalProcess:
                page = try await logs.entryPage(log, after: cursor, limit: Self.verificationPage).map { ($0.index, .entry($0.data)) }
            }
            guard !page.isEmpty else { return ([], []) }
            return (page, try await logs.leafHashRun(log, from: first, count: page.count))
        }
        /// The cursor after a page: audit sequences are 1-based, log indices 0-based.
        func cursor(after page: [(index: UInt64, item: Item)]) -> Int64 {
            Int64(page.last!.index) + (log == .audit ? 1 : 0)
        }
        var next = Task { try await fetch(after: log == .audit ? 0 : -1, storedFrom: 0) }
        while !stop {
            let (page, stored) = try await next.value
            if page.isEmpty { break }
            let after = cursor(after: page)
            let storedFrom = count + UInt64(page.count)
            next = Task { try await fetch(after: after, storedFrom: storedFrom) }
            for (offset, item) in page.enumerated() {
                guard item.index == count else {
                    result.problems.append(.init(index: count, message: "entry \(count) is missing (the next stored entry is \(item.index)): deleted or reordered"))
                    stop = true
                    break
                }
                let leafHash: Data
                switch item.item {
                case .audit(let input): leafHash = input.leafHash
                case .entry(let entry): leafHash = MerkleHash.leaf(entry)
                }
                if offset >= stored.count || stored[offset] != leafHash {
                    result.problems.append(.init(index: count, message: "the stored entry does not hash to the leaf recorded when it was appended"))
                    stop = true
                    break
                }
                if case .entry(let entry) = item.item, let problem = legalProcessEntryProblem(entry, index: count, auditCheckpoints: auditCheckpoints) {
                    result.problems.append(.init(index: count, message: problem))
                }
                tree.append(leafHash: leafHash)
                count += 1
                if count == headBefore.size { rootAtHeadBefore = tree.root }
                checkCheckpoints(upTo: count)
            }
        }
        // A page read ahead when a problem stopped the walk must finish before we return: the
        // caller may close the database next.
        _ = try? await next.value
        result.size = count
        if !stop {
            if let beyond = checkpoints.last, beyond.size > count {
                result.problems.append(.init(index: count, message: "a checkpoint of size \(beyond.size) was signed but only \(count) entries are stored: the log was rewound"))
            }
            let witnessed = await witnessSizes(log)
            let headAfter = try await logs.head(log)
            if count < headBefore.size || rootAtHeadBefore != headBefore.root {
                result.problems.append(.init(index: min(headBefore.size, count), message: "the log head (size \(headBefore.size)) does not match the \(count) stored entries"))
            } else if count > headAfter.size {
                result.problems.append(.init(index: headAfter.size, message: "\(count) entries are stored but the log head says \(headAfter.size): entries were added outside the log"))
            } else if count == headAfter.size, tree.root != headAfter.root {
                result.problems.append(.init(index: count, message: "the log head (size \(headAfter.size)) does not match the \(count) stored entries"))
            }
            for (name, size) in witnessed where size > headAfter.size {
                result.problems.append(.init(index: count, message: "witness \(name) cosigned size \(size), but only \(headAfter.size) entries are in the log: the log was rewound"))
            }
        }
        return result
    }

    func checkpointProblem(_ checkpoint: MerkleLogStore.StoredCheckpoint, recomputedRoot: Data, verifier: Ed25519NoteVerifier) -> String? {
        guard checkpoint.root == recomputedRoot else { return "the stored entries give a different root than the signed one" }
        guard let signed = try? SignedCheckpoint(parsing: checkpoint.note) else { return "the stored note is not a checkpoint" }
        guard signed.checkpoint.size == checkpoint.size, signed.checkpoint.root == recomputedRoot else { return "the signed note names another tree" }
        do {
            try signed.verify(log: verifier, policy: checkpoint.publishedAt == nil ? nil : witnessPolicy)
        } catch {
            return error.description
        }
        return nil
    }

    /// A legal-process entry must be canonical, and a demand's intake proof must lead to the
    /// audit checkpoint it names.
    func legalProcessEntryProblem(_ data: Data, index: UInt64, auditCheckpoints: [UInt64: Data]) -> String? {
        let entry: LogEntry
        do { entry = try LegalProcessLog.parse(data) } catch { return error.description }
        guard entry.header == "lplog/v1 demand" else { return nil }
        let intake = entry.value("intake")?.split(separator: " ") ?? []
        let proof = entry.value("intake-proof")?.split(separator: " ") ?? []
        guard intake.count == 2, let intakeIndex = UInt64(intake[0]), let leaf = StrictBase64.hash(intake[1]), let size = proof.first.flatMap({ UInt64($0) })
        else { return "the demand entry has no readable intake proof" }
        guard let root = auditCheckpoints[size] else { return "the intake proof names an audit checkpoint of size \(size) that was never signed" }
        let path = proof.dropFirst().compactMap { StrictBase64.hash($0) }
        do {
            try ProofVerification.verifyInclusion(index: intakeIndex, size: size, leafHash: leaf, proof: path, root: root)
        } catch {
            return "the intake proof does not verify: \(error.description)"
        }
        return nil
    }

    /// The largest size each witness with a URL remembers cosigning for this log, from its
    /// monitoring endpoint (`GET <url>/<hex SHA-256(origin)>/checkpoint`).
    func witnessSizes(_ log: TransparencyLog) async -> [(String, UInt64)] {
        guard let policy = witnessPolicy else { return [] }
        var sizes: [(String, UInt64)] = []
        let originHash = Hex.encode(SHA256.hash(data: Data(origin(of: log).utf8)))
        for (name, witness) in policy.witnesses.sorted(by: { $0.key < $1.key }) {
            guard let url = witness.url else { continue }
            let request = HTTPClientRequest(url: (url.hasSuffix("/") ? url : url + "/") + "\(originHash)/checkpoint")
            guard let response = try? await HTTPClient.shared.execute(request, timeout: .seconds(10)), response.status == .ok,
                let body = try? await response.body.collect(upTo: 64 * 1024), let note = try? SignedNote(parsing: String(buffer: body)),
                let checkpoint = try? Checkpoint(text: note.text),
                (try? note.verify(with: [witness.verifier])) != nil
            else { continue }
            sizes.append((name, checkpoint.size))
        }
        return sizes
    }
}
