import Crypto
import CustosDomain
import CustosStorage
import CustosWeb
import MerkleLog
import Foundation

extension CustosServices {
    /// The report for a period in one export format (`custos report build`).
    public func buildReport(period: ReportPeriod, format: ReportFormat, section: ReportSection?) async throws -> String {
        if format == .html {
            let page = Page(
                template: "transparency", title: "Transparency report \(period.description)", viewer: nil, csrfToken: "",
                model: try await reportPage(period: period))
            return try renderer.render(page)
        }
        let (report, groups) = try await computeReport(period)
        return try ReportExport.render(format, report: report, period: period, groups: groups, section: section)
    }

    /// The period's report from the stored facts, with the share of customers affected when the
    /// provider's totals are configured. Every view of a report (exports, page, close, verify) uses it.
    func computeReport(_ period: ReportPeriod) async throws -> (TransparencyReport, [ReportGroup]) {
        let counts = try await reports.counts(in: period)
        var report = TransparencyReport(period: period, groups: counts.groups)
        if configuration.reportTotalTenants != nil || configuration.reportTotalAccounts != nil {
            report.affected = AffectedShare(
                accountsSpecified: counts.accountsSpecified, tenantsAffected: counts.tenantsAffected, totalAccounts: configuration.reportTotalAccounts,
                totalTenants: configuration.reportTotalTenants)
        }
        report.dsa = DSAFigures(service: configuration.reportService, timings: counts.dsaTimings)
        report.nationalSecurity = try await nationalSecurityFigures(period)
        if rulebook.dmca != nil { report.copyright = try await copyright.figures(in: period) }
        return (report, counts.groups)
    }

    /// The § 1874 bands for a report on `period`: NSLs and FISA orders each from the period the
    /// configured structure allows (`NationalSecurityStructure.coveredPeriods`).
    func nationalSecurityFigures(_ period: ReportPeriod) async throws -> NationalSecurityFigures {
        let structure = configuration.reportNationalSecurityStructure
        let covered = structure.coveredPeriods(for: period)
        let orders = try await reports.nationalSecurityCounts(in: covered.fisa)
        let letters = covered.nsl == covered.fisa ? orders : try await reports.nationalSecurityCounts(in: covered.nsl)
        return NationalSecurityFigures(structure: structure, letters: letters, orders: orders, nsl: covered.nsl, fisa: covered.fisa)
    }

    /// The report entry's `ns-band` lines and `ns-commitment` (tlog.md §6.7): a commitment to the
    /// exact list the bands count, padded to the bands' upper bounds, under the period's key.
    func nationalSecurityEntry(_ period: ReportPeriod, figures: NationalSecurityFigures) async throws -> (bands: [String], commitment: Data) {
        let covered = configuration.reportNationalSecurityStructure.coveredPeriods(for: period)
        // Letters from the NSL period and FISA orders from the FISA period; combined options count both in one.
        let ids = covered.nsl == covered.fisa
            ? try await reports.nationalSecurityIDs(in: covered.fisa)
            : try await reports.nationalSecurityIDs(in: covered.nsl, letters: true) + reports.nationalSecurityIDs(in: covered.fisa, letters: false)
        let commitment = figures.commitment(ids: ids, key: transparencyKeys.nationalSecurityKey(for: period))
        return (figures.entryLines, commitment.root)
    }

    public enum ImportOutcome: Sendable {
        case imported(ReportFactStore.ImportResult)
        /// Every bad line, in order; nothing was stored.
        case rejected([HistoricalImport.LineError])
    }

    /// `custos import cases`: every line is checked first; one bad line and nothing is stored.
    public func importCases(jsonLines: Data, by actor: String) async throws -> ImportOutcome {
        guard let text = String(data: jsonLines, encoding: .utf8) else {
            return .rejected([HistoricalImport.LineError(line: 1, message: "the file is not UTF-8 text")])
        }
        switch HistoricalImport.parse(text) {
        case .failure(let failure):
            return .rejected(failure.errors)
        case .success(let facts):
            let digest = Hex.encode(SHA256.hash(data: jsonLines))
            return .imported(try await reports.importFacts(facts, fileSHA256: digest, by: actor, at: now()))
        }
    }
}

extension CustosServices {
    /// The public page's model: the report, the last six half-years as links and as a trend.
    public func reportPage(period: ReportPeriod) async throws -> TransparencyPageModel {
        let (report, _) = try await computeReport(period)
        let recent = ReportPeriod.halfYear(containing: now()).halfYears(endingHere: 6)
        var trend: [(label: String, requests: Int)] = []
        for half in recent {
            let summary = half == period ? report : TransparencyReport(period: half, groups: try await reports.counts(in: half).groups)
            trend.append((half.description, summary.requests))
        }
        let links = recent.reversed().map {
            TransparencyPageModel.PeriodLink(label: $0.description, href: "/transparency?period=\($0.description)", current: $0 == period)
        }
        return TransparencyPageModel(report: report, period: period, isOpen: period.end > now(), periods: links, trend: trend)
    }
}

extension CustosServices {
    public struct ReportPeriodError: Error, CustomStringConvertible {
        public let description: String
    }

    /// Closes a period that has ended: freezes its report, signs the hash with the report key
    /// and records who closed it (C1: a published report that cannot quietly change).
    public func closeReportPeriod(_ period: ReportPeriod, by actor: String) async throws -> ReportFactStore.ClosedPeriod {
        let time = now()
        guard period.end <= time else {
            throw ReportPeriodError(description: "period \(period) has not ended yet (it runs to \(period.lastDay)); only a finished period is closed")
        }
        let (report, _) = try await computeReport(period)
        let json = try ReportSeal.canonicalJSON(report)
        let digest = Hex.encode(SHA256.hash(data: json))
        let text = ReportSeal.noteText(keyName: transparencyKeys.report.name, period: period, facts: report.factCount, sha256: digest, closedAt: time)
        let closed = ReportFactStore.ClosedPeriod(
            period: period.description, reportJSON: String(decoding: json, as: UTF8.self), sha256: digest,
            note: try transparencyKeys.report.sign(text).serialized, closedAt: Timestamp.format(time), closedBy: actor)
        // Demands still waiting for their batch go into the log first, so the report entry's
        // range covers every demand received in the period (a later one would look back-dated).
        try await publishLegalProcessBatch()
        var nationalSecurity: (bands: [String], commitment: Data)?
        if let figures = report.nationalSecurity { nationalSecurity = try await nationalSecurityEntry(period, figures: figures) }
        try await reports.close(closed, period: period, nationalSecurity: nationalSecurity, at: time)
        return closed
    }

    /// Checks a closed period: the note's signature, that it commits to the stored JSON, and that
    /// the stored facts still give exactly that report. Returns every problem (none: it holds).
    public func verifyReportPeriod(_ period: ReportPeriod) async throws -> [String] {
        guard let closed = try await reports.closedPeriod(period.description) else {
            throw ReportPeriodError(description: "period \(period) has not been closed (custos report close --period \(period))")
        }
        var problems: [String] = []
        let json = Data(closed.reportJSON.utf8)
        let digest = Hex.encode(SHA256.hash(data: json))
        if digest != closed.sha256 { problems.append("the stored report does not hash to the recorded SHA-256") }
        do {
            let note = try SignedNote(parsing: closed.note)
            _ = try note.verify(with: [transparencyKeys.report.verifier])
            if let committed = ReportSeal.parse(noteText: note.text) {
                if committed.period != period.description { problems.append("the signed note is for period \(committed.period)") }
                if committed.sha256 != digest { problems.append("the signed note commits to another report (sha256 \(committed.sha256))") }
            } else {
                problems.append("the signed note is not a report note")
            }
        } catch {
            problems.append("the report's signed note does not verify: \(error)")
        }
        // The `report` entry in the public log must be exactly the counts of the entries it covers.
        if let placement = try await reports.reportLogPlacement(period.description) {
            let stored = try await logs.entries(.legalProcess, from: placement.logIndex, count: 1).first
            let covered = try await logs.entries(.legalProcess, from: placement.start, count: Int(placement.end - placement.start))
            if let parsed = try? covered.map({ try LegalProcessLog.parse($0) }), covered.count == Int(placement.end - placement.start) {
                let frozen = try? CustosJSON.decode(TransparencyReport.self, from: closed.reportJSON)
                var nationalSecurity: (bands: [String], commitment: Data)?
                if let figures = frozen?.nationalSecurity { nationalSecurity = try await nationalSecurityEntry(period, figures: figures) }
                let expected = LegalProcessLog.reportEntry(
                    period: period, start: placement.start, end: placement.end, previous: placement.previous, entries: parsed,
                    nationalSecurity: nationalSecurity)
                if stored != expected.bytes {
                    problems.append("the report entry at legal-process log index \(placement.logIndex) does not match the entries it counts")
                }
            } else {
                problems.append("the legal-process log entries \(placement.start)..<\(placement.end) that the report counts are not all readable")
            }
        }
        let (recomputed, _) = try await computeReport(period)
        if try !ReportSeal.holds(frozen: json, recomputed: recomputed) {
            guard let frozen = try? CustosJSON.decode(TransparencyReport.self, from: closed.reportJSON) else {
                return problems + ["the stored report is not readable"]
            }
            problems += ReportSeal.differences(frozen: frozen, recomputed: recomputed).map { "the stored facts now give another report: \($0)" }
        }
        return problems
    }
}
