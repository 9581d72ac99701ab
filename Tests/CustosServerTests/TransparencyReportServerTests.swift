import Configuration
import CustosDomain
@testable import CustosServer
import CustosStorage
import FluentSQL
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import MerkleLog
import Testing

/// Issue 7: closing a period freezes and signs its report; `verifyReportPeriod` (what
/// `custos report verify` runs) catches a changed report, a changed note and late facts; the
/// public page and its downloads serve the figures.
@Suite(.serialized) struct TransparencyReportServerTests {
    static func history(_ count: Int, country: String = "DE", outcome: String = "non_content", day: String = "2019-02-03", prefix: String = "h") -> String {
        (0..<count).map {
            #"{"id":"\#(prefix)-\#($0)","receivedAt":"\#(day)","country":"\#(country)","section":"criminal","instrument":"de.stpo_100g","accounts":2,"tenantKind":"consumer","outcome":"\#(outcome)"}"#
        }.joined(separator: "\n")
    }

    static func importHistory(_ services: CustosServices, _ text: String) async throws {
        guard case .imported = try await services.importCases(jsonLines: Data(text.utf8), by: "test") else {
            Issue.record("the history was refused")
            return
        }
    }

    @Test(arguments: TransparencyLogTests.stores)
    func aClosedPeriodVerifiesAndEveryChangeIsNamed(store: TransparencyLogTests.Store) async throws {
        try await ServerTests.withApp(reader: try await TransparencyLogTests.reader(store)) { _, _, services in
            try await Self.importHistory(services, Self.history(3) + "\n" + Self.history(2, country: "US", outcome: "rejected", prefix: "u"))
            let period = try ReportPeriod(parsing: "2019-H1")
            let closed = try await services.closeReportPeriod(period, by: "test")
            // The note is a C2SP signed note by the report key, committing to the stored JSON's hash.
            let note = try SignedNote(parsing: closed.note)
            #expect(throws: Never.self) { _ = try note.verify(with: [services.transparencyKeys.report.verifier]) }
            #expect(ReportSeal.parse(noteText: note.text)?.sha256 == closed.sha256)
            #expect(try await services.verifyReportPeriod(period) == [])
            await #expect(throws: ReportFactStore.AlreadyClosed.self) { _ = try await services.closeReportPeriod(period, by: "test") }
            await #expect(throws: CustosServices.ReportPeriodError.self) {
                _ = try await services.closeReportPeriod(ReportPeriod.halfYear(containing: services.now()), by: "test")
            }

            let sql = TransparencyLogTests.sql(services)
            // A changed frozen report no longer matches its hash, its note, or the facts.
            try await sql.raw("UPDATE report_periods SET report_json = REPLACE(report_json, '\"requests\":3', '\"requests\":4')").run()
            let edited = try await services.verifyReportPeriod(period)
            #expect(edited.contains("the stored report does not hash to the recorded SHA-256"))
            #expect(edited.contains { $0.contains("criminal DE: frozen 4 requests") })
            try await sql.raw("UPDATE report_periods SET report_json = \(bind: closed.reportJSON)").run()
            // A note re-written to another hash no longer carries a valid signature.
            let forged = closed.note.replacingOccurrences(of: closed.sha256, with: String(repeating: "0", count: 64))
            try await sql.raw("UPDATE report_periods SET note = \(bind: forged)").run()
            #expect(try await services.verifyReportPeriod(period).contains { $0.contains("does not verify") })
            try await sql.raw("UPDATE report_periods SET note = \(bind: closed.note)").run()
            #expect(try await services.verifyReportPeriod(period) == [])
            // A fact added to the closed period afterwards changes the recomputed report.
            try await Self.importHistory(services, Self.history(1, country: "FR", outcome: "content", prefix: "late"))
            let late = try await services.verifyReportPeriod(period)
            #expect(late.contains { $0.contains("criminal FR: frozen absent; now 1 requests") })
            #expect(late.contains { $0.contains("criminal ALL: frozen 5 requests") })
            let audit = try await services.cases.auditTrail().filter { $0.record.action == "report.closed" }
            #expect(audit.count == 1 && audit.first?.record.details["sha256"] == closed.sha256)
        }
    }

    @Test func thePublicPageAndItsDownloadsServeTheFigures() async throws {
        let totals: [AbsoluteConfigKey: ConfigValue] = ["custos.report.total.tenants": 40_000, "custos.report.total.accounts": 250_000]
        try await ServerTests.withApp(reader: try await TransparencyLogTests.reader(.sqlite, extra: totals)) { client, _, services in
            try await Self.importHistory(services, Self.history(4) + "\n" + Self.history(1, country: "US", outcome: "content", prefix: "u"))
            try await client.execute(uri: "/transparency?period=2019-H1", method: .get) { response in
                #expect(response.status == .ok)
                let html = String(buffer: response.body)
                #expect(html.components(separatedBy: "<svg").count == 4, "three charts")
                #expect(html.contains(#"<th scope="row">TOTAL</th>"#) && html.contains("Germany"))
                #expect(html.contains("/transparency/download?period=2019-H1&amp;format=google-csv"))
            }
            try await client.execute(uri: "/transparency/download?period=2019-H1&format=lerr-csv&section=criminal", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType]?.hasPrefix("text/csv") == true)
                #expect(response.headers[.contentDisposition] == #"attachment; filename="custos-report-2019-H1-criminal.csv""#)
                let lines = String(buffer: response.body).components(separatedBy: "\r\n")
                #expect(lines[1] == "TOTAL,ALL,5,10,20.00,1,80.00,4,0.00,0,0.00,0")
            }
            // The DSA export: German orders are Member State orders; the US one is not.
            try await client.execute(uri: "/transparency/download?period=2019-H1&format=dsa-csv", method: .get) { response in
                #expect(response.status == .ok && response.headers[.contentType]?.hasPrefix("text/csv") == true)
                let lines = String(buffer: response.body).components(separatedBy: "\r\n")
                #expect(lines[0].hasPrefix("Applicability,Service,Reporting period,"))
                #expect(lines[1].hasPrefix("All,Cloud services,2019-01-01/2019-06-30,TOTAL,,TOTAL,,,,,4,,,"))
                #expect(lines.contains { $0.hasPrefix("All,Cloud services,2019-01-01/2019-06-30,TOTAL,,DE,,,,,4,") })
            }
            // The share of customers affected, against the configured totals (10 accounts of 250,000).
            try await client.execute(uri: "/transparency/download?period=2019-H1&format=json", method: .get) { response in
                let report = try CustosJSON.decode(TransparencyReport.self, from: String(buffer: response.body))
                #expect(report.affected == AffectedShare(accountsSpecified: 10, tenantsAffected: 0, totalAccounts: 250_000, totalTenants: 40_000))
                #expect(report.affected?.accountShare == "0.0040" && report.affected?.tenantShare == "0.0000")
            }
            for bad in ["/transparency/download?period=2019-H1&format=xlsx", "/transparency/download?period=2019-H3&format=json",
                "/transparency/download?period=2019-H1&format=json&section=space", "/transparency?period=yesterday"]
            {
                try await client.execute(uri: bad, method: .get) { response in
                    #expect(response.status == .badRequest, "\(bad)")
                    #expect(String(buffer: response.body).contains("\"status\":400"), "\(bad)")
                }
            }
        }
    }
}

extension TransparencyReportServerTests {
    /// tlog.md §6.5: closing a period appends a `report` entry counting the public log's entries
    /// since the previous report; the log still verifies, and an edited entry is named.
    @Test(arguments: TransparencyLogTests.stores)
    func closingAppendsAReportEntryThatCountsTheLog(store: TransparencyLogTests.Store) async throws {
        try await ServerTests.withApp(reader: try await TransparencyLogTests.reader(store)) { client, tokens, services in
            try await TransparencyLogTests.populate(client, tokens, services)
            let before = try await services.logs.head(.legalProcess).size
            _ = try await services.closeReportPeriod(try ReportPeriod(parsing: "2019-H1"), by: "test")
            let placement = try #require(try await services.reports.reportLogPlacement("2019-H1"))
            #expect(placement.start == 0 && placement.end == before && placement.logIndex == before && placement.previous == nil)
            let entry = try LegalProcessLog.parse(try #require(try await services.logs.entries(.legalProcess, from: placement.logIndex, count: 1).first))
            #expect(entry.header == "lplog/v1 report")
            #expect(entry.value("period") == "2019-01-01 2019-06-30" && entry.value("range") == "0 \(before)" && entry.value("previous") == "none")
            // Two search warrants were logged (the national-security letter never is), both under a gag order.
            #expect(entry.values("count") == ["us/criminal/search-warrant 2"])
            #expect(entry.values("subjects") == ["us/criminal/search-warrant 2"])
            #expect(entry.value("sealed") == "2")
            #expect(try await services.verifyReportPeriod(try ReportPeriod(parsing: "2019-H1")) == [])
            #expect(try await services.verifyLog(.legalProcess).holds)

            // The next report starts where this one ended and names it as previous.
            _ = try await services.closeReportPeriod(try ReportPeriod(parsing: "2019-H2"), by: "test")
            let next = try #require(try await services.reports.reportLogPlacement("2019-H2"))
            #expect(next.start == placement.end && next.previous == placement.logIndex && next.end == placement.logIndex + 1)

            // An edited report entry is named by the report check (and breaks the log's own check).
            let edited = entry.bytes.replacingOccurrences(of: Data("sealed 2".utf8), with: Data("sealed 0".utf8))
            try await TransparencyLogTests.sql(services).raw(
                "UPDATE log_entries SET data = \(bind: edited) WHERE log = \(bind: TransparencyLog.legalProcess.storageID) AND idx = \(bind: Int64(placement.logIndex))"
            ).run()
            #expect(try await services.verifyReportPeriod(try ReportPeriod(parsing: "2019-H1")).contains {
                $0.contains("the report entry at legal-process log index \(placement.logIndex) does not match")
            })
            #expect(try await services.verifyLog(.legalProcess).holds == false)
        }
    }
}

extension TransparencyReportServerTests {
    static func nationalSecurity(_ id: String, _ instrument: String, day: String, accounts: Int) -> String {
        #"{"id":"\#(id)","receivedAt":"\#(day)","country":"US","section":"criminal","instrument":"\#(instrument)","accounts":\#(accounts),"tenantKind":"consumer","outcome":"content"}"#
    }

    /// 50 U.S.C. § 1874: national-security process only as bands, FISA orders six months late, and
    /// a report entry whose `ns-commitment` binds the exact list (tlog.md §6.7).
    @Test(arguments: TransparencyLogTests.stores)
    func nationalSecurityIsBandedDelayedAndCommitted(store: TransparencyLogTests.Store) async throws {
        try await ServerTests.withApp(reader: try await TransparencyLogTests.reader(store)) { client, _, services in
            let lines = (0..<3).map { Self.nationalSecurity("nsl-\($0)", "us.nsl", day: "2019-02-0\($0 + 1)", accounts: 2) }
                + (0..<2).map { Self.nationalSecurity("fisa-old-\($0)", "us.fisa_702", day: "2018-09-0\($0 + 1)", accounts: 300) }
                + [Self.nationalSecurity("fisa-new", "us.fisa_title1", day: "2019-03-01", accounts: 5000)]
            try await Self.importHistory(services, lines.joined(separator: "\n"))
            let period = try ReportPeriod(parsing: "2019-H1")
            let (report, _) = try await services.computeReport(period)
            let bands = try #require(report.nationalSecurity)
            #expect(bands.citation == "50 U.S.C. § 1874(a)(2)")
            // Letters of 2019-H1; FISA orders of 2018-H2 only (the 2019-H1 order waits for the next report).
            #expect(bands.bands.map(\.text) == ["0 - 499", "0 - 499", "0 - 499", "500 - 999", "0 - 499", "0 - 499"])
            #expect(bands.bands.map(\.covers) == ["2019-H1", "2019-H1", "2018-H2", "2018-H2", "2018-H2", "2018-H2"])
            #expect(report.factCount == 0 && report.requests == 0, "never counted per row")
            let json = try CustosJSON.string(report)
            #expect(!json.contains("\"letters\"") && !json.contains("600"), "no exact count is published")

            _ = try await services.closeReportPeriod(period, by: "test")
            let placement = try #require(try await services.reports.reportLogPlacement("2019-H1"))
            let entry = try LegalProcessLog.parse(try #require(try await services.logs.entries(.legalProcess, from: placement.logIndex, count: 1).first))
            #expect(entry.values("ns-band") == ["2 A 0-499", "2 B 0-499", "2 C 0-499", "2 D 500-999", "2 E 0-499", "2 F 0-499"])
            // The commitment is to the letters of 2019-H1 and the orders of 2018-H2, padded to 1,500 fields.
            let ids = ["nsl-0", "nsl-1", "nsl-2", "fisa-old-0", "fisa-old-1"]
            let expected = bands.commitment(ids: ids, key: services.transparencyKeys.nationalSecurityKey(for: period))
            #expect(expected.fields.count == 1500)
            #expect(entry.value("ns-commitment") == expected.root.base64EncodedString())
            #expect(try await services.verifyReportPeriod(period) == [])
            #expect(try await services.verifyLog(.legalProcess).holds)

            // A letter added afterwards leaves every band as it was, but not the commitment.
            try await Self.importHistory(services, Self.nationalSecurity("nsl-late", "us.nsl", day: "2019-04-01", accounts: 1))
            #expect(try await services.verifyReportPeriod(period).contains { $0.contains("the report entry at legal-process log index") })

            try await client.execute(uri: "/transparency?period=2019-H1", method: .get) { response in
                let html = String(buffer: response.body)
                #expect(html.contains("National-security process") && html.contains("<td>500 - 999</td><td>2018-H2</td>"))
            }
        }
        let bad = try await TransparencyLogTests.reader(.sqlite, extra: ["custos.report.ns.structure": 7])
        await #expect(throws: (any Error).self) { _ = try await buildServices(reader: bad) }
    }
}

extension Data {
    func replacingOccurrences(of target: Data, with replacement: Data) -> Data {
        guard let range = self.range(of: target) else { return self }
        var copy = self
        copy.replaceSubrange(range, with: replacement)
        return copy
    }
}
