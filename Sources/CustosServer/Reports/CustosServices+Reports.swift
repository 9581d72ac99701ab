import Crypto
import CustosDomain
import CustosStorage
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
