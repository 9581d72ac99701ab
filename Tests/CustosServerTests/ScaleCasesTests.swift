import CustosDomain
@testable import CustosServer
import CustosStorage
import FluentSQL
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

/// Issue 7: `custos demo load --scale N` writes N closed cases the rest of Custos can read: the
/// console's cases and demands, report facts that are what the case's closing yields, case numbers
/// intake never reuses, and an audit log that still verifies.
@Suite(.serialized) struct ScaleCasesTests {
    @Test(arguments: TransparencyLogTests.stores)
    func generatedCasesAreClosedCasesTheReportCounts(store: TransparencyLogTests.Store) async throws {
        try await ServerTests.withApp(reader: try await TransparencyLogTests.reader(store)) { client, tokens, services in
            let sql = TransparencyLogTests.sql(services)
            let period = try ReportPeriod(parsing: "2021-H1")  // before the demo set's own history
            // More than one batch, so the pipelined writer's hand-over is exercised.
            let count = ScaleCases.batchSize + 500
            let result = try await ScaleCases.load(count, in: period, into: services)
            #expect(result.cases == count)

            let facts = try await services.reports.facts(in: period)
            #expect(facts.count == count)
            let generated = try await sql.raw("SELECT count(*) AS n FROM report_facts WHERE source = 'generated'").first()
            #expect(try generated?.decode(column: "n", as: Int.self) == count)
            // Every fact is what ReportFact.closed makes of its stored case and demand.
            for fact in facts.shuffled().prefix(40) {
                let caseID = try #require(UUID(uuidString: fact.id))
                let closed = try #require(try await services.cases.findCase(id: caseID))
                let demand = try #require(try await services.cases.findDemand(id: closed.demandID))
                #expect(closed.isClosed)
                let recomputed = try #require(ReportFact.closed(closed, demand: demand))
                #expect(recomputed.country == fact.country && recomputed.section == fact.section && recomputed.instrument == fact.instrument)
                #expect(recomputed.accounts == fact.accounts && recomputed.outcome == fact.outcome && recomputed.tenantID == fact.tenantID)
                #expect(recomputed.dsaCategory == fact.dsaCategory && recomputed.effectAt == fact.effectAt && fact.acknowledgedAt == demand.receivedAt)
                #expect(recomputed.isPreservation == fact.isPreservation && recomputed.isNationalSecurity == fact.isNationalSecurity)
                #expect(period.contains(demand.receivedAt) && closed.updatedAt >= closed.openedAt)
            }
            // The report counts every one of them: in a section, as a preservation, or in the bands.
            let report = TransparencyReport(period: period, groups: try await services.reports.groups(in: period))
            let nationalSecurity = facts.filter(\.isNationalSecurity).count
            #expect(report.requests + report.consumerUndecided + report.preservationRequests + nationalSecurity == count)
            #expect(Set(facts.map(\.country)).count == ScaleCases.requesters.count)
            #expect(facts.contains { $0.outcome == .redirected } && facts.contains { $0.isPreservation } && facts.contains { $0.details?.nonDisclosure == .indefinite })

            // Case numbers come from intake's counter: a demand submitted afterwards gets a new one.
            try await client.execute(
                uri: "/api/v1/demands", method: .post, headers: ServerTests.headers(tokens.officer), body: ByteBuffer(string: ServerTests.demandJSON())
            ) { response in #expect(response.status == .created) }
            let numbers = try #require(try await sql.raw("SELECT count(*) AS n, count(DISTINCT number) AS d FROM cases").first())
            #expect(try numbers.decode(column: "n", as: Int.self) == numbers.decode(column: "d", as: Int.self))

            // One audit entry per batch says the cases were generated; the logs still verify.
            let audits = try await sql.raw("SELECT count(*) AS n FROM audit_entries WHERE action = 'demo.cases_generated'").first()
            #expect(try audits?.decode(column: "n", as: Int.self) == 2)
            #expect(try await services.verifyLogs().allSatisfy(\.holds))

            // Loading more reuses the generated agencies and customers.
            _ = try await ScaleCases.load(10, in: period, into: services)
            #expect(try await services.reports.facts(in: period).count == count + 10)
            #expect(try await services.directory.agencies().filter { $0.name.hasPrefix("Demo authority") }.count == ScaleCases.requesters.count)
            #expect(try await services.directory.tenants().filter { $0.name.hasPrefix("Demo customer") }.count == ScaleCases.customerCount)
        }
    }
}
