import CustosDomain
import FluentKit
import SQLKit

/// 015: what the DSA report needs of a fact (issue 7): when the requester was told of receipt,
/// when effect was given (milliseconds since 1970), the category of illegal content, and whether
/// the fact is a Member State's order to provide information (`DSAOrders`), decided by the domain
/// when the fact is written. Facts stored before are marked here by the same rule.
struct M015_AddReportFactTimes: AsyncMigration {
    var name: String { "015_AddReportFactTimes" }

    func prepare(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        for column in ["ack_ms BIGINT", "effect_ms BIGINT", "dsa_category TEXT", "dsa_order INTEGER NOT NULL DEFAULT 0"] {
            try await sql.raw("ALTER TABLE report_facts ADD COLUMN \(unsafeRaw: column)").run()
        }
        let states = DSAOrders.memberStates.keys.sorted().map { $0 as any Encodable & Sendable }
        try await sql.raw("""
            UPDATE report_facts SET dsa_order = 1 WHERE country IN (\(binds: states)) AND section <> 'civil' AND is_preservation = 0
            AND is_national_security = 0
            """).run()
    }

    func revert(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        for column in ["dsa_order", "dsa_category", "effect_ms", "ack_ms"] {
            try await sql.raw("ALTER TABLE report_facts DROP COLUMN \(unsafeRaw: column)").run()
        }
    }
}
