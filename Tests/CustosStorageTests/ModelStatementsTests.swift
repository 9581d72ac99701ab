import CustosDomain
import FluentKit
import Foundation
import Testing

@testable import CustosStorage

/// `ModelStatements` writes and reads models with plain statements instead of fluent-kit's query
/// builder. On both databases, what it reads must be exactly what fluent-kit reads, and what it
/// writes must be stored as fluent-kit stores it (fluent's own filters find it).
extension StorageContractTests {
    @Test(arguments: locations)
    func plainStatementsReadEveryModelExactlyAsFluentDoes(location: DatabaseLocation) async throws {
        try await Self.withWorld(location) { world in
            // A demand through intake (its rows are written with plain statements) and into review:
            // demand, document, case, audit entries, counters, notice, legal-process record, directory rows.
            _ = try await Self.gaggedCaseInReview(world)
            let database = world.database.database
            var modelsWithRows: [String] = []
            for model in allModels where model != DemoRecordRow.self {  // that one lives in the demo records' own database
                let (viaFluent, viaStatements) = try await Self.bothReads(of: model, on: database)
                #expect(viaFluent == viaStatements, "\(model)")
                if !viaFluent.isEmpty { modelsWithRows.append("\(model)") }
            }
            #expect(Set(["DemandRow", "DocumentRow", "CaseRow", "AuditRow", "CounterRow", "NoticeRow", "LegalProcessRecordRow", "AgencyRow",
                "TenantRow", "AccountRow", "PrincipalRow"]).isSubset(of: modelsWithRows), "\(modelsWithRows)")
        }
    }

    @Test(arguments: locations)
    func plainStatementsStoreValuesAsFluentDoes(location: DatabaseLocation) async throws {
        try await Self.withWorld(location) { world in
            let database = world.database.database
            let subject = try await Self.gaggedCaseInReview(world)
            // Written by `ModelStatements.insert` at intake; fluent's own binds find each by value,
            // so UUIDs, dates, booleans, integers, text and bytes are stored the way fluent stores them.
            let caseRow = try #require(try await CaseRow.query(on: database).filter(\.$id == subject.id).filter(\.$isEmergency == false)
                .filter(\.$openedAt == Self.t0).filter(\.$number == subject.number).first())
            let demand = try #require(try await DemandRow.query(on: database).filter(\.$id == caseRow.demandID)
                .filter(\.$receivedAt == Timestamp.parse("2026-05-04T08:00:00Z")!).filter(\.$agencyID == world.officer.agencyID!).first())
            let document = try #require(try await DocumentRow.query(on: database).filter(\.$demandID == demand.id!).filter(\.$byteCount == 4).first())
            #expect(try world.database.sealer.open(document.content) == Data("%PDF".utf8))
            #expect(try await LegalProcessRecordRow.query(on: database).filter(\.$id == subject.id).filter(\.$demandIndex == nil).count() == 1)

            // A row inserted with a plain statement reads back through fluent field for field, nulls included.
            let tenant = TenantRow()
            tenant.id = UUID()
            tenant.name = "Plain statement GmbH"
            tenant.kind = TenantKind.enterprise.rawValue
            tenant.country = "DE"
            try await ModelStatements.insert(tenant, on: database)
            #expect(tenant._$idExists)
            let read = try #require(try await TenantRow.find(tenant.id, on: database))
            // Fields never set were left out of the statement, so they hold the column default (NULL).
            #expect(Self.fieldValues(read) == Self.fieldValues(tenant).map { $0.replacingOccurrences(of: "=default", with: "=nil") })
            #expect(read.residence == nil && read.dataLocation == nil)
            // Conditions, including IS NULL, select what fluent's filters select.
            let plain = try await ModelStatements.rows(TenantRow.self, where: [(TenantRow.column(\.$residence), .null)], orderBy: "name", on: database)
            let fluent = try await TenantRow.query(on: database).filter(\.$residence == nil).sort(\.$name).all()
            #expect(plain.map(Self.fieldValues) == fluent.map(Self.fieldValues) && plain.contains { $0.id == tenant.id })
            #expect(try await ModelStatements.find(TenantRow.self, id: UUID(), on: database) == nil)
        }
    }

    /// Every row of a model, read by fluent-kit and by `ModelStatements`, each as its field values.
    static func bothReads<M: Model>(of type: M.Type, on database: any Database) async throws -> ([[String]], [[String]]) {
        let viaFluent = try await M.query(on: database).all().map(fieldValues)
        let viaStatements = try await ModelStatements.rows(M.self, where: [], on: database).map(fieldValues)
        let order = { (a: [String], b: [String]) in a.joined(separator: "|") < b.joined(separator: "|") }
        return (viaFluent.sorted(by: order), viaStatements.sorted(by: order))
    }

    /// A model's fields as text: key and value, dates to the exact second fraction, bytes in base64.
    static func fieldValues(_ model: any Model) -> [String] {
        let collector = FieldValueCollector()
        model.input(to: collector)
        return collector.values
    }
}

/// Collects every field of a model (changed or not) as `key=value` text.
private final class FieldValueCollector: DatabaseInput {
    var values: [String] = []
    var wantsUnmodifiedKeys: Bool { true }

    func set(_ value: DatabaseQuery.Value, at key: FieldKey) {
        let text: String
        switch value {
        case .bind(let date as Date): text = "\(date.timeIntervalSince1970)"
        case .bind(let data as Data): text = data.base64EncodedString()
        case .bind(let other): text = "\(other)"
        default: text = "\(value)"
        }
        values.append("\(key.description)=\(text)")
    }
}
