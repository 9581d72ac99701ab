import FluentKit

// Every model lists its fields in `properties` by hand. fluent-kit's default implementation finds
// them by reflection on every access (its own documentation calls this its most severe bottleneck),
// and it reads them several times for each query and each row: for keys, timestamps, soft-delete
// filtering, input and output. That reflection was about a seventh of a demand's intake CPU time.
// The lists name the property wrappers in declaration order, so queries, inserts and decoding are
// exactly as before; `ModelPropertiesTests` holds every list against what reflection finds.

extension Fields {
    /// The properties as fluent-kit's default finds them (by reflection), for checking the lists.
    var reflectedProperties: [any AnyProperty] {
        Mirror(reflecting: self).children.compactMap { $0.value as? any AnyProperty }
    }
}

/// Every model of the schema, for `ModelPropertiesTests`.
let allModels: [any Model.Type] = [
    DemandRow.self, DocumentRow.self, AttachmentRow.self, CaseRow.self, AuditRow.self, CounterRow.self, OutboxRow.self, NoticeRow.self,
    AgencyRow.self, TenantRow.self, AccountRow.self, ContactRow.self, ServiceRow.self, PrincipalRow.self, RecoveryCodeRow.self,
    LoginChallengeRow.self, StandingChangeRow.self, SessionRow.self, APITokenRow.self, TenantWebhookRow.self, BlocklistRow.self,
    AgencyRegistrationRow.self, CopyrightNoticeRow.self, CopyrightStrikeRow.self, SuspensionCaseRow.self, TenantHostRow.self,
    PackageLinkRow.self, LegalProcessRecordRow.self, PackageRow.self, DemoRecordRow.self,
]
