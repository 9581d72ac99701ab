import CustosDomain
import FluentKit
import Foundation
import SQLKit

/// What an operations team watches, read from the database when `/metrics` is scraped (issue 28):
/// open cases by state, jobs by kind and status with the age of the oldest due one, package
/// builds by status, and the servers alive. Each figure is one grouped query.
public struct OperationalFigures: Sendable {
    public var casesByState: [String: Int] = [:]
    /// kind → status → count.
    public var jobs: [String: [String: Int]] = [:]
    /// kind → seconds the oldest due pending job has waited.
    public var jobLag: [String: Double] = [:]
    public var packagesByStatus: [String: Int] = [:]
    public var liveInstances = 0

    public static func read(_ store: CustosDatabase, at time: Date, staleAfter: TimeInterval) async throws -> OperationalFigures {
        var figures = OperationalFigures()
        let sql = store.sql
        for row in try await sql.raw("SELECT state, COUNT(*) AS n FROM cases WHERE state <> 'closed' GROUP BY state").all() {
            figures.casesByState[try row.decode(column: "state", as: String.self)] = Int(try row.decode(column: "n", as: Int64.self))
        }
        for row in try await sql.raw("SELECT kind, status, COUNT(*) AS n FROM outbox GROUP BY kind, status").all() {
            let kind = try row.decode(column: "kind", as: String.self)
            figures.jobs[kind, default: [:]][try row.decode(column: "status", as: String.self)] = Int(try row.decode(column: "n", as: Int64.self))
        }
        for kind in figures.jobs.keys {
            let oldest = try await OutboxRow.query(on: store.database).filter(\.$kind == kind).filter(\.$status == JobStatus.pending.rawValue)
                .filter(\.$runAt <= time).sort(\.$runAt).first()
            figures.jobLag[kind] = oldest?.runAt.map { max(0, time.timeIntervalSince($0)) } ?? 0
        }
        for row in try await sql.raw("SELECT status, COUNT(*) AS n FROM packages GROUP BY status").all() {
            figures.packagesByStatus[try row.decode(column: "status", as: String.self)] = Int(try row.decode(column: "n", as: Int64.self))
        }
        figures.liveInstances = try await InstanceRuns(store: store).live(at: time, staleAfter: staleAfter).count
        return figures
    }
}
