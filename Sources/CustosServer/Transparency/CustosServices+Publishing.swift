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
            let produced = found.state == .closed && [.content, .nonContent].contains(found.outcome) ? package?.manifestSHA256.flatMap(Hex.decode) : nil
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

    /// Whether a disposed demand may now be opened, and why: never sealed, or its bar has lapsed
    /// (expired) or was lifted by staff before its date. Held notices keep it sealed.
    func openingReason(_ record: LegalProcessStore.Record) async throws -> LegalProcessLog.OpeningReason? {
        guard let found = try await cases.findCase(id: record.caseID), let demand = try await cases.findDemand(id: found.demandID) else { return nil }
        if let notice = try await notices.notice(caseID: record.caseID), notice.state == .held { return nil }
        guard let order = demand.nonDisclosureOrder, record.reviewBy != nil else { return .neverSealed }
        return order.isInForce(at: now()) ? .nondisclosureLifted : .nondisclosureExpired
    }

    // MARK: Canary

    /// The statements the canary may make, each computed from stored state.
    func canaryTruths() async throws -> [(id: String, text: String, holds: Bool)] {
        let all = try await cases.listCases(CaseFilter(limit: Int.max))
        let released = all.filter { [.released, .closed].contains($0.state) && [.content, .nonContent].contains($0.outcome) || $0.state == .released }
        var truths: [(String, String, Bool)] = [
            ("no-keys-disclosed", "No encryption key has been disclosed to any requester.",
             !released.contains { $0.approvedScope?.contains(.encryptionKeys) == true }),
            ("two-person-release", "Every production released was approved by two different people.",
             released.allSatisfy { Set($0.releaseApprovals.map(\.principalID)).count >= 2 }),
            ("logs-consistent", "Every checkpoint of the audit and legal-process logs is consistent with all earlier ones.",
             try await checkpointsAreConsistent()),
        ]
        if configuration.canaryNationalSecurity {
            truths.append(("no-national-security-process", "No national security letter or FISA order has been received.",
                !all.contains { $0.instrument.isNationalSecurity }))
        }
        return truths
    }

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
        let (standing, changes) = try await canaries.update(truths: try await canaryTruths(), at: time)
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
