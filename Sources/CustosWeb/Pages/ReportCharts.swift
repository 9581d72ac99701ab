import CustosDomain
import Foundation

/// Server-rendered SVG charts for the public report: no script, readable without CSS, each with a
/// title and description for screen readers, and the same figures in the tables beside them.
/// Written by hand: no available package draws SVG charts.
public enum ReportCharts {
    static let palette = ["#1d4f91", "#4f86c6", "#9ab8de", "#a3261b"]

    /// Horizontal bars: requests per country (the largest `limit`), from the consumer sections.
    public static func requestsByCountry(_ report: TransparencyReport, limit: Int = 10) -> String {
        var totals: [String: (name: String, requests: Int)] = [:]
        for table in report.sections {
            for row in table.rows.dropFirst() {
                totals[row.code, default: (row.country, 0)].requests += row.requests
            }
        }
        let bars = totals.values.sorted { ($1.requests, $0.name) < ($0.requests, $1.name) }.prefix(limit)
        let width = 640, rowHeight = 26, left = 170, height = max(1, bars.count) * rowHeight + 20
        let maxValue = max(1, bars.map(\.requests).max() ?? 1)
        var svg = open(width: width, height: height, title: "Requests by country or region", description: "The \(bars.count) countries with the most requests in \(report.period).")
        if bars.isEmpty { svg += text(x: 10, y: 24, "No requests in this period.") }
        for (index, bar) in bars.enumerated() {
            let y = 10 + index * rowHeight
            let length = max(2, (width - left - 60) * bar.requests / maxValue)
            svg += text(x: left - 8, y: y + 17, bar.name, anchor: "end")
            svg += "<rect x=\"\(left)\" y=\"\(y + 4)\" width=\"\(length)\" height=\"\(rowHeight - 8)\" fill=\"\(palette[0])\"><title>\(escape(bar.name)): \(bar.requests)</title></rect>"
            svg += text(x: left + length + 6, y: y + 17, "\(bar.requests)")
        }
        return svg + "</svg>"
    }

    /// One stacked bar per section: how its requests ended (content, non-content, no data, rejected).
    public static func outcomes(_ report: TransparencyReport) -> String {
        let labels = ["Content", "Non-content", "No data", "Rejected"]
        let width = 640, rowHeight = 34, left = 110, barWidth = width - left - 20
        let height = report.sections.count * rowHeight + 50
        var svg = open(width: width, height: height, title: "Outcomes by section", description: "How the requests of each section ended in \(report.period), as shares of the section's total.")
        for (index, table) in report.sections.enumerated() {
            let total = table.rows[0]
            let parts = [total.content, total.nonContent, total.noData, total.rejected]
            let whole = parts.reduce(0, +)
            let y = 10 + index * rowHeight
            svg += text(x: left - 8, y: y + 19, table.section.rawValue.capitalized, anchor: "end")
            guard whole > 0 else {
                svg += "<rect x=\"\(left)\" y=\"\(y + 4)\" width=\"\(barWidth)\" height=\"\(rowHeight - 10)\" fill=\"#eef1f5\"/>"
                svg += text(x: left + 8, y: y + 19, "none")
                continue
            }
            var x = left
            for (part, value) in parts.enumerated() where value > 0 {
                let length = part == parts.lastIndex(where: { $0 > 0 }) ? left + barWidth - x : barWidth * value / whole
                svg += "<rect x=\"\(x)\" y=\"\(y + 4)\" width=\"\(length)\" height=\"\(rowHeight - 10)\" fill=\"\(palette[part])\"><title>\(labels[part]): \(value) (\(TransparencyReport.percent(value, of: whole)) %)</title></rect>"
                x += length
            }
        }
        let legendY = report.sections.count * rowHeight + 28
        for (part, label) in labels.enumerated() {
            let x = left + part * 130
            svg += "<rect x=\"\(x)\" y=\"\(legendY - 11)\" width=\"12\" height=\"12\" fill=\"\(palette[part])\"/>"
            svg += text(x: x + 18, y: legendY, label)
        }
        return svg + "</svg>"
    }

    /// Vertical bars: requests per period, oldest first.
    public static func trend(_ points: [(label: String, requests: Int)]) -> String {
        let width = 640, height = 220, bottom = 180, left = 40
        let slot = (width - left - 10) / max(1, points.count)
        let maxValue = max(1, points.map(\.requests).max() ?? 1)
        var svg = open(width: width, height: height, title: "Requests over time", description: "Requests received in each of the last \(points.count) periods.")
        svg += "<line x1=\"\(left)\" y1=\"\(bottom)\" x2=\"\(width - 10)\" y2=\"\(bottom)\" stroke=\"#5b6675\"/>"
        for (index, point) in points.enumerated() {
            let barHeight = max(point.requests > 0 ? 2 : 0, (bottom - 30) * point.requests / maxValue)
            let x = left + index * slot + slot / 6
            svg += "<rect x=\"\(x)\" y=\"\(bottom - barHeight)\" width=\"\(slot * 2 / 3)\" height=\"\(barHeight)\" fill=\"\(palette[1])\"><title>\(escape(point.label)): \(point.requests)</title></rect>"
            svg += text(x: x + slot / 3, y: bottom - barHeight - 6, "\(point.requests)", anchor: "middle")
            svg += text(x: x + slot / 3, y: bottom + 18, point.label, anchor: "middle")
        }
        return svg + "</svg>"
    }

    static func open(width: Int, height: Int, title: String, description: String) -> String {
        let id = title.lowercased().filter { $0.isLetter }
        return "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" role=\"img\" viewBox=\"0 0 \(width) \(height)\" width=\"\(width)\" height=\"\(height)\" aria-labelledby=\"\(id)-title \(id)-desc\">"
            + "<title id=\"\(id)-title\">\(escape(title))</title><desc id=\"\(id)-desc\">\(escape(description))</desc>"
    }

    static func text(x: Int, y: Int, _ content: String, anchor: String = "start") -> String {
        "<text x=\"\(x)\" y=\"\(y)\" text-anchor=\"\(anchor)\" font-size=\"13\" fill=\"#1c2430\">\(escape(content))</text>"
    }

    /// XML escaping for text inside the SVG (country names come from data).
    static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }
}

/// The public `/transparency` page.
public struct TransparencyPageModel: Sendable {
    public struct PeriodLink: Sendable {
        public var label: String
        public var href: String
        public var current: Bool

        public init(label: String, href: String, current: Bool) {
            self.label = label
            self.href = href
            self.current = current
        }
    }

    public struct Row: Sendable {
        /// The country (or TOTAL), a row header for screen readers.
        public var header: String
        public var cells: [String]
    }

    public struct Table: Sendable {
        public var id: String
        public var caption: String
        public var note: String?
        public var rows: [Row]
        public var isEmpty: Bool
    }

    public struct Download: Sendable {
        public var label: String
        public var href: String
    }

    public var period: String
    public var periodNote: String
    public var periods: [PeriodLink]
    public var countryChart: String
    public var outcomeChart: String
    public var trendChart: String
    public var tables: [Table]
    public var enterprise: [String]
    public var counted: [String]
    public var other: [String]
    /// § 1874 bands (`Row.header` the category, cells: band, period covered).
    public var nationalSecurity: [Row]
    public var nationalSecurityNote: String
    /// Copyright notices (17 U.S.C. § 512), each step counted when it happened; empty when not reported.
    public var copyright: [Row]
    public var hasCopyright: Bool
    /// DSA orders to provide information per Member State (cells: orders, median hours to receipt, to effect).
    public var dsa: [Row]
    public var downloads: [Download]

    public init(report: TransparencyReport, period: ReportPeriod, isOpen: Bool, periods: [PeriodLink], trend: [(label: String, requests: Int)]) {
        self.period = period.description
        periodNote = isOpen
            ? "This period has not ended: the figures grow as cases close."
            : "From \(Timestamp.formatDay(period.start)) to \(period.lastDay)."
        self.periods = periods
        countryChart = ReportCharts.requestsByCountry(report)
        outcomeChart = ReportCharts.outcomes(report)
        trendChart = ReportCharts.trend(trend)
        tables = report.sections.map { table in
            Table(
                id: "section-\(table.section.rawValue)",
                caption: "\(table.section.rawValue.capitalized) requests, \(period.description)",
                note: table.outcomesCountAccounts ? "On this section the outcomes count accounts, not requests." : nil,
                rows: table.rows.map { row in
                    let base = table.base(of: row)
                    return Row(header: row.country, cells: [
                        row.code, "\(row.requests)", "\(row.accounts)",
                        "\(row.content) (\(TransparencyReport.percent(row.content, of: base)) %)",
                        "\(row.nonContent) (\(TransparencyReport.percent(row.nonContent, of: base)) %)",
                        "\(row.noData) (\(TransparencyReport.percent(row.noData, of: base)) %)",
                        "\(row.rejected) (\(TransparencyReport.percent(row.rejected, of: base)) %)",
                    ])
                }, isEmpty: table.rows[0].requests == 0)
        }
        let e = report.enterprise
        enterprise = [
            "Requests for enterprise customers' data: \(e.requests) (\(e.accounts) accounts).",
            "Rejected, withdrawn, or the requester was redirected to the customer: \(e.rejectedWithdrawnOrRedirected).",
            "Compelled to disclose some data: \(e.compelled): content in \(e.content), non-content only in \(e.nonContentOnly).",
        ] + (e.noData > 0 ? ["Valid, but no data found: \(e.noData)."] : [])
        counted = [
            "Preservation requests (data kept, nothing disclosed; never in the totals): \(report.preservationRequests).",
            "Consumer requests withdrawn or redirected before any decision: \(report.consumerUndecided).",
        ]
        let o = report.other
        other = [
            "Emergency requests: \(o.emergencyRequests); of those handled here, \(o.emergencyFailedVerification) failed a verification check.",
            "Requests handled here: \(o.casesWithDetails) (imported history does not record the figures below).",
            "Non-disclosure orders received: \(o.nonDisclosureOrders), of which indefinite: \(o.indefiniteNonDisclosureOrders).",
            "Customer notices sent: \(o.noticesSent); sent after a delay: \(o.noticesSentAfterDelay); still delayed when the case closed: \(o.noticesDelayed); not possible: \(o.noticesNotSent).",
            "Challenges filed: \(o.challengesFiled); demand set aside: \(o.challengesDemandSetAside); demand upheld: \(o.challengesDemandUpheld); pending: \(o.challengesPending).",
            "U.S. warrants for data stored outside the United States (CLOUD Act): \(o.cloudActWarrants), of which content was disclosed: \(o.cloudActWarrantsDisclosingContent).",
            "Requests with red flags about the requester: \(o.requestsWithRedFlags)"
                + (o.redFlags.isEmpty ? "." : " (" + o.redFlags.sorted { $0.key < $1.key }.map { "\(RedFlag.Code(rawValue: $0.key)?.label ?? $0.key): \($0.value)" }.joined(separator: "; ") + ")."),
        ]
        copyright = (report.copyright?.rows ?? []).map { Row(header: $0.0, cells: [String($0.1)]) }
        hasCopyright = report.copyright != nil
        let bands = report.nationalSecurity
        nationalSecurity = (bands?.bands ?? []).map { Row(header: $0.label, cells: [$0.text, $0.covers]) }
        nationalSecurityNote = bands.map {
            "Reported as \($0.citation) allows: only in bands, never an exact number; each band says which period it covers."
        } ?? "Not reported."
        dsa = (report.dsa?.rows ?? []).filter { $0.category == "TOTAL" }.map { row in
            Row(header: row.scope == "TOTAL" ? "All Member States" : row.scope, cells: [
                "\(row.ordersToProvideInformation)", row.medianReceiptHours.map { "\($0) h" } ?? "–", row.medianEffectHours.map { "\($0) h" } ?? "–",
            ])
        }
        if let share = report.affected {
            other.append(
                "Customers named by the demands handled here: \(share.tenantsAffected)"
                    + (share.tenantShare.map { " (\($0) % of \(share.totalTenants!) customers)" } ?? "")
                    + "; accounts specified: \(share.accountsSpecified)"
                    + (share.accountShare.map { " (\($0) % of \(share.totalAccounts!) accounts)" } ?? "") + ".")
        }
        let query = "period=\(period.description.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(["-", "."])) ?? period.description)"
        downloads = [
            Download(label: "Criminal, Microsoft LERR columns (CSV)", href: "/transparency/download?\(query)&format=lerr-csv&section=criminal"),
            Download(label: "Emergency, Microsoft LERR columns (CSV)", href: "/transparency/download?\(query)&format=lerr-csv&section=emergency"),
            Download(label: "Civil, Microsoft LERR columns (CSV)", href: "/transparency/download?\(query)&format=lerr-csv&section=civil"),
            Download(label: "By legal process, Google columns (CSV)", href: "/transparency/download?\(query)&format=google-csv"),
            Download(label: "Orders from EU Member States, DSA template Part 3 (CSV)", href: "/transparency/download?\(query)&format=dsa-csv"),
            Download(label: "Everything (JSON)", href: "/transparency/download?\(query)&format=json"),
            Download(label: "This page as one file (HTML)", href: "/transparency/download?\(query)&format=html"),
        ]
    }
}
