import Foundation

/// The export formats of `custos report build` (a contract; README "Transparency report").
public enum ReportFormat: String, CaseIterable, Sendable {
    /// Microsoft LERR columns, one section per file (report-formats.md §1.2).
    case lerrCSV = "lerr-csv"
    /// Google's `google-global-user-data-requests.csv` columns (report-formats.md §2).
    case googleCSV = "google-csv"
    /// DSA Art. 15(1)(a) orders from Member States in the harmonised template's Part 3 (§6).
    case dsaCSV = "dsa-csv"
    /// Every section, the enterprise summary and the counts outside the tables.
    case json
    /// The public page as one HTML file, charts included (rendered by the server's templates).
    case html

    public var mediaType: String {
        switch self {
        case .lerrCSV, .googleCSV, .dsaCSV: "text/csv; charset=utf-8"
        case .json: "application/json; charset=utf-8"
        case .html: "text/html; charset=utf-8"
        }
    }

    public var fileExtension: String {
        switch self {
        case .lerrCSV, .googleCSV, .dsaCSV: "csv"
        case .json: "json"
        case .html: "html"
        }
    }
}

public enum ReportExport {
    /// `html` is a page, not a data format: the server renders it with its templates.
    public struct NeedsPageRenderer: Error {}

    public static let lerrHeader = "Country/Region,Code,Requests,Accounts,Content %,Content,Non-content %,Non-content,No data %,No data,Rejected %,Rejected"
    public static let googleHeader = "Period Ending,Country/Region,CLDR Territory Code,Legal Process,User Data Requests,Percentage disclosed,Accounts"

    /// Renders the report. `section` picks the LERR sheet (criminal when nil) and filters the
    /// Google rows and the JSON sections.
    public static func render(
        _ format: ReportFormat, report: TransparencyReport, period: ReportPeriod, groups: [ReportGroup], section: ReportSection?
    ) throws -> String {
        switch format {
        case .lerrCSV: return lerrCSV(report.section(section ?? .criminal))
        case .googleCSV: return googleCSV(period: period, groups: groups, section: section)
        case .dsaCSV: return dsaCSV(report.dsa ?? DSAFigures(service: "", timings: []), period: period)
        case .json:
            var filtered = report
            if let section { filtered.sections = report.sections.filter { $0.section == section } }
            return try CustosJSON.string(filtered) + "\n"
        case .html:
            // Pages live in CustosWeb's templates; `CustosServices.buildReport` renders this one.
            throw NeedsPageRenderer()
        }
    }

    /// TOTAL row first (code `ALL`), then countries; each outcome as a % / count pair.
    public static func lerrCSV(_ table: SectionTable) -> String {
        var lines = [lerrHeader]
        for row in table.rows {
            let base = table.base(of: row)
            let cells = [
                csvField(row.country), row.code, "\(row.requests)", "\(row.accounts)",
                TransparencyReport.percent(row.content, of: base), "\(row.content)",
                TransparencyReport.percent(row.nonContent, of: base), "\(row.nonContent)",
                TransparencyReport.percent(row.noData, of: base), "\(row.noData)",
                TransparencyReport.percent(row.rejected, of: base), "\(row.rejected)",
            ]
            lines.append(cells.joined(separator: ","))
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    /// One row per country and legal process, sorted by country, then process. Consumer demands
    /// only (enterprise demands have their own summary); preservation rows are listed with a
    /// blank percentage and are never part of any total (report-formats.md §2).
    public static func googleCSV(period: ReportPeriod, groups: [ReportGroup], section: ReportSection?) -> String {
        var rows: [GoogleRowKey: (requests: Int, disclosed: Int, accounts: Int, preservation: Bool)] = [:]
        for group in groups where !group.isNationalSecurity && group.tenantKind == .consumer {
            if let section, group.section != section { continue }
            let key = GoogleRowKey(country: group.country, process: legalProcessName(group))
            var row = rows[key] ?? (0, 0, 0, group.isPreservation)
            row.requests += group.requests
            row.disclosed += group.outcome.disclosedData && !group.isPreservation ? group.requests : 0
            row.accounts += group.accounts
            rows[key] = row
        }
        var lines = [googleHeader]
        let names = Dictionary(uniqueKeysWithValues: Set(rows.keys.map(\.country)).map { ($0, TransparencyReport.countryName($0)) })
        for key in rows.keys.sorted(by: { (names[$0.country]!, $0.process) < (names[$1.country]!, $1.process) }) {
            let row = rows[key]!
            let percentage = row.preservation ? "" : "\(TransparencyReport.wholePercent(row.disclosed, of: row.requests))"
            lines.append([period.lastDay, csvField(names[key.country]!), key.country, key.process, "\(row.requests)", percentage, "\(row.accounts)"]
                .joined(separator: ","))
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    /// Google's `Legal Process` names (report-formats.md §2); processes Google has no name for are
    /// `Other Legal Requests`.
    public static func legalProcessName(_ group: ReportGroup) -> String {
        if group.isPreservation { return "Preservation Requests" }
        if group.section == .emergency { return "Emergency Disclosure Requests" }
        switch LegalInstrument(rawValue: group.instrument) {
        case .usSearchWarrant: return "Search Warrants"
        case .usSubpoena, .usCivilSubpoena: return "Subpoenas"
        case .usCourtOrder2703d: return "Other Court Orders"
        case .brCourtOrder, .inLawfulOrder: return "Court Orders"
        case .ukOverseasProductionOrder: return "CLOUD ACT - OPOs"
        default: return "Other Legal Requests"
        }
    }

    /// Part 3 `member_states_orders` (report-formats.md §6): RFC 4180, UTF-8, the template's
    /// header, TOTAL scope first. Orders to act against illegal content do not reach Custos, so
    /// their columns are blank ("does not apply"); orders to provide information that apply but
    /// number none are `0`. The TOTAL row carries the contextual notes on what is counted.
    public static func dsaCSV(_ figures: DSAFigures, period: ReportPeriod) -> String {
        var lines = [DSAOrders.header.map(csvField).joined(separator: ",")]
        for row in figures.rows {
            let isTotal = row.scope == "TOTAL" && row.category == "TOTAL"
            let cells = [
                "All", figures.service, period.dsaRange, row.category, "", row.scope, "", "", "", "", "\(row.ordersToProvideInformation)",
                row.medianReceiptHours ?? "", row.medianEffectHours ?? "",
                isTotal ? "Orders to act against illegal content (Art. 9) are handled outside this system and not counted in this file." : "", "", "", "",
                isTotal ? "Orders from Member State authorities for data about specific recipients, by the date received; preservation-only orders are not counted." : "",
                isTotal ? "Hours from delivery; receipt through the agency portal or API is confirmed automatically on delivery and counts as 0." : "",
                isTotal ? "Hours from delivery to the release of the data or the answer that none exists; refused, withdrawn and redirected orders are not counted." : "",
            ]
            lines.append(cells.map(csvField).joined(separator: ","))
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    /// RFC 4180: a field with a comma, quote or line break is quoted, quotes doubled.
    static func csvField(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

private struct GoogleRowKey: Hashable {
    let country: String
    let process: String
}
