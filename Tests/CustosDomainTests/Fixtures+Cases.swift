import CustosDomain
import Foundation

/// Shared fixtures: a pinned clock, people of every role, and a case built from a demand.
enum Fixture {
    static let t0 = Timestamp.parse("2026-05-04T09:00:00Z")!
    static let agencyID = UUID(uuidString: "00000000-0000-0000-0000-0000000000a1")!
    static let tenantID = UUID(uuidString: "00000000-0000-0000-0000-0000000000c1")!
    /// The requesting agency's switchboard as the directory lists it (issue 8).
    static let switchboard = AgencyPhone(
        id: UUID(uuidString: "00000000-0000-0000-0000-0000000000f1")!, number: "+1 206 622 0460", label: "main switchboard",
        source: "https://www.fbi.gov/contact-us/field-offices/seattle")
    static let legalContacts = [LegalContact(name: "Tenant Legal", email: "legal@tenant.example")]

    static func staff(_ name: String, _ role: StaffRole) -> Principal {
        Principal(id: UUID(), email: "\(name)@provider.example", displayName: name, kind: .staff, roles: [role])
    }

    static let intake = staff("intake", .intake)
    static let reviewer = staff("reviewer", .reviewer)
    static let approver1 = staff("approver1", .approver)
    static let approver2 = staff("approver2", .approver)
    static let custodian = staff("custodian", .custodian)
    static let auditor = staff("auditor", .auditor)
    static let admin = staff("admin", .admin)
    static let officer = Principal(id: UUID(), email: "officer@agency.example", displayName: "Officer", kind: .agency, agencyID: agencyID)
    static let customer = Principal(id: UUID(), email: "legal@tenant.example", displayName: "Tenant Legal", kind: .customer, tenantID: tenantID)
    static let otherCustomer = Principal(id: UUID(), email: "legal@other.example", displayName: "Other", kind: .customer, tenantID: UUID())
    static let otherOfficer = Principal(id: UUID(), email: "officer@other.example", displayName: "Other", kind: .agency, agencyID: UUID())

    static func demand(
        categories: [DataCategory] = [.subscriberInfo, .content], emergency: Bool = false, order: NonDisclosureOrder? = nil
    ) -> Demand {
        Demand(
            id: UUID(), agencyID: agencyID, submittedBy: officer.id, instrument: .usSearchWarrant, jurisdiction: Jurisdiction(country: "US"),
            issuingAuthority: IssuingAuthority(name: "U.S. District Court", role: .judge), caseReference: "2:26-mj-00412",
            receivedAt: t0, targets: [Target(type: .email, value: "alice@example.com")], categories: categories,
            isEmergency: emergency, nonDisclosureOrder: order)
    }

    static let rulebook = try! Rulebook.bundled()

    /// A case opened at intake, with the bundled rulebook's assessment as the server computes it.
    static func newCase(kind: TenantKind = .consumer, demand: Demand = Fixture.demand()) -> Case {
        let customer = CustomerLink(tenantID: tenantID, tenantName: "Tenant", kind: kind, isUnlinkedService: false, country: "US")
        return CaseIntake.open(
            demand, customer: customer, assessment: rulebook.assess(demand, customer: CustomerFacts(customer), at: t0),
            caseID: UUID(), number: "C-2026-00001", at: t0, by: officer.actor
        ).0
    }
}

extension AssessedDeadline {
    /// A § 2703(f)-like preservation expiry 90 days after `Fixture.t0`.
    static func preservation(renewal: DeadlineRenewal?) -> AssessedDeadline {
        AssessedDeadline(
            kind: "preservation_expiry", due: Fixture.t0.addingTimeInterval(90 * 86400), rule: "us.2703f.preserve", amount: 90, unit: .calendarDays,
            regime: .duration, calendar: "US", timeZone: "America/New_York", local: "", covered: true, fromRequester: false,
            citation: "18 U.S.C. § 2703(f)", renewal: renewal)
    }
}
