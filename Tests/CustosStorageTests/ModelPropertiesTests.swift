import FluentKit
import Testing

@testable import CustosStorage

/// The models list their fields by hand instead of leaving fluent-kit to reflect on every access
/// (see ModelProperties.swift). A list that misses, repeats or reorders a field would silently
/// leave a column unread or unwritten, so each is held against what reflection finds.
@Suite struct ModelPropertiesTests {
    @Test(arguments: allModels.map { ModelType(type: $0) })
    func eachModelListsExactlyItsReflectedFieldsInOrder(model: ModelType) {
        let instance = model.type.init()
        let listed = instance.properties.map { ObjectIdentifier($0 as AnyObject) }
        let reflected = instance.reflectedProperties.map { ObjectIdentifier($0 as AnyObject) }
        #expect(!reflected.isEmpty)
        #expect(listed == reflected, "\(model): listed \(instance.properties.count) properties, reflection finds \(reflected.count)")
        #expect(Set(listed).count == listed.count, "\(model) lists a property twice")
    }

    @Test func theListOfModelsNamesEachOnce() {
        let names = allModels.map { "\($0)" }
        #expect(Set(names).count == names.count)
        #expect(names.count >= 30)
    }

    struct ModelType: CustomTestStringConvertible, Sendable {
        let type: any Model.Type
        var testDescription: String { "\(type)" }
    }
}

extension Fields {
    /// The properties as fluent-kit's default finds them (by reflection).
    var reflectedProperties: [any AnyProperty] {
        Mirror(reflecting: self).children.compactMap { $0.value as? any AnyProperty }
    }
}

/// Every model of the schema.
let allModels: [any Model.Type] = [
    DemandRow.self, DocumentRow.self, AttachmentRow.self, CaseRow.self, AuditRow.self, CounterRow.self, OutboxRow.self, NoticeRow.self,
    AgencyRow.self, TenantRow.self, AccountRow.self, ContactRow.self, ServiceRow.self, PrincipalRow.self, RecoveryCodeRow.self,
    LoginChallengeRow.self, StandingChangeRow.self, SessionRow.self, APITokenRow.self, TenantWebhookRow.self, BlocklistRow.self,
    AgencyRegistrationRow.self, CopyrightNoticeRow.self, CopyrightStrikeRow.self, SuspensionCaseRow.self, TenantHostRow.self,
    PackageLinkRow.self, LegalProcessRecordRow.self, PackageRow.self, DemoRecordRow.self,
]
