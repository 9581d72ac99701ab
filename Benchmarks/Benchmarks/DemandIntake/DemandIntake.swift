import Benchmark
import CustosDomain
import CustosStorage
import Foundation
import Logging

/// Demands accepted per second through domain validation and storage on SQLite (the embedded
/// default: a WAL file in a temporary data folder), and workflow steps per second in the pure domain.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.throughput, .wallClock, .mallocCountTotal, .peakMemoryResident],
        timeUnits: .microseconds, warmupIterations: 3, maxDuration: .seconds(10), maxIterations: 200)

    rulebookBenchmarks()

    Benchmark("Demand accepted (validate + assess + SQLite transaction)") { benchmark in
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("custos-bench-\(UUID().uuidString)")
        let database = try CustosDatabase(location: .sqliteFile(path: folder.appendingPathComponent("custos.sqlite").path), logger: Logger(label: "bench"))
        try await database.migrate()
        let world = try await World.make(database)
        let rulebook = try Rulebook.bundled()
        benchmark.startMeasurement()
        for index in benchmark.scaledIterations {
            let accepted = try Demand.validate(
                World.draft(reference: "B-\(index)"), uploads: [World.pdf], limits: DemandLimits(), agencyID: world.officer.agencyID!,
                submittedBy: world.officer.id, now: World.t0, makeID: { UUID() })
            // As CustosServices.submitDemand does: assess against the rulebook, then store.
            let assessment = rulebook.assess(accepted.demand, customer: CustomerFacts(), at: World.t0)
            blackHole(try await world.cases.submit(
                accepted, idempotencyKey: nil, requestHash: "h\(index)", customer: nil, assessment: assessment, at: World.t0, by: world.officer))
        }
        benchmark.stopMeasurement()
        await database.shutdown()
        try? FileManager.default.removeItem(at: folder)
    }

    Benchmark("Workflow step (pure CaseWorkflow.apply)") { benchmark in
        let demand = try Demand.validate(
            World.draft(reference: "W"), uploads: [World.pdf], limits: DemandLimits(), agencyID: UUID(), submittedBy: UUID(), now: World.t0, makeID: { UUID() }
        ).demand
        let opened = CaseIntake.open(demand, customer: nil, assessment: nil, caseID: UUID(), number: "C-2026-00001", at: World.t0, by: .system).0
        let reviewer = Principal(id: UUID(), email: "r@p.example", displayName: "R", kind: .staff, roles: [.reviewer])
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(try CaseWorkflow.apply(.beginReview, to: opened, at: World.t0, by: reviewer.actor))
        }
    }
}

/// One agency and one officer in a freshly migrated database.
struct World {
    static let t0 = Timestamp.parse("2026-05-04T09:00:00Z")!
    static let pdf = DocumentUpload(filename: "warrant.pdf", mediaType: "application/pdf", bytes: Data(repeating: 0x25, count: 64 * 1024), field: "documents[0]")

    let cases: SQLCaseRepository
    let officer: Principal

    static func make(_ database: CustosDatabase) async throws -> World {
        let agency = Agency(id: UUID(), name: "Bench Agency", country: "US", kind: .lawEnforcement)
        try await SQLDirectoryRepository(store: database).createAgency(agency)
        let officer = Principal(id: UUID(), email: "bench@agency.example", displayName: "Bench", kind: .agency, agencyID: agency.id)
        try await SQLIdentityRepository(store: database).createPrincipal(officer, passwordHash: "x", at: t0)
        return World(cases: SQLCaseRepository(store: database), officer: officer)
    }

    static func draft(reference: String) -> DemandDraft {
        DemandDraft(
            instrument: "us.search_warrant", jurisdiction: "US", issuingAuthority: .init(name: "U.S. District Court", role: "judge"),
            caseReference: reference, receivedAt: "2026-05-04T08:00:00Z", targets: [.init(type: "email", value: "alice@example.com")],
            categories: ["subscriber_info", "content"], window: .init(from: "2026-01-01T00:00:00Z", to: "2026-02-01T00:00:00Z"))
    }
}
