import Crypto
import CustosDomain
import CustosStorage
import CustosWeb
import Foundation

extension CustosServices {
    /// The report for a period in one export format (`custos report build`).
    public func buildReport(period: ReportPeriod, format: ReportFormat, section: ReportSection?) async throws -> String {
        let groups = try await reports.groups(in: period)
        let report = TransparencyReport(period: period, groups: groups)
        return try ReportExport.render(format, report: report, period: period, groups: groups, section: section)
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
        let groups = try await reports.groups(in: period)
        let report = TransparencyReport(period: period, groups: groups)
        let recent = ReportPeriod.halfYear(containing: now()).halfYears(endingHere: 6)
        var trend: [(label: String, requests: Int)] = []
        for half in recent {
            let summary = half == period ? report : TransparencyReport(period: half, groups: try await reports.groups(in: half))
            trend.append((half.description, summary.sections.map { $0.rows[0].requests }.reduce(0, +) + summary.enterprise.requests))
        }
        let links = recent.reversed().map {
            TransparencyPageModel.PeriodLink(label: $0.description, href: "/transparency?period=\($0.description)", current: $0 == period)
        }
        return TransparencyPageModel(report: report, period: period, isOpen: period.end > now(), periods: links, trend: trend)
    }
}
