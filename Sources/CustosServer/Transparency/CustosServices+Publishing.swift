import CustosDomain
import CustosStorage
import Foundation
import MerkleLog

/// The legal-process log's batches and the signed canary (tlog.md §6.1, §5).
extension CustosServices {
    public var canaries: CanaryStore { CanaryStore(store: database) }

    public struct BatchReport: Equatable, Sendable {
        public var demands = 0
        public var dispositions = 0
        public var openings = 0
        public var size: UInt64 = 0
    }

    /// How many records a batch reads and publishes at a time, each piece in a transaction of its
    /// own. After a busy day a batch holds many thousands of records; as one transaction it held
    /// SQLite's one writer, and every demand filed meanwhile, for seconds (14,382 demands: intake's
    /// p99 1.9 s while it ran), and read every pending record into memory at once.
    public static let batchPiece = 500

    /// Publishes everything pending as one batch: demand commitments whose intake is covered by a
    /// published audit checkpoint, dispositions of closed cases, and openings of demands no bar
    /// keeps sealed any more; then checkpoints and witnesses the legal-process log. Entries go in,
    /// in intake order, `piece` records at a time; the batch is published by the checkpoint at the
    /// end, and a batch cut short by a crash is finished by the next one.
    @discardableResult
    public func publishLegalProcessBatch(piece: Int = batchPiece) async throws -> BatchReport {
        precondition(piece > 0, "a batch is published in pieces of at least one record")
        var report = BatchReport()
        try await checkpoint(.audit)
        if let audit = try await logs.latestCheckpoint(.audit, publishedOnly: true) {
            report.demands = try await publishPieces(.demand, piece: piece) { records in
                let covered = records.filter { $0.intakeIndex < audit.size }
                let proofs = try await logs.inclusionProofs(.audit, indices: covered.map(\.intakeIndex), size: audit.size)
                return zip(covered, proofs).compactMap { record, proof in
                    guard let proof else { return nil }
                    let entry = LegalProcessLog.demandEntry(
                        ref: record.ref, period: record.period, classPath: record.classPath, reviewBy: record.reviewBy, subjects: record.subjects,
                        fields: record.commitment.fields.count, record: record.commitment.root,
                        intake: .init(index: record.intakeIndex, leafHash: proof.leafHash, size: audit.size, path: proof.path))
                    return (record.caseID, entry.bytes)
                }
            }
        }
        report.dispositions = try await publishPieces(.disposition, piece: piece) { records in
            var entries: [(caseID: UUID, bytes: Data)] = []
            for record in records {
                guard let demandIndex = record.demandIndex, let found = try await cases.findCase(id: record.caseID), found.state == .closed else { continue }
                let package = try await packages.record(caseID: record.caseID, purpose: .production)
                let produced = found.outcome?.disclosedData == true ? package?.manifestSHA256.flatMap(Hex.decode) : nil
                entries.append((record.caseID, LegalProcessLog.dispositionEntry(
                    demandIndex: demandIndex, outcome: LegalProcessLog.outcome(of: found), producedPackage: produced).bytes))
            }
            return entries
        }
        report.openings = try await publishPieces(.opening, piece: piece) { records in
            var entries: [(caseID: UUID, bytes: Data)] = []
            for record in records {
                guard let demandIndex = record.demandIndex, let reason = try await openingReason(record) else { continue }
                let fields = record.commitment.fields.indices.filter { LegalProcessLog.publicFields.contains(record.commitment.fields[$0].name) }
                entries.append((record.caseID, LegalProcessLog.openingEntry(
                    demandIndex: demandIndex, reason: reason, openings: fields.map { record.commitment.opening($0) }).bytes))
            }
            return entries
        }
        report.size = try await checkpoint(.legalProcess).size
        return report
    }

    /// Pages through the records pending at `stage` in intake order and publishes the entries
    /// `entries` makes of each page (records not ready yet are left out and stay pending) in a
    /// transaction of its own; returns how many were published.
    private func publishPieces(
        _ stage: LegalProcessStore.Stage, piece: Int,
        entries: ([LegalProcessStore.Record]) async throws -> [(caseID: UUID, bytes: Data)]
    ) async throws -> Int {
        var published = 0
        var after: UInt64?
        while true {
            let records = try await legalProcess.unpublished(stage, after: after, limit: piece)
            do {
                published += try await legalProcess.publish(stage, entries: try await entries(records)).count
            } catch LegalProcessStore.PublishError.alreadyPublished(let caseID) {
                // Another publisher (another instance, or `custos log publish`) got to this piece
                // first and is publishing the stage: nothing was written here, and it is theirs to finish.
                logger.notice("legal-process batch: another publisher is logging the \(stage.rawValue) stage (case \(caseID)); left to it")
                return published
            }
            guard records.count == piece, let last = records.last else { return published }
            after = last.intakeIndex
        }
    }

    /// Where the case and its notice stand, for `LegalProcessLog.openingReason`.
    func openingReason(_ record: LegalProcessStore.Record) async throws -> LegalProcessLog.OpeningReason? {
        guard let found = try await cases.findCase(id: record.caseID), let demand = try await cases.findDemand(id: found.demandID) else { return nil }
        let held = try await notices.notice(caseID: record.caseID)?.state == .held
        return LegalProcessLog.openingReason(demand, wasSealed: record.reviewBy != nil, noticeHeld: held, at: now())
    }

    // MARK: Canary

    /// Each stored checkpoint's root recomputes from the stored tree (so later ones extend it).
    /// It reads every checkpoint, so this runs with the batch, not per request.
    func checkpointsAreConsistent() async throws -> Bool {
        for log in TransparencyLog.allCases {
            guard try await logs.checkpointsMatchTree(log) else { return false }
        }
        return true
    }

    /// Generates, signs and stores the canary: a signed note naming the date, the latest published
    /// checkpoints (its freshness comes from them), and every statement still standing. A statement
    /// made or dropped is also appended to the legal-process log as a `statement` entry, so the
    /// change is witnessed and timestamped (tlog.md §5).
    @discardableResult
    public func publishCanary() async throws -> String {
        let time = now()
        let truths = Canary.statements(
            cases: try await cases.casesBearingOnCanary(), checkpointsConsistent: try await checkpointsAreConsistent(),
            includeNationalSecurity: configuration.canaryNationalSecurity)
        let (standing, changes) = try await canaries.update(truths: truths.map { ($0.id, $0.text, $0.holds) }, at: time)
        let day = Timestamp.formatDay(time)
        let statements = changes.made.map { LegalProcessLog.statementEntry(date: day, text: "Canary statement made: \($0.text)").bytes }
            + changes.dropped.map { LegalProcessLog.statementEntry(date: day, text: "Canary statement dropped: \($0.text)").bytes }
        if !statements.isEmpty {
            _ = try await logs.appendEntries(statements, to: .legalProcess)
            try await checkpoint(.legalProcess)
        }
        var text = "custos-canary/v1 \(transparencyKeys.canary.name)\ndate \(Timestamp.formatDay(time))\n"
        for log in TransparencyLog.allCases {
            if let checkpoint = try await logs.latestCheckpoint(log, publishedOnly: true) {
                text += "checkpoint \(origin(of: log)) \(checkpoint.size) \(checkpoint.root.base64EncodedString())\n"
            }
        }
        for statement in standing { text += "statement \(statement.id) \(statement.text)\n" }
        let note = try transparencyKeys.canary.sign(text).serialized
        try await canaries.save(note: note, at: time)
        return note
    }
}
