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

    /// The page size for streaming entries; verification memory stays flat. A power of two, so
    /// that each half of a full page is a perfect subtree of the log (see `VerificationWalk`).
    public static let verificationPage = 16_384

    /// One page of a log as verification reads it: each entry's index, its leaf hash recomputed
    /// from the stored entry, and the leaf hash stored when it was appended.
    struct VerificationPage: Sendable {
        var indices: [UInt64] = []
        /// 32 bytes per entry, back to back.
        var leafHashes: [UInt8] = []
        /// The public log's entries, whose contents are checked too (empty for the audit log).
        var entries: [Data] = []
        /// The stored leaf hashes from the page's first index on (shorter when some are missing);
        /// read only when some part of the page must be compared entry by entry.
        var stored: [UInt8] = []
        /// The page in consecutive parts. A part of 2^k entries comes with its subtree hashed, and
        /// `matchesStored` when that subtree's root equals the node the log stored for it.
        var chunks: [(offset: Int, count: Int, subtree: PerfectSubtree?, matchesStored: Bool)] = []
    }

    /// The walk's running state: the tree folded so far and the checkpoints still ahead.
    struct VerificationWalk {
        var result: LogVerification
        let checkpoints: [MerkleLogStore.StoredCheckpoint]
        let headSize: UInt64
        var rootAtHead: Data?
        var nextCheckpoint = 0
        var lastGoodCheckpoint: UInt64 = 0
        var tree = MerkleRootBuilder()
        var count: UInt64 = 0
        var stopped = false
        let checkpointProblem: (MerkleLogStore.StoredCheckpoint, Data) -> String?
        let entryProblem: (Data, UInt64) -> String?

        /// Checks the checkpoints of sizes up to `size` (all past `count` and no further than
        /// `size`); `root` gives the tree hash at each.
        mutating func checkCheckpoints(upTo size: UInt64, root: (UInt64) -> Data) {
            while nextCheckpoint < checkpoints.endIndex, checkpoints[nextCheckpoint].size <= size {
                let checkpoint = checkpoints[nextCheckpoint]
                result.checkpointsChecked += 1
                if let problem = checkpointProblem(checkpoint, root(checkpoint.size)) {
                    result.problems.append(.init(index: lastGoodCheckpoint, message: "checkpoint \(checkpoint.size): \(problem)"))
                } else {
                    lastGoodCheckpoint = checkpoint.size
                }
                nextCheckpoint += 1
            }
        }

        mutating func checkCheckpoints() {
            let root = tree.root
            checkCheckpoints(upTo: count) { _ in root }
        }

        /// Folds a page into the tree, stopping at the first entry that is missing or does not
        /// hash to its stored leaf.
        mutating func fold(_ page: VerificationPage) {
            for chunk in page.chunks where !stopped {
                if let subtree = chunk.subtree, chunk.matchesStored, foldWhole(chunk.offset, subtree, page) { continue }
                foldOneByOne(page, chunk.offset..<chunk.offset + chunk.count)
            }
        }

        /// A part whose entries are all present and in place, and whose subtree root equals the
        /// node the log stored for it, is added as one subtree (its leaves then equal the stored
        /// ones); the roots at checkpoints inside it come from its levels. Returns false, changing
        /// nothing, when the part must be walked entry by entry.
        private mutating func foldWhole(_ offset: Int, _ subtree: PerfectSubtree, _ page: VerificationPage) -> Bool {
            let leaves = subtree.leafCount
            guard count % UInt64(leaves) == 0 else { return false }
            for position in 0..<leaves where page.indices[offset + position] != count + UInt64(position) { return false }
            let before = tree
            let first = count
            func root(at size: UInt64) -> Data {
                var partial = before
                subtree.appendPrefix(Int(size - first), to: &partial)
                return partial.root
            }
            let end = first + UInt64(leaves)
            if headSize > first, headSize <= end { rootAtHead = root(at: headSize) }
            checkCheckpoints(upTo: end, root: root(at:))
            subtree.append(to: &tree)
            count = end
            return true
        }

        private mutating func foldOneByOne(_ page: VerificationPage, _ range: Range<Int>) {
            page.leafHashes.withUnsafeBytes { computed in
                page.stored.withUnsafeBytes { stored in
                    for offset in range {
                        let index = page.indices[offset]
                        guard index == count else {
                            result.problems.append(.init(index: count, message: "entry \(count) is missing (the next stored entry is \(index)): deleted or reordered"))
                            stopped = true
                            return
                        }
                        let leafHash = UnsafeRawBufferPointer(rebasing: computed[offset * 32..<offset * 32 + 32])
                        guard stored.count >= offset * 32 + 32, memcmp(leafHash.baseAddress!, stored.baseAddress! + offset * 32, 32) == 0 else {
                            result.problems.append(.init(index: count, message: "the stored entry does not hash to the leaf recorded when it was appended"))
                            stopped = true
                            return
                        }
                        if offset < page.entries.count, let problem = entryProblem(page.entries[offset], count) {
                            result.problems.append(.init(index: count, message: problem))
                        }
                        tree.append(leafHash: leafHash)
                        count += 1
                        if count == headSize { rootAtHead = tree.root }
                        if nextCheckpoint < checkpoints.endIndex, checkpoints[nextCheckpoint].size == count { checkCheckpoints() }
                    }
                }
            }
        }
    }

    public func verifyLog(_ log: TransparencyLog) async throws -> LogVerification {
        try await logs.withMappedReads {
            var result = try await walkLog(log)
            if log == .audit { result.problems += try await auditColumnProblems(upTo: Int(result.size)) }
            return result
        }
    }

    /// The audit rows, up to `size` entries, whose filtering copies (`case_id`, `subject`, ...)
    /// differ from their hashed body: the hash check cannot see such a change, but the case
    /// timeline selects by `case_id`. A range the database cannot compare (a body that is not
    /// JSON on PostgreSQL, say; the hash check names the entry too) is named as such.
    func auditColumnProblems(upTo size: Int) async throws -> [LogVerification.Problem] {
        var problems: [LogVerification.Problem] = []
        let pageSize = 4 * Self.verificationPage
        for after in stride(from: 0, to: size, by: pageSize) {
            do {
                for mismatch in try await logs.auditColumnMismatches(afterSequence: after, limit: pageSize) {
                    problems.append(.init(
                        index: UInt64(mismatch.sequence - 1),
                        message: "audit entry \(mismatch.sequence): the stored \(mismatch.columns.joined(separator: ", ")) differ\(mismatch.columns.count == 1 ? "s" : "") from the hashed entry"))
                }
            } catch {
                problems.append(.init(
                    index: UInt64(after), message: "the stored columns of audit entries \(after + 1)–\(min(after + pageSize, size)) could not be compared with their hashed bodies: \(String(reflecting: error))"))
            }
        }
        return problems
    }

    private func walkLog(_ log: TransparencyLog) async throws -> LogVerification {
        let checkpoints = try await logs.checkpoints(log)
        // The head as the walk starts. A running server may append while the walk reads (the crash
        // harness verifies beside a live server): entries up to this head must hash to its root,
        // and at the end no entry may stand beyond the head as it is then. Read after the
        // checkpoints, so none of them can be newer than it.
        let headBefore = try await logs.head(log)
        let auditCheckpoints = log == .legalProcess ? Dictionary(uniqueKeysWithValues: try await logs.checkpoints(.audit).map { ($0.size, $0.root) }) : [:]
        let verifier = transparencyKeys.signer(for: log).verifier
        var walk = VerificationWalk(
            result: LogVerification(log: log), checkpoints: checkpoints, headSize: headBefore.size,
            rootAtHead: headBefore.size == 0 ? MerkleRootBuilder().root : nil,
            checkpointProblem: { self.checkpointProblem($0, recomputedRoot: $1, verifier: verifier) },
            entryProblem: { self.legalProcessEntryProblem($0, index: $1, auditCheckpoints: auditCheckpoints) })
        walk.checkCheckpoints()
        // Pages are read and hashed ahead, several at a time, while earlier ones are folded into
        // the tree: SQLite's thread always has the next page's query queued, and hashing (split
        // between two tasks per page) fills the other core. Page k covers the indices from
        // k·pageSize on, so the reads need not wait for one another.
        let logs = self.logs
        let pageSize = Self.verificationPage
        /// What one read brings: the stored entries (audit) or entry bytes (public log).
        struct StoredPage: Sendable {
            var audit = AuditEntryPage()
            var entries: [(index: UInt64, data: Data)] = []
            var count: Int { audit.count + entries.count }
        }
        /// The entries from `index` on (at most a page; after a gap, from the next stored entry,
        /// which the fold reports as missing ones).
        @Sendable func read(from index: UInt64) async throws -> StoredPage {
            var page = StoredPage()
            switch log {
            case .audit: page.audit = try await logs.auditEntryPage(afterSequence: Int(index), limit: pageSize)  // sequences are 1-based
            case .legalProcess: page.entries = try await logs.entryPage(log, after: Int64(index) - 1, limit: pageSize)
            }
            return page
        }
        /// Hashes a page read from `start`, and holds it against what the log stored: a part that
        /// is a whole perfect subtree against the one stored node for it, the rest (and any part
        /// whose node differs) leaf by leaf, so a bad entry is still named by its index.
        @Sendable func hash(_ stored: StoredPage, from start: UInt64) async throws -> VerificationPage {
            var page = VerificationPage()
            switch log {
            case .audit:
                // Each half is hashed in its own task; a half of 2^k entries (every half of a full
                // page) has its subtree hashed there too, so folding it is one append.
                let entries = stored.audit
                @Sendable func part(_ range: Range<Int>) -> (hashes: [UInt8], subtree: PerfectSubtree?) {
                    let hashes = entries.leafHashes(range)
                    return (hashes, range.count > 0 && range.count & (range.count - 1) == 0 ? PerfectSubtree(leafHashes: hashes) : nil)
                }
                let half = entries.count / 2
                async let firstHalf = part(0..<half)
                let secondHalf = part(half..<entries.count)
                let first = await firstHalf
                page.indices = entries.sequences.map { UInt64($0 - 1) }
                page.leafHashes = first.hashes + secondHalf.hashes
                page.chunks = [(0, half, first.subtree, false), (half, entries.count - half, secondHalf.subtree, false)]
            case .legalProcess:
                page.indices = stored.entries.map(\.index)
                page.entries = stored.entries.map(\.data)
                page.leafHashes = stored.entries.flatMap { MerkleHash.leaf($0.data) }
                page.chunks = [(0, stored.entries.count, nil, false)]
            }
            // The stored node of each whole, aligned subtree part.
            var nodes: [Int: NodeID] = [:]
            for (number, chunk) in page.chunks.enumerated() {
                guard let subtree = chunk.subtree else { continue }
                let first = start + UInt64(chunk.offset)
                let leaves = UInt64(subtree.leafCount)
                guard first % leaves == 0, page.indices[chunk.offset] == first, page.indices[chunk.offset + chunk.count - 1] == first + leaves - 1 else { continue }
                nodes[number] = NodeID(height: subtree.height, index: first / leaves)
            }
            let storedNodes = nodes.isEmpty ? [:] : try await logs.nodes(log, Set(nodes.values))
            for (number, node) in nodes where storedNodes[node] == page.chunks[number].subtree?.root {
                page.chunks[number].matchesStored = true
            }
            if page.chunks.contains(where: { !$0.matchesStored && $0.count > 0 }) {
                page.stored = try await logs.leafHashRun(log, from: start, count: page.indices.count)
            }
            return page
        }
        /// Pages read (and hashed) ahead, oldest first, each with the index it starts at.
        var ahead: [(start: UInt64, task: Task<VerificationPage?, any Error>)] = []
        /// Pages read ahead must finish before the walk returns or throws: the caller may close
        /// the database next.
        func settleAhead() async {
            for page in ahead {
                page.task.cancel()
                _ = try? await page.task.value
            }
            ahead = []
        }
        var nextStart: UInt64 = 0
        let depth = 3
        do {
            while !walk.stopped {
                while ahead.count < depth {
                    let start = nextStart
                    ahead.append((start, Task {
                        let stored = try await read(from: start)
                        return stored.count == 0 ? nil : try await hash(stored, from: start)
                    }))
                    nextStart += UInt64(pageSize)
                }
                let (start, task) = ahead.removeFirst()
                guard let page = try await task.value else { break }  // nothing stored from here on
                walk.fold(page)
                if !walk.stopped, walk.count < start + UInt64(pageSize) {
                    // A short page: the end of the log as it was read, or entries a running server
                    // appended since. The pages read ahead may have missed those; read on from here.
                    await settleAhead()
                    nextStart = walk.count
                }
            }
        } catch {
            await settleAhead()
            throw error
        }
        await settleAhead()
        var result = walk.result
        let count = walk.count
        result.size = count
        if !walk.stopped {
            if let beyond = checkpoints.last, beyond.size > count {
                result.problems.append(.init(index: count, message: "a checkpoint of size \(beyond.size) was signed but only \(count) entries are stored: the log was rewound"))
            }
            let witnessed = await witnessSizes(log)
            let headAfter = try await logs.head(log)
            if count < headBefore.size || walk.rootAtHead != headBefore.root {
                result.problems.append(.init(index: min(headBefore.size, count), message: "the log head (size \(headBefore.size)) does not match the \(count) stored entries"))
            } else if count > headAfter.size {
                result.problems.append(.init(index: headAfter.size, message: "\(count) entries are stored but the log head says \(headAfter.size): entries were added outside the log"))
            } else if count == headAfter.size, walk.tree.root != headAfter.root {
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
