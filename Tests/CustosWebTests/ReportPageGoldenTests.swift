import CustosDomain
import CustosWeb
import Foundation
import Testing

/// Issue 7: the `html` export (the public page as one file) of the fixed half-year whose other
/// exports the domain tests keep in `CustosDomainTests/Fixtures/golden/`, byte for byte.
/// `CUSTOS_UPDATE_GOLDEN=1` rewrites the file for a deliberate change; review its diff.
@Suite struct ReportPageGoldenTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("CustosDomainTests/Fixtures/golden")

    @Test func thePageOfTheGoldenReportMatchesItsFile() async throws {
        let report = try CustosJSON.decode(TransparencyReport.self, from: String(contentsOf: Self.folder.appendingPathComponent("report.json"), encoding: .utf8))
        let period = try ReportPeriod(parsing: report.period)
        let periods = ["2026-H1", "2025-H2", "2025-H1"].map {
            TransparencyPageModel.PeriodLink(label: $0, href: "/transparency?period=\($0)", current: $0 == report.period)
        }
        let model = TransparencyPageModel(
            report: report, period: period, isOpen: false, periods: periods,
            trend: [("2025-H1", 140), ("2025-H2", 0), ("2026-H1", report.requests)])
        let html = try await PageRenderer().render(Page(template: "transparency", title: "Transparency report 2026-H1", viewer: nil, csrfToken: "", model: model))
        let url = Self.folder.appendingPathComponent("report.html")
        if ProcessInfo.processInfo.environment["CUSTOS_UPDATE_GOLDEN"] == "1" { try Data(html.utf8).write(to: url) }
        #expect(html == (try String(contentsOf: url, encoding: .utf8)), "report.html differs from its golden file")
        // What the file must hold, whatever it looks like: three charts, the bands, the DSA scopes.
        #expect(html.components(separatedBy: "<svg").count == 4 && html.contains("<td>500 - 999</td>") && html.contains(#"<th scope="row">EL</th>"#))
    }
}
