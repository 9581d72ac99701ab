import CustosDomain
import CustosStorage
import Foundation

/// `custos demo load --scale N`: N realistic closed cases in one period, written in bulk, so the
/// transparency report, the console's lists and the benchmarks can be tried at a provider's size.
///
/// Each case is a real `Demand` and a closed `Case` built with the domain types, and its report
/// fact comes from `ReportFact.closed`, the same rule a case closed by staff goes through. What a
/// synthetic case does not have: its event history (one audit entry per batch records the load
/// instead), customer notice rows, packages and legal-process log commitments.
public enum ScaleCases {
    /// One requester per country, weighted roughly as the large providers' reports show them
    /// (report-formats.md §1–2), with the instruments that country's authorities use.
    struct Requester {
        var country: String
        var weight: Int
        var instruments: [(LegalInstrument, Int)]
        var role: IssuerRole
    }

    static let requesters: [Requester] = [
        Requester(
            country: "US", weight: 30,
            instruments: [(.usSubpoena, 40), (.usCourtOrder2703d, 18), (.usSearchWarrant, 24), (.usPreservation2703f, 8), (.usEmergency2702, 6),
                          (.usCivilSubpoena, 3), (.usNSL, 1)],
            role: .prosecutor),
        Requester(country: "DE", weight: 12, instruments: [(.deStPO100j, 45), (.deStPO100g, 25), (.euEPOC, 20), (.euEPOCPR, 10)], role: .prosecutor),
        Requester(country: "FR", weight: 9, instruments: [(.euEPOC, 70), (.euEPOCPR, 15), (.intlBudapestArt7, 15)], role: .prosecutor),
        Requester(country: "BR", weight: 8, instruments: [(.brCourtOrder, 60), (.brAdminRequisition, 30), (.brPreservationRequest, 10)], role: .judge),
        Requester(country: "GB", weight: 7, instruments: [(.ukOverseasProductionOrder, 80), (.intlMLAT, 20)], role: .court),
        Requester(country: "IN", weight: 6, instruments: [(.inLawfulOrder, 90), (.intlMLAT, 10)], role: .police),
        Requester(country: "ES", weight: 4, instruments: [(.euEPOC, 80), (.euEPOCPR, 20)], role: .judge),
        Requester(country: "IT", weight: 4, instruments: [(.euEPOC, 80), (.euEPOCPR, 20)], role: .prosecutor),
        Requester(country: "NL", weight: 3, instruments: [(.euEPOC, 85), (.euEPOCPR, 15)], role: .prosecutor),
        Requester(country: "PL", weight: 3, instruments: [(.euEPOC, 85), (.euEPOCPR, 15)], role: .prosecutor),
        Requester(country: "IE", weight: 2, instruments: [(.euEPOC, 90), (.euEPOCPR, 10)], role: .police),
        Requester(country: "GR", weight: 2, instruments: [(.euEPOC, 100)], role: .prosecutor),
        Requester(country: "AU", weight: 3, instruments: [(.intlMLAT, 70), (.other, 30)], role: .police),
        Requester(country: "CA", weight: 3, instruments: [(.intlMLAT, 60), (.other, 40)], role: .police),
        Requester(country: "JP", weight: 2, instruments: [(.intlMLAT, 50), (.other, 50)], role: .police),
        Requester(country: "MX", weight: 2, instruments: [(.intlMLAT, 40), (.other, 60)], role: .prosecutor),
    ]

    /// A requester agency the generated demands come from, and the user who "submitted" them.
    struct Submitter: Sendable {
        var agencyID: UUID
        var principalID: UUID
        var name: String
    }

    /// Picks from weighted choices.
    static func pick<T>(_ choices: [(T, Int)], using random: inout some RandomNumberGenerator) -> T {
        let total = choices.reduce(0) { $0 + $1.1 }
        var roll = Int.random(in: 0..<total, using: &random)
        for (choice, weight) in choices {
            if roll < weight { return choice }
            roll -= weight
        }
        return choices[choices.count - 1].0
    }

    /// One closed case: its demand, the case as closed, and the fact the report counts.
    static func closedCase(
        number: String, in period: ReportPeriod, closingBefore now: Date, submitters: [String: Submitter], tenants: [CustomerLink],
        using random: inout some RandomNumberGenerator
    ) -> ScaleCase {
        let requester = pick(requesters.map { ($0, $0.weight) }, using: &random)
        let instrument = pick(requester.instruments, using: &random)
        let submitter = submitters[requester.country]!
        let span = max(1, period.end.timeIntervalSince(period.start))
        let received = period.start.addingTimeInterval(Double.random(in: 0..<span, using: &random).rounded(.down))
        let isEmergency = instrument == .usEmergency2702 || Int.random(in: 0..<100, using: &random) < 2
        // About a third of demands name no account of a known customer (consumer services).
        let customer = Int.random(in: 0..<100, using: &random) < 65 ? tenants.randomElement(using: &random) : nil
        let accounts = pick([(1, 70), (2, 15), (3, 8), (5, 5), (12, 2)], using: &random)
        let domain = customer.map { "t\($0.tenantID.uuidString.prefix(8).lowercased()).example" } ?? "mail.example"
        let targets = (0..<accounts).map { _ in Target(type: .email, value: "user\(Int.random(in: 1...999_999, using: &random))@\(domain)") }
        let wantsContent = [.usSearchWarrant, .euEPOC, .ukOverseasProductionOrder, .brCourtOrder, .intlMLAT].contains(instrument)
            && Int.random(in: 0..<100, using: &random) < 60
        let gag: NonDisclosureOrder? = pick(
            [(nil, 82), (NonDisclosureOrder(basis: "court order", until: received.addingTimeInterval(180 * 86_400), isIndefinite: false), 15),
             (NonDisclosureOrder(basis: "court order", until: nil, isIndefinite: true), 3)], using: &random)
        var demand = Demand(
            id: UUID(), agencyID: submitter.agencyID, submittedBy: submitter.principalID, instrument: instrument,
            jurisdiction: Jurisdiction(country: requester.country), issuingAuthority: IssuingAuthority(name: submitter.name, role: requester.role),
            caseReference: "SCALE-\(number)", receivedAt: received, targets: targets,
            categories: wantsContent ? [.subscriberInfo, .content] : [.subscriberInfo, .identificationData], isEmergency: isEmergency,
            isPreservation: instrument.isPreservationOnly, nonDisclosureOrder: gag)
        if DSAOrders.memberStates[requester.country] != nil {
            // The legal ground EU orders cite, as the DSA report files them.
            demand.dsaCategory = pick(
                [("STATEMENT_CATEGORY_SCAMS_AND_FRAUD", 35), ("STATEMENT_CATEGORY_PROTECTION_OF_MINORS", 15), ("STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY", 15),
                 ("STATEMENT_CATEGORY_CYBER_VIOLENCE", 10), ("STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH", 10),
                 ("STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS", 5), (String?.none, 10)], using: &random)
        }

        var closed = Case(id: UUID(), number: number, demand: demand, customer: customer, openedAt: received, dueAt: received.addingTimeInterval(30 * 86_400))
        closed.state = .closed
        closed.updatedAt = min(now, received.addingTimeInterval(Double(Int.random(in: 3_600...(40 * 86_400), using: &random))))
        closed.version = 6
        if instrument.isPreservationOnly {
            closed.outcome = .preserved
        } else if isEmergency && Int.random(in: 0..<100, using: &random) < 8 {
            // An emergency request that failed its second check (legal-rules.md §6): never answered.
            closed.checks = [VerificationCheck(name: "issuer callback", passed: false, note: "number from the directory did not confirm", by: "intake", at: received)]
            closed.outcome = .rejected
        } else if customer?.kind == .enterprise && Int.random(in: 0..<100, using: &random) < 45 {
            // C4: most enterprise demands end with the requester sent to the customer.
            closed.redirect = .approachingCustomer
            closed.outcome = pick([(CaseOutcome.redirected, 8), (.withdrawn, 2)], using: &random)
        } else {
            closed.outcome = pick(
                [(wantsContent ? CaseOutcome.content : .nonContent, 45), (.nonContent, 20), (.noData, 17), (.rejected, 15), (.withdrawn, 3)],
                using: &random)
            if closed.outcome == .rejected && Int.random(in: 0..<100, using: &random) < 20 {
                closed.challenge = Challenge(
                    kind: .motionToQuash, court: "court of the issuing authority", grounds: "overbroad", filedAt: received.addingTimeInterval(86_400),
                    deadline: nil, filedBy: "reviewer")
                closed.challenge?.demandUpheld = false
                closed.challenge?.decidedAt = closed.updatedAt
            }
        }
        if closed.outcome == .content || closed.outcome == .nonContent {
            // Released a little before the case was closed.
            closed.releasedAt = max(received, closed.updatedAt.addingTimeInterval(-Double(Int.random(in: 0...86_400, using: &random))))
        }
        closed.closingReason = "synthetic case (custos demo load --scale)"
        let notice: (state: CustomerNoticeState, bar: NoticeBarKind)? = customer.map { _ in
            switch gag {
            case .none: (.sent, .none)
            case .some(let order) where order.isIndefinite: (.held, .indefinite)
            case .some: (.sent, .dated)
            }
        }
        return ScaleCase(demand: demand, closed: closed, fact: ReportFact.closed(closed, demand: demand, notice: notice)!)
    }
}

extension ScaleCases {
    /// Cases written per transaction.
    static let batchSize = 2_000
    static let customerCount = 300

    public struct LoadResult: Sendable {
        public var cases: Int
        public var period: ReportPeriod
        public var seconds: Double
    }

    /// Loads the demo set if needed, then `count` generated closed cases received in `period`
    /// (by default the last finished half-year). The next batch is generated and encoded while
    /// the previous one is written.
    public static func load(_ count: Int, in period: ReportPeriod? = nil, into services: CustosServices) async throws -> LoadResult {
        precondition(count > 0)
        let started = ContinuousClock.now
        try await DemoData.load(into: services)
        let now = services.now()
        let period = period ?? ReportPeriod.halfYear(containing: now).halfYears(endingHere: 2)[0]
        let submitters = try await ensureSubmitters(services)
        let tenants = try await ensureCustomers(services)
        let store = ScaleCaseStore(store: services.database)
        let numbers = try await store.reserveCaseNumbers(count, at: now)
        let closingBefore = max(now, period.end)

        @Sendable func batch(_ index: Int) throws -> ScaleCaseStore.EncodedBatch {
            var random = SystemRandomNumberGenerator()
            let range = (index * batchSize)..<min(count, (index + 1) * batchSize)
            return try ScaleCaseStore.encode(range.map { offset in
                closedCase(number: numbers[offset], in: period, closingBefore: closingBefore, submitters: submitters, tenants: tenants, using: &random)
            })
        }
        let batches = (count + batchSize - 1) / batchSize
        var next = Task { try batch(0) }
        for index in 0..<batches {
            let current = try await next.value
            if index + 1 < batches { next = Task { try batch(index + 1) } }
            try await store.insert(current, by: "demo:scale", at: now)
        }
        return LoadResult(cases: count, period: period, seconds: (ContinuousClock.now - started) / .seconds(1))
    }

    /// One requester agency and user per country of `requesters`, created once.
    static func ensureSubmitters(_ services: CustosServices) async throws -> [String: Submitter] {
        var submitters: [String: Submitter] = [:]
        for requester in requesters {
            let name = "Demo authority (\(requester.country))"
            let email = "requests-\(requester.country.lowercased())@authority.example"
            if let agency = try await services.directory.findAgency(named: name), let user = try await services.identity.findPrincipal(email: email) {
                submitters[requester.country] = Submitter(agencyID: agency.id, principalID: user.id, name: name)
                continue
            }
            let agency = Agency(id: UUID(), name: name, country: requester.country, kind: .lawEnforcement)
            try await services.directory.createAgency(agency)
            // Nobody logs in as these users: the password is random and never shown.
            let user = Principal(id: UUID(), email: email, displayName: "Requests desk, \(name)", kind: .agency, agencyID: agency.id)
            try await services.identity.createPrincipal(user, passwordHash: try await Passwords.hash(UUID().uuidString + UUID().uuidString), at: services.now())
            submitters[requester.country] = Submitter(agencyID: agency.id, principalID: user.id, name: name)
        }
        return submitters
    }

    /// `customerCount` customers, a quarter of them enterprises, created once.
    static func ensureCustomers(_ services: CustosServices) async throws -> [CustomerLink] {
        var links: [CustomerLink] = []
        let locations = ["US", "DE", "IE", "FR", "US", "NL"]
        for index in 1...customerCount {
            let name = String(format: "Demo customer %03d", index)
            let tenant: Tenant
            if let existing = try await services.directory.findTenant(named: name) {
                tenant = existing
            } else {
                tenant = Tenant(
                    id: UUID(), name: name, kind: index % 4 == 0 ? .enterprise : .consumer, country: locations[index % locations.count],
                    dataLocation: locations[(index / 3) % locations.count])
                try await services.directory.createTenant(tenant)
            }
            links.append(CustomerLink(
                tenantID: tenant.id, tenantName: tenant.name, kind: tenant.kind, isUnlinkedService: false, country: tenant.country,
                residence: tenant.residence, dataLocation: tenant.dataLocation))
        }
        return links
    }
}
