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

    /// Publishes everything pending as one batch: demand commitments whose intake is covered by a
    /// published audit checkpoint, dispositions of closed cases, and openings of demands no bar
    /// keeps sealed any more; then checkpoints and witnesses the legal-process log.
    @discardableResult
    public func publishLegalProcessBatch() async throws -> BatchReport {
        var report = BatchReport()
        try await checkpoint(.audit)
        if let audit = try await logs.latestCheckpoint(.audit, publishedOnly: true) {
            var entries: [(caseID: UUID, bytes: Data)] = []
            for record in try await legalProcess.unpublished(.demand) where record.intakeIndex < audit.size {
                let leaf = NodeID(height: 0, index: record.intakeIndex)
                guard let leafHash = try await logs.nodes(.audit, [leaf])[leaf] else { continue }
                let path = try await logs.inclusionProof(.audit, index: record.intakeIndex, size: audit.size)
                let entry = LegalProcessLog.demandEntry(
                    ref: record.ref, period: record.period, classPath: record.classPath, reviewBy: record.reviewBy, subjects: record.subjects,
                    fields: record.commitment.fields.count, record: record.commitment.root,
                    intake: .init(index: record.intakeIndex, leafHash: leafHash, size: audit.size, path: path))
                entries.append((record.caseID, entry.bytes))
            }
            report.demands = try await legalProcess.publish(.demand, entries: entries).count
        }
        var dispositions: [(caseID: UUID, bytes: Data)] = []
        for record in try await legalProcess.unpublished(.disposition) {
            guard let demandIndex = record.demandIndex, let found = try await cases.findCase(id: record.caseID), found.state == .closed else { continue }
            let package = try await packages.record(caseID: record.caseID, purpose: .production)
            let produced = [.content, .nonContent].contains(found.outcome) ? package?.manifestSHA256.flatMap(Hex.decode) : nil
            dispositions.append((record.caseID, LegalProcessLog.dispositionEntry(
                demandIndex: demandIndex, outcome: LegalProcessLog.outcome(of: found), producedPackage: produced).bytes))
        }
        report.dispositions = try await legalProcess.publish(.disposition, entries: dispositions).count
        var openings: [(caseID: UUID, bytes: Data)] = []
        for record in try await legalProcess.unpublished(.opening) {
            guard let demandIndex = record.demandIndex, let reason = try await openingReason(record) else { continue }
            let fields = record.commitment.fields.indices.filter { LegalProcessLog.publicFields.contains(record.commitment.fields[$0].name) }
            openings.append((record.caseID, LegalProcessLog.openingEntry(
                demandIndex: demandIndex, reason: reason, openings: fields.map { record.commitment.opening($0) }).bytes))
        }
        report.openings = try await legalProcess.publish(.opening, entries: openings).count
        report.size = try await checkpoint(.legalProcess).size
        return report
    }

    /// Where the case and its notice stand, for `LegalProcessLog.openingReason`.
    func openingReason(_ record: LegalProcessStore.Record) async throws -> LegalProcessLog.OpeningReason? {
        guard let found = try await cases.findCase(id: record.caseID), let demand = try await cases.findDemand(id: found.demandID) else { return nil }
        let held = try await notices.notice(caseID: record.caseID)?.state == .held
        return LegalProcessLog.openingReason(demand, wasSealed: record.reviewBy != nil, noticeHeld: held, at: now())
    }

    // MARK: Canary

    /// Each stored checkpoint's root recomputes from the stored tree (so later ones extend it).
    /// One indexed query per checkpoint, so this runs with the batch, not per request.
    func checkpointsAreConsistent() async throws -> Bool {
        for log in TransparencyLog.allCases {
            for checkpoint in try await logs.checkpoints(log) {
                guard try await logs.root(log, size: checkpoint.size) == checkpoint.root else { return false }
            }
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
            cases: try await cases.listCases(CaseFilter(limit: Int.max)), checkpointsConsistent: try await checkpointsAreConsistent(),
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
