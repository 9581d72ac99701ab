import CustosDomain
import CustosStorage
import Foundation

/// A realistic demo set: 5 agencies in 4 countries, 6 tenants of both kinds (one on an unlinked
/// service), staff for every role, and 20 demands spread over the workflow states. Loaded once.
public enum DemoData {
    public static let staffPassword = "custos-demo-staff"
    public static let agencyPassword = "custos-demo-agency"
    public static let customerPassword = "custos-demo-customer"
    /// The authenticator secret every demo staff and agency account shares (issue 8: they must use
    /// a second factor). Published on purpose: add it to any authenticator app, or read the current
    /// code on the sign-in page of a `serve --demo` server. Only the demo accounts have it.
    public static let secondFactorSecretBase32 = "CUSTOSDEMOSECONDFACTORSHAREDBY22"
    public static let secondFactorSecret = Base32.decode(secondFactorSecretBase32)!

    public struct Login: Sendable {
        public var email: String
        public var password: String
        public var what: String
    }

    public static let logins: [Login] = [
        Login(email: "intake@provider.example", password: staffPassword, what: "staff (intake)"),
        Login(email: "reviewer@provider.example", password: staffPassword, what: "staff (reviewer)"),
        Login(email: "approver1@provider.example", password: staffPassword, what: "staff (approver)"),
        Login(email: "approver2@provider.example", password: staffPassword, what: "staff (approver)"),
        Login(email: "custodian@provider.example", password: staffPassword, what: "staff (custodian)"),
        Login(email: "auditor@provider.example", password: staffPassword, what: "staff (auditor)"),
        Login(email: "admin@provider.example", password: staffPassword, what: "staff (admin)"),
        Login(email: "officer@fbi-seattle.example", password: agencyPassword, what: "agency (FBI Seattle Field Office)"),
        Login(email: "ermittler@lka-bw.example", password: agencyPassword, what: "agency (LKA Baden-Württemberg)"),
        Login(email: "legal@northwind.example", password: customerPassword, what: "customer (Northwind Traders)"),
        Login(email: "legal@mueller-mb.example", password: customerPassword, what: "customer (Müller Maschinenbau GmbH)"),
    ]

    /// Whether the demo set is already there (it is loaded once).
    public static func isLoaded(_ services: CustosServices) async throws -> Bool {
        try await services.identity.findPrincipal(email: logins[0].email) != nil
    }

    /// Sets up the shared demo secret as the account's second factor (no recovery codes: the account
    /// page offers to make some).
    static func enrolDemoSecondFactor(_ principal: Principal, services: CustosServices, at time: Date) async throws {
        _ = try await services.secondFactors.pendingSecret(principalID: principal.id, fresh: secondFactorSecret)
        try await services.secondFactors.enrol(principalID: principal.id, step: 0, recoveryCodeHashes: [], by: "demo", at: time)
    }

    /// Loads the demo set; returns false when it was already loaded.
    @discardableResult
    public static func load(into services: CustosServices) async throws -> Bool {
        // The demo record store is its own file; fill it whenever it is empty.
        if try await services.demoRecords.count() == 0 {
            try await services.demoRecords.add(DemoRecords.all(now: services.now()))
        }
        if try await isLoaded(services) { return false }
        let directory = services.directory
        let identity = services.identity
        let now = services.now()

        // Each with its directory entry (issue 8): official domains and a number from an independent
        // source (fictional here, like everything in the demo), the only kind a callback may use.
        func phone(_ number: String, _ source: String) -> [AgencyPhone] {
            [AgencyPhone(id: UUID(), number: number, label: "main switchboard", source: source)]
        }
        let agencies = [
            Agency(id: UUID(), name: "FBI Seattle Field Office", country: "US", kind: .lawEnforcement, domains: ["fbi-seattle.example"],
                   phones: phone("+1 206 555 0100", "agency website, contact page (demo)")),
            Agency(id: UUID(), name: "U.S. Attorney's Office, W.D. Wash.", country: "US", kind: .prosecutor, domains: ["usdoj-wdwa.example"],
                   phones: phone("+1 206 555 0170", "court directory (demo)")),
            Agency(id: UUID(), name: "LKA Baden-Württemberg", country: "DE", kind: .lawEnforcement, domains: ["lka-bw.example"],
                   phones: phone("+49 711 5555 0", "state police website, Impressum (demo)")),
            Agency(id: UUID(), name: "Parquet de Paris", country: "FR", kind: .prosecutor, domains: ["parquet-paris.example"],
                   phones: phone("+33 1 55 55 00 00", "annuaire de la justice (demo)")),
            Agency(id: UUID(), name: "Polícia Federal, São Paulo", country: "BR", kind: .lawEnforcement, domains: ["pf-sp.example"],
                   phones: phone("+55 11 5555 0000", "gov.br directory (demo)")),
        ]
        for agency in agencies { try await directory.createAgency(agency) }

        struct TenantSeed {
            var name: String
            var kind: TenantKind
            var country: String
            var account: String
            var email: String
            var unlinked: Bool
            /// Where the data is stored; the rulebook's GDPR Art. 48 and CLOUD Act checks read it.
            var dataLocation: String
        }
        let seeds = [
            TenantSeed(name: "Northwind Traders", kind: .enterprise, country: "US", account: "acct-northwind-001", email: "ops@northwind.example", unlinked: false, dataLocation: "US"),
            TenantSeed(name: "Müller Maschinenbau GmbH", kind: .enterprise, country: "DE", account: "acct-mueller-001", email: "it@mueller-mb.example", unlinked: false, dataLocation: "DE"),
            TenantSeed(name: "Contoso Health", kind: .enterprise, country: "IE", account: "acct-contoso-001", email: "admin@contoso-health.example", unlinked: false, dataLocation: "IE"),
            TenantSeed(name: "Alice Example", kind: .consumer, country: "US", account: "acct-alice-001", email: "alice@example.com", unlinked: false, dataLocation: "US"),
            TenantSeed(name: "Jean Dupont", kind: .consumer, country: "FR", account: "acct-dupont-001", email: "jean.dupont@example.fr", unlinked: false, dataLocation: "IE"),
            TenantSeed(name: "Anonymous Relay Users", kind: .consumer, country: "DE", account: "acct-relay-001", email: "relay-user@example.net", unlinked: true, dataLocation: "DE"),
        ]
        var tenants: [Tenant] = []
        for seed in seeds {
            let tenant = Tenant(id: UUID(), name: seed.name, kind: seed.kind, country: seed.country, dataLocation: seed.dataLocation)
            let service = CustomerService(id: UUID(), tenantID: tenant.id, name: seed.unlinked ? "Anonymous relay" : "Cloud workspace", isUnlinked: seed.unlinked)
            try await directory.createTenant(
                tenant, services: [service],
                accounts: [CustomerAccount(id: UUID(), tenantID: tenant.id, accountID: seed.account, email: seed.email, serviceID: service.id)],
                contacts: seed.unlinked ? [] : [CustomerContact(id: UUID(), tenantID: tenant.id, name: "Legal contact", email: "legal@\(seed.email.split(separator: "@")[1])")])
            tenants.append(tenant)
        }
        // The sites two customers host: copyright notices about their URLs go to them (issue 9).
        try await services.copyright.addHost("northwind.example", tenantID: tenants[0].id, by: "demo", at: now)
        try await services.copyright.addHost("mueller-mb.example", tenantID: tenants[1].id, by: "demo", at: now)

        let staffHash = try await Passwords.hash(staffPassword)
        let staffRoles: [(String, StaffRole)] = [
            ("intake", .intake), ("reviewer", .reviewer), ("approver1", .approver), ("approver2", .approver),
            ("custodian", .custodian), ("auditor", .auditor), ("admin", .admin),
        ]
        var staff: [String: Principal] = [:]
        for (name, role) in staffRoles {
            let principal = Principal(id: UUID(), email: "\(name)@provider.example", displayName: name.capitalized, kind: .staff, roles: [role])
            try await identity.createPrincipal(principal, passwordHash: staffHash, at: now)
            try await enrolDemoSecondFactor(principal, services: services, at: now)
            staff[name] = principal
        }
        let agencyHash = try await Passwords.hash(agencyPassword)
        let agencyEmails = ["officer@fbi-seattle.example", "ausa@usdoj-wdwa.example", "ermittler@lka-bw.example", "substitut@parquet-paris.example", "delegado@pf-sp.example"]
        var officers: [Principal] = []
        for (agency, email) in zip(agencies, agencyEmails) {
            let principal = Principal(id: UUID(), email: email, displayName: "Officer of \(agency.name)", kind: .agency, agencyID: agency.id)
            // Established requesters: registered long before, so no "new requester" flag on the demo cases.
            try await identity.createPrincipal(principal, passwordHash: agencyHash, at: now.addingTimeInterval(-400 * 86_400))
            try await enrolDemoSecondFactor(principal, services: services, at: now)
            if agency.kind == .lawEnforcement {
                // Police forces may send emergency requests (legal-rules.md §6); the others may not.
                try await identity.setStanding(
                    principalID: principal.id, .active, mayRequestEmergency: true, reason: "demo: police requester, verified at onboarding", by: "demo", at: now)
            }
            officers.append(principal)
        }
        let customerHash = try await Passwords.hash(customerPassword)
        try await identity.createPrincipal(
            Principal(id: UUID(), email: "legal@northwind.example", displayName: "Northwind Legal", kind: .customer, tenantID: tenants[0].id),
            passwordHash: customerHash, at: now)
        try await identity.createPrincipal(
            Principal(id: UUID(), email: "legal@mueller-mb.example", displayName: "Müller Recht", kind: .customer, tenantID: tenants[1].id),
            passwordHash: customerHash, at: now)

        // Twenty demands and the events that bring each to its state.
        struct Scenario {
            var agency: Int
            var instrument: String
            var country: String
            var role: String
            var target: String
            var categories: [String]
            var emergency = false
            var order: DemandDraft.NonDisclosure? = nil
            var events: [(String, CaseEvent)]
        }
        let review: [(String, CaseEvent)] = [("reviewer", .beginReview)]
        let consumerApproved = review + [
            ("approver1", .approveScope(categories: [.subscriberInfo], excuse: nil)), ("approver2", .approveScope(categories: [.subscriberInfo], excuse: nil)),
        ]
        // start_collection queues the package build; the demo builds it at once from the demo
        // record store (the package runner would, a moment later), which moves the case on to
        // ready_for_release; "custodian (collecting)" only starts, so its build stays queued.
        let ready = consumerApproved + [("custodian", .startCollection)]
        let released = ready + [("approver1", .approveRelease), ("approver2", .approveRelease), ("custodian", .release)]
        let scenarios: [Scenario] = [
            Scenario(agency: 0, instrument: "us.search_warrant", country: "US", role: "judge", target: "alice@example.com", categories: ["subscriber_info", "content"], events: []),
            Scenario(agency: 0, instrument: "us.emergency_2702", country: "US", role: "police", target: "acct-alice-001", categories: ["subscriber_info", "non_content"], emergency: true, events: []),
            Scenario(agency: 2, instrument: "de.stpo_100j", country: "DE", role: "prosecutor", target: "relay-user@example.net", categories: ["subscriber_info"], events: [("intake", .beginVerification)]),
            Scenario(agency: 3, instrument: "eu.epoc", country: "FR", role: "prosecutor", target: "jean.dupont@example.fr", categories: ["subscriber_info", "content"], events: [("intake", .beginVerification), ("intake", .recordCallback(phone: agencies[3].phones[0], spokeWith: "substitut de permanence", confirmed: true, note: nil))]),
            Scenario(agency: 1, instrument: "us.subpoena", country: "US", role: "prosecutor", target: "acct-alice-001", categories: ["subscriber_info"], events: review),
            Scenario(agency: 4, instrument: "br.court_order", country: "BR", role: "judge", target: "jean.dupont@example.fr", categories: ["non_content"], events: review),
            Scenario(agency: 1, instrument: "us.court_order_2703d", country: "US", role: "judge", target: "alice@example.com", categories: ["non_content"], events: review + [("reviewer", .askAgency(question: "Please narrow the date window to the period of the alleged offence."))]),
            Scenario(agency: 0, instrument: "us.search_warrant", country: "US", role: "judge", target: "ops@northwind.example", categories: ["content"], events: review + [("reviewer", .redirect(note: nil, contacts: []))]),
            Scenario(agency: 2, instrument: "de.stpo_100g", country: "DE", role: "court", target: "it@mueller-mb.example", categories: ["non_content"], events: review + [("reviewer", .fileChallenge(kind: .motionToQuash, court: "Amtsgericht Stuttgart", grounds: "Overbroad: no offence of substantial significance stated", deadline: nil))]),
            Scenario(agency: 0, instrument: "us.preservation_2703f", country: "US", role: "police", target: "acct-alice-001", categories: ["content"], events: review + [("reviewer", .beginPreservation(until: nil))]),
            Scenario(agency: 1, instrument: "us.subpoena", country: "US", role: "prosecutor", target: "alice@example.com", categories: ["subscriber_info"], events: consumerApproved),
            Scenario(agency: 3, instrument: "eu.epoc", country: "FR", role: "judge", target: "jean.dupont@example.fr", categories: ["subscriber_info"], events: consumerApproved + [("custodian (collecting)", .startCollection)]),
            Scenario(agency: 1, instrument: "us.court_order_2703d", country: "US", role: "judge", target: "acct-alice-001", categories: ["subscriber_info"], events: ready),
            Scenario(agency: 0, instrument: "us.search_warrant", country: "US", role: "judge", target: "alice@example.com", categories: ["subscriber_info"], events: released),
            Scenario(agency: 1, instrument: "us.subpoena", country: "US", role: "prosecutor", target: "acct-alice-001", categories: ["subscriber_info"], events: released + [("reviewer", .close)]),
            Scenario(agency: 4, instrument: "br.admin_requisition", country: "BR", role: "police", target: "jean.dupont@example.fr", categories: ["subscriber_info", "encryption_keys"], events: review + [("reviewer", .reject(reason: "Encryption keys are never disclosed; the requisition names no account of ours.", ruleIDs: ["invariant.c9.encryption_keys", "br.admin.other"]))]),
            Scenario(agency: 0, instrument: "us.search_warrant", country: "US", role: "judge", target: "ops@northwind.example", categories: ["content"], events: review + [("reviewer", .redirect(note: nil, contacts: [])), ("agency", .agencyAnswer(.approachCustomer, note: nil))]),
            Scenario(agency: 2, instrument: "de.stpo_100j", country: "DE", role: "prosecutor", target: "it@mueller-mb.example", categories: ["subscriber_info"], events: [("agency", .withdraw(reason: "Investigation discontinued"))]),
            Scenario(agency: 0, instrument: "us.preservation_2703f", country: "US", role: "police", target: "alice@example.com", categories: ["content"], events: review + [("reviewer", .beginPreservation(until: now.addingTimeInterval(86400))), ("reviewer", .preservationEnded(followUpReceived: false))]),
            Scenario(agency: 1, instrument: "us.subpoena", country: "US", role: "prosecutor", target: "acct-alice-001", categories: ["subscriber_info"], events: ready),
        ]
        let pdf = Data("%PDF-1.4\n% Custos demo instrument\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n".utf8)
        for (index, scenario) in scenarios.enumerated() {
            let officer = officers[scenario.agency]
            let received = now.addingTimeInterval(-Double(20 - index) * 86400)
            let draft = DemandDraft(
                instrument: scenario.instrument, jurisdiction: scenario.country,
                issuingAuthority: .init(name: agencies[scenario.agency].name, role: scenario.role),
                caseReference: "DEMO-\(2026)-\(String(format: "%03d", index + 1))", receivedAt: Timestamp.format(received),
                targets: [.init(type: scenario.target.contains("@") ? "email" : "account_id", value: scenario.target)],
                categories: scenario.categories, emergency: scenario.emergency, nonDisclosureOrder: scenario.order)
            let submission = try await services.submitDemand(
                draft, uploads: [DocumentUpload(filename: "instrument-\(index + 1).pdf", mediaType: "application/pdf", bytes: pdf, field: "document")],
                by: officer, credential: .secondFactor, idempotencyKey: "demo-\(index + 1)", requestHash: "demo-\(index + 1)")
            let caseID = submission.caseRecord.id
            for (who, event) in scenario.events {
                if who == "custodian (collecting)" {
                    _ = try await services.cases.apply(event, toCase: caseID, at: services.now(), by: staff["custodian"]!.actor)
                    continue
                }
                let actor = who == "agency" ? officer : staff[who]!
                _ = try await services.apply(try await services.withDirectoryFacts(event, caseID: caseID), toCase: caseID, by: actor)
                if case .startCollection = event {
                    try await services.buildPackage(caseID: caseID, by: actor.actor)
                } else if case .beginPreservation = event, try await services.cases.findCase(id: caseID)?.state == .preserving {
                    try await services.buildPackage(caseID: caseID, purpose: .preservation, by: actor.actor)
                }
            }
        }
        _ = try await services.reports.importFacts(historicalFacts(before: now), fileSHA256: "demo", by: "demo", at: now)
        return true
    }

    /// Five earlier half-years of closed cases, as a provider would import them from its
    /// spreadsheets (`custos import cases`), so the public report has a history to show.
    /// Deterministic: the same figures on every demo installation.
    static func historicalFacts(before now: Date) -> [ReportFact] {
        let countries = [("US", 9), ("DE", 5), ("FR", 3), ("BR", 3), ("GB", 2), ("IE", 1)]
        let outcomes: [ReportOutcome] = [.nonContent, .nonContent, .nonContent, .content, .noData, .rejected, .rejected]
        var facts: [ReportFact] = []
        for (age, period) in ReportPeriod.halfYear(containing: now).halfYears(endingHere: 6).dropLast().reversed().enumerated() {
            var serial = 0
            for (country, weight) in countries {
                for index in 0..<(weight * (6 - age)) {
                    serial += 1
                    let section: ReportSection = index % 11 == 0 ? .emergency : (index % 13 == 5 ? .civil : .criminal)
                    facts.append(ReportFact(
                        id: "demo-\(period.description)-\(serial)", receivedAt: period.start.addingTimeInterval(Double(serial) * 86_400 / 2),
                        country: country, section: section, instrument: section == .emergency ? "us.emergency_2702" : (country == "US" ? "us.subpoena" : "other"),
                        tenantKind: index % 9 == 4 ? .enterprise : .consumer, accounts: 1 + index % 3, outcome: outcomes[(index + age) % outcomes.count],
                        isPreservation: index % 17 == 3))
                }
            }
        }
        return facts
    }
}
