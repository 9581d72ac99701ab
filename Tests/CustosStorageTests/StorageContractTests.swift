import CustosDomain
@testable import CustosStorage
import FluentSQL
import Foundation
import Logging
import MerkleLog
import NIOConcurrencyHelpers
import Testing

/// One contract suite for the storage layer, run on SQLite always and on PostgreSQL whenever
/// `CUSTOS_TEST_POSTGRES_URL` is set (the README's test command sets it).
@Suite(.serialized) struct StorageContractTests {
    static var locations: [DatabaseLocation] {
        var all: [DatabaseLocation] = [.sqliteInMemory]
        if let url = ProcessInfo.processInfo.environment["CUSTOS_TEST_POSTGRES_URL"], !url.isEmpty { all.append(.postgres(url: url)) }
        return all
    }

    static let t0 = Timestamp.parse("2026-05-04T09:00:00Z")!

    /// A freshly migrated, empty database with one agency, one consumer tenant and one officer.
    struct World {
        let database: CustosDatabase
        let cases: SQLCaseRepository
        let directory: SQLDirectoryRepository
        let identity: SQLIdentityRepository
        let officer: Principal
        let reviewer: Principal
    }

    static func withWorld(_ location: DatabaseLocation, _ body: (World) async throws -> Void) async throws {
        let database = try CustosDatabase(location: location, logger: Logger(label: "test"))
        if location.isPostgres {
            try? await database.revertAll()  // start from an empty schema
        }
        try await database.migrate()
        let directory = SQLDirectoryRepository(store: database)
        let identity = SQLIdentityRepository(store: database)
        let agency = Agency(id: UUID(), name: "Test Agency", country: "US", kind: .lawEnforcement)
        try await directory.createAgency(agency)
        let tenant = Tenant(id: UUID(), name: "Alice", kind: .consumer, country: "DE", residence: "FR", dataLocation: "IE")
        try await directory.createTenant(tenant, accounts: [CustomerAccount(id: UUID(), tenantID: tenant.id, accountID: "acct-1", email: "alice@example.com")])
        let officer = Principal(id: UUID(), email: "officer@agency.example", displayName: "Officer", kind: .agency, agencyID: agency.id)
        let reviewer = Principal(id: UUID(), email: "reviewer@provider.example", displayName: "Reviewer", kind: .staff, roles: [.reviewer])
        try await identity.createPrincipal(officer, passwordHash: "x", at: t0)
        try await identity.createPrincipal(reviewer, passwordHash: "x", at: t0)
        do {
            try await body(World(database: database, cases: SQLCaseRepository(store: database), directory: directory, identity: identity, officer: officer, reviewer: reviewer))
        } catch {
            await database.shutdown()
            throw error
        }
        await database.shutdown()
    }

    static func accepted(for officer: Principal, reference: String = "REF-1") throws -> AcceptedDemand {
        try Demand.validate(
            DemandDraft(
                instrument: "us.subpoena", jurisdiction: "US", issuingAuthority: .init(name: "AUSA", role: "prosecutor"),
                caseReference: reference, receivedAt: "2026-05-04T08:00:00Z", targets: [.init(type: "email", value: "alice@example.com")],
                categories: ["subscriber_info"]),
            uploads: [DocumentUpload(filename: "s.pdf", mediaType: "application/pdf", bytes: Data("%PDF".utf8), field: "document")],
            limits: DemandLimits(), agencyID: officer.agencyID!, submittedBy: officer.id, now: t0, makeID: { UUID() })
    }

    /// Intake looks up only the blocklist entries its sender could match; the verdict is the one
    /// the whole list gives, for entries of this installation and of another's hashed feed.
    @Test(arguments: locations)
    func aSenderIsCheckedAgainstOnlyTheEntriesItCouldMatch(location: DatabaseLocation) async throws {
        try await Self.withWorld(location) { world in
            let blocklist = BlocklistStore(store: world.database)
            try await blocklist.add(BlocklistEntry(kind: .domain, value: "agency-example.com"), reason: "forged", by: "test", at: Self.t0)
            try await blocklist.add(BlocklistEntry(kind: .address, value: "chief@police.example"), reason: "taken over", by: "test", at: Self.t0)
            try await blocklist.replaceFeed(
                source: "peer", entries: [BlocklistEntry(kind: .domain, value: "fbi-gov.net").hashed, BlocklistEntry(kind: .domain, value: "unrelated.org")],
                issuedAt: Self.t0, by: "test", at: Self.t0)
            let everything = try await blocklist.all()
            #expect(everything.count == 4)
            for sender in ["a@agency-example.com", "x@mail.agency-example.com", "chief@police.example", "deputy@police.example", "s@fbi-gov.net", "s@x.fbi-gov.net", "ok@fbi.gov", "a@unrelated.org.evil.example"] {
                let found = try await blocklist.entries(matching: BlocklistFeed.candidates(for: sender))
                #expect(found.count <= 2 && Set(found).isSubset(of: Set(everything)), "\(sender): \(found)")
                #expect(BlocklistFeed.match(sender, in: found) == BlocklistFeed.match(sender, in: everything), "\(sender)")
            }
            #expect(BlocklistFeed.match("s@x.fbi-gov.net", in: try await blocklist.entries(matching: BlocklistFeed.candidates(for: "s@x.fbi-gov.net"))) != nil)
        }
    }

    /// Intake reads only the directory's domains for the look-alike check, and a change to the
    /// directory (here through another repository instance, as a CLI import in another process
    /// would be) is seen at the next read.
    @Test(arguments: locations)
    func theLookAlikeCheckSeesEveryDirectoryDomainAndItsChanges(location: DatabaseLocation) async throws {
        try await Self.withWorld(location) { world in
            let first = try await world.directory.domainDirectory()
            #expect(first.imitated(by: "fbi-gov.com") == nil, "no FBI in the directory yet")
            let fbi = Agency(id: UUID(), name: "FBI", country: "US", kind: .lawEnforcement, domains: ["fbi.gov", "ic.fbi.gov"])
            try await SQLDirectoryRepository(store: world.database).createAgency(fbi)
            let second = try await world.directory.domainDirectory()
            #expect(second.imitated(by: "fbi-gov.com") == "fbi.gov" && second.imitated(by: "field.fbi.gov") == nil)
            #expect(try await world.directory.domainDirectory() == second, "unchanged: the prepared form is reused")
            var renamed = fbi
            renamed.domains = ["fbi.example"]
            try await SQLDirectoryRepository(store: world.database).updateAgency(renamed, by: "test", at: Self.t0)
            #expect(try await world.directory.domainDirectory().imitated(by: "fbi-gov.com") == nil)
        }
    }

    @Test(arguments: locations)
    func theAssessmentAndTheCustomerFactsItRestsOnSurviveStorage(location: DatabaseLocation) async throws {
        try await Self.withWorld(location) { world in
            // setup
            let customer = try #require(try await world.directory.resolveCustomer(for: [Target(type: .email, value: "alice@example.com")]))
            #expect(customer.country == "DE" && customer.residence == "FR" && customer.dataLocation == "IE")
            let accepted = try Self.accepted(for: world.officer)
            let assessment = try Rulebook.bundled().assess(accepted.demand, customer: CustomerFacts(customer), at: Self.t0)
            // when
            let submission = try await world.cases.submit(accepted, idempotencyKey: nil, requestHash: "h", customer: customer, assessment: assessment, at: Self.t0, by: world.officer)
            // then: read back equal, deadlines to the millisecond, and recorded in the chained audit log
            let stored = try #require(try await world.cases.findCase(id: submission.caseRecord.id))
            #expect(stored.assessment == assessment)
            #expect(stored.dueAt == assessment.deadlines.first { $0.kind == "production" }?.due)
            let timeline = try await world.cases.timeline(caseID: stored.id)
            #expect(timeline.map(\.record.action) == ["demand.received", "case.opened", "case.assessed"])
            try AuditChain.verify(try await world.cases.auditTrail())
        }
    }

    @Test(arguments: locations)
    func submitStoresDemandCaseDocumentAndAuditTogether(location: DatabaseLocation) async throws {
        try await Self.withWorld(location) { world in
            // when
            let customer = try await world.directory.resolveCustomer(for: [Target(type: .email, value: "alice@example.com")])
            let submission = try await world.cases.submit(try Self.accepted(for: world.officer), idempotencyKey: nil, requestHash: "h", customer: customer, assessment: nil, at: Self.t0, by: world.officer)
            // then
            #expect(submission.caseRecord.number == "C-2026-00001")
            #expect(submission.caseRecord.customer?.tenantName == "Alice")
            #expect(try await world.cases.findCase(id: submission.caseRecord.id) == submission.caseRecord)
            #expect(try await world.cases.findDemand(id: submission.demand.id) == submission.demand)
            let document = try #require(try await world.cases.findDocument(id: submission.demand.documents[0].id))
            #expect(document.bytes == Data("%PDF".utf8))
            let timeline = try await world.cases.timeline(caseID: submission.caseRecord.id)
            #expect(timeline.map(\.record.action) == ["demand.received", "case.opened"])
            try AuditChain.verify(try await world.cases.auditTrail())
        }
    }

    @Test(arguments: locations)
    func idempotencyKeyReplaysAndRejectsADifferentBody(location: DatabaseLocation) async throws {
        try await Self.withWorld(location) { world in
            let first = try await world.cases.submit(try Self.accepted(for: world.officer), idempotencyKey: "k1", requestHash: "h1", customer: nil, assessment: nil, at: Self.t0, by: world.officer)
            let again = try await world.cases.submit(try Self.accepted(for: world.officer), idempotencyKey: "k1", requestHash: "h1", customer: nil, assessment: nil, at: Self.t0, by: world.officer)
            #expect(again.isReplay)
            #expect(again.demand.id == first.demand.id)
            await #expect(throws: StorageError.idempotencyMismatch) {
                try await world.cases.submit(try Self.accepted(for: world.officer), idempotencyKey: "k1", requestHash: "other", customer: nil, assessment: nil, at: Self.t0, by: world.officer)
            }
            #expect(try await world.cases.listDemands(agencyID: world.officer.agencyID!, limit: 100, before: nil).demands.count == 1)
        }
    }

    @Test(arguments: locations)
    func acceptedAndRefusedEventsAreAuditedAndChained(location: DatabaseLocation) async throws {
        try await Self.withWorld(location) { world in
            let submission = try await world.cases.submit(try Self.accepted(for: world.officer), idempotencyKey: nil, requestHash: "h", customer: nil, assessment: nil, at: Self.t0, by: world.officer)
            let id = submission.caseRecord.id
            // when: an accepted event, then a refused one
            let reviewed = try await world.cases.apply(.beginReview, toCase: id, at: Self.t0.addingTimeInterval(10), by: world.reviewer.actor)
            await #expect(throws: WorkflowRefusal.self) {
                try await world.cases.apply(.release, toCase: id, at: Self.t0.addingTimeInterval(20), by: world.reviewer.actor)
            }
            let asked = try await world.cases.apply(.askAgency(question: "Which account?"), toCase: id, at: Self.t0.addingTimeInterval(30), by: world.reviewer.actor)
            // then
            #expect(reviewed.state == .inReview)
            #expect(asked.state == .awaitingAgency)
            #expect(try await world.cases.findCase(id: id)?.state == .awaitingAgency)
            let timeline = try await world.cases.timeline(caseID: id)
            // Entering review plans the customer notice in the same transaction (C5); with no customer matched it records why none is possible.
            #expect(timeline.map(\.record.action) == ["demand.received", "case.opened", "case.begin_review", "notice.not_possible", "case.release", "case.ask_agency"])
            #expect(timeline[4].record.outcome == .refused)
            #expect(try await world.cases.pendingAgencyMessages().map(\.subject) == ["Clarification requested"])
            try AuditChain.verify(try await world.cases.auditTrail())
            await #expect(throws: StorageError.self) {
                try await world.cases.apply(.beginReview, toCase: UUID(), at: Self.t0, by: world.reviewer.actor)
            }
        }
    }

    @Test(arguments: locations)
    func sessionsExpireAndTokensAreStoredHashedAndRevocable(location: DatabaseLocation) async throws {
        try await Self.withWorld(location) { world in
            let (cookie, csrf) = try await world.identity.startSession(for: world.reviewer.id, at: Self.t0, lifetime: 60)
            #expect(try await world.identity.session(cookie: cookie, at: Self.t0.addingTimeInterval(30))?.csrfToken == csrf)
            #expect(try await world.identity.session(cookie: cookie, at: Self.t0.addingTimeInterval(61)) == nil)
            let (tokenID, token) = try await world.identity.issueToken(for: world.officer.id, label: "t", at: Self.t0)
            // The token's principal is read whole (one joined query): every field as created.
            #expect(try await world.identity.principal(forToken: token) == world.officer)
            #expect(try await world.identity.principal(forToken: token + "x") == nil)
            let (_, staffToken) = try await world.identity.issueToken(for: world.reviewer.id, label: "s", at: Self.t0)
            let staff = try #require(try await world.identity.principal(forToken: staffToken))
            #expect(staff == world.reviewer && staff.roles == [.reviewer])
            try await world.identity.revokeToken(id: tokenID, at: Self.t0)
            #expect(try await world.identity.principal(forToken: token) == nil)
            // A disabled principal's tokens no longer let anyone in.
            try await world.database.sql.raw("UPDATE principals SET is_disabled = \(bind: true) WHERE id = \(bind: world.reviewer.id)").run()
            #expect(try await world.identity.principal(forToken: staffToken) == nil)
        }
    }

    @Test(arguments: locations)
    func intakeReadsARequestersStandingAndAccountDatesInOneGo(location: DatabaseLocation) async throws {
        try await Self.withWorld(location) { world in
            let officer = world.officer.id
            #expect(try await world.identity.requesterFacts(principalID: officer) == .init(standing: .active, mayRequestEmergency: false, registeredAt: Self.t0))
            #expect(try await world.identity.requesterFacts(principalID: UUID()) == nil)
            let reset = Self.t0.addingTimeInterval(3_600)
            try await world.identity.resetPassword(principalID: officer, passwordHash: "y", by: "staff:admin", at: reset)
            try await world.identity.setStanding(principalID: officer, .suspended, mayRequestEmergency: true, reason: "test", by: "staff:admin", at: reset)
            let facts = try #require(try await world.identity.requesterFacts(principalID: officer))
            #expect(facts == .init(standing: .suspended, mayRequestEmergency: true, registeredAt: Self.t0, credentialsResetAt: reset))
            // The same standing as the full status, which also carries the history.
            let status = try #require(try await world.identity.requesterStatus(principalID: officer))
            #expect(status.standing == facts.standing && status.mayRequestEmergency == facts.mayRequestEmergency && status.history.count == 1)
        }
    }

    @Test(arguments: locations)
    func targetsOnAnUnlinkedServiceResolveAsUnlinked(location: DatabaseLocation) async throws {
        try await Self.withWorld(location) { world in
            // C5's exception: data of an unlinked service is tied to no customer, so no notice is possible.
            let tenant = Tenant(id: UUID(), name: "Relay users", kind: .consumer)
            let service = CustomerService(id: UUID(), tenantID: tenant.id, name: "Relay", isUnlinked: true)
            try await world.directory.createTenant(
                tenant, services: [service],
                accounts: [CustomerAccount(id: UUID(), tenantID: tenant.id, accountID: "relay-1", email: "Relay@Example.net", serviceID: service.id)])
            let link = try await world.directory.resolveCustomer(for: [Target(type: .phone, value: "+1"), Target(type: .email, value: "relay@example.net")])
            #expect(link?.tenantID == tenant.id)
            #expect(link?.isUnlinkedService == true)
            #expect(try await world.directory.resolveCustomer(for: [Target(type: .accountID, value: "acct-1")])?.isUnlinkedService == false)
            #expect(try await world.directory.resolveCustomer(for: [Target(type: .email, value: "nobody@example.org")]) == nil)
        }
    }

    @Test(arguments: locations)
    func queueLimitKeepsTheMostUrgentCasesAndOpenOnlyDropsClosedOnes(location: DatabaseLocation) async throws {
        try await Self.withWorld(location) { world in
            var ids: [UUID] = []
            for index in 0..<3 {
                let submission = try await world.cases.submit(
                    try Self.accepted(for: world.officer, reference: "R\(index)"), idempotencyKey: nil, requestHash: "h\(index)", customer: nil, assessment: nil,
                    at: Self.t0.addingTimeInterval(Double(index)), by: world.officer)
                ids.append(submission.caseRecord.id)
            }
            // All share a due date by receipt, so the oldest opened comes first; the limit cuts the newest.
            let firstTwo = try await world.cases.listCases(CaseFilter(limit: 2))
            #expect(firstTwo.map(\.id) == Array(ids.prefix(2)))
            _ = try await world.cases.apply(.withdraw(reason: nil), toCase: ids[0], at: Self.t0.addingTimeInterval(10), by: world.officer.actor)
            #expect(try await world.cases.listCases(CaseFilter(openOnly: true)).map(\.id) == Array(ids.suffix(2)))
            let listed = try await world.cases.listDemands(agencyID: world.officer.agencyID!, limit: 100, before: nil)
            #expect(listed.demands.map(\.demand.caseReference) == ["R2", "R1", "R0"] && listed.next == nil)
            #expect(listed.demands.last?.caseRecord.outcome == .withdrawn)
            // A page of two, then the rest from where it ended.
            let newest = try await world.cases.listDemands(agencyID: world.officer.agencyID!, limit: 2, before: nil)
            #expect(newest.demands.map(\.demand.caseReference) == ["R2", "R1"])
            let rest = try await world.cases.listDemands(agencyID: world.officer.agencyID!, limit: 2, before: try #require(newest.next))
            #expect(rest.demands.map(\.demand.caseReference) == ["R0"] && rest.next == nil)
        }
    }

    /// C1: a case that closes yields its report fact in the same transaction; open cases none.
    @Test(arguments: locations)
    func aClosingCaseRecordsItsReportFact(location: DatabaseLocation) async throws {
        try await Self.withWorld(location) { world in
            let reports = ReportFactStore(store: world.database)
            let demand = try Self.accepted(for: world.officer)
            let opened = try await world.cases.submit(demand, idempotencyKey: nil, requestHash: "h", customer: nil, assessment: nil, at: Self.t0, by: world.officer)
            let period = try ReportPeriod(parsing: "2026-H1")
            #expect(try await reports.facts(in: period).isEmpty)
            _ = try await world.cases.apply(.withdraw(reason: "no longer needed"), toCase: opened.caseRecord.id, at: Self.t0.addingTimeInterval(60), by: world.officer.actor)
            let facts = try await reports.facts(in: period)
            #expect(facts.count == 1)
            #expect(facts.first?.id == opened.caseRecord.id.uuidString.lowercased())
            #expect(facts.first?.outcome == .withdrawn && facts.first?.country == "US" && facts.first?.instrument == "us.subpoena")
            #expect(facts.first?.receivedAt == demand.demand.receivedAt && facts.first?.accounts == 1)
            // A case handled here records its details; this one had no gag order and no notice.
            #expect(facts.first?.details == ReportCaseDetails(nonDisclosure: nil, notice: nil, challenge: nil, emergencyVerificationFailed: false, cloudAct: false))
            #expect(try await reports.groups(in: period).first?.details == facts.first?.details)
            let affected = try await reports.affected(in: period)
            #expect(facts.first?.tenantID == nil && affected.accounts == 1 && affected.tenants == 0)
        }
    }

    /// The historical import is idempotent by id, refuses a changed fact as a whole, and audits.
    @Test(arguments: locations)
    func historicalImportIsIdempotentAndAudited(location: DatabaseLocation) async throws {
        try await Self.withWorld(location) { world in
            let reports = ReportFactStore(store: world.database)
            let facts = (0..<1200).map { index in
                ReportFact(
                    id: "hist-\(index)", receivedAt: Self.t0.addingTimeInterval(Double(index)), country: index % 3 == 0 ? "DE" : "US",
                    section: .criminal, instrument: "us.subpoena", tenantKind: .consumer, accounts: 1 + index % 4,
                    outcome: index % 2 == 0 ? .nonContent : .rejected)
            }
            #expect(try await reports.importFacts(facts, fileSHA256: "aa", by: "cli", at: Self.t0) == .init(inserted: 1200, unchanged: 0))
            #expect(try await reports.importFacts(facts, fileSHA256: "aa", by: "cli", at: Self.t0) == .init(inserted: 0, unchanged: 1200))
            var changed = facts
            changed[5].accounts = 99
            changed.append(ReportFact(id: "hist-new", receivedAt: Self.t0, country: "FR", section: .civil, instrument: "other", tenantKind: .enterprise, accounts: 1, outcome: .noData))
            await #expect(throws: ReportFactStore.Conflict.self) { try await reports.importFacts(changed, fileSHA256: "bb", by: "cli", at: Self.t0) }
            #expect(try await reports.count() == 1200, "a refused import stores nothing")
            let period = try ReportPeriod(parsing: "2026-H1")
            let stored = try await reports.facts(in: period)
            #expect(stored.count == 1200 && Set(stored) == Set(facts))
            // The database's GROUP BY gives exactly the groups the domain computes from the facts.
            #expect(Set(try await reports.groups(in: period)) == Set(ReportGroup.groups(of: facts, in: period)))
            #expect(Set(try await reports.counts(in: period).groups) == Set(ReportGroup.groups(of: facts, in: period)))
            let imports = try await world.cases.auditTrail().filter { $0.record.action == "report.imported" }
            #expect(imports.map { $0.record.details["inserted"] } == ["1200", "0"])
        }
    }

    /// A time as storage keeps it: whole milliseconds since 1970.
    static func millisecondsAfter(_ date: Date, _ milliseconds: Int) -> Date {
        Date(timeIntervalSince1970: Double(Int64((date.timeIntervalSince1970 * 1000).rounded()) + Int64(milliseconds)) / 1000)
    }

    /// The DSA times and category round-trip, and the database counts the orders by Member State,
    /// category and whole hours exactly as the domain does (milliseconds, rounding, the one-hour rule).
    @Test(arguments: locations)
    func dsaTimingsMatchTheDomain(location: DatabaseLocation) async throws {
        try await Self.withWorld(location) { world in
            let reports = ReportFactStore(store: world.database)
            let countries = ["DE", "GR", "FR", "US", "IE"]
            let categories: [String?] = [nil, "STATEMENT_CATEGORY_SCAMS_AND_FRAUD", "STATEMENT_CATEGORY_PROTECTION_OF_MINORS"]
            let facts = (0..<600).map { index in
                let received = Self.t0.addingTimeInterval(Double(index * 37))
                // Times around the rounding edges: 0, just under and over one hour, halves.
                let ack = [0, 3_599_999, 3_600_000, 3_600_001, 5_400_000, 86_399_000][index % 6]
                let outcome: ReportOutcome = [.content, .nonContent, .noData, .rejected][index % 4]
                return ReportFact(
                    id: "dsa-\(index)", receivedAt: received, country: countries[index % countries.count], section: index % 7 == 0 ? .civil : .criminal,
                    instrument: index % 13 == 0 ? "us.nsl" : "eu.epoc", tenantKind: .consumer, accounts: 1 + index % 3, outcome: outcome,
                    isNationalSecurity: index % 13 == 0,
                    details: index % 4 == 0 ? nil : ReportCaseDetails(
                        nonDisclosure: nil, notice: .sent, challenge: nil, emergencyVerificationFailed: false, cloudAct: false,
                        redFlags: index % 3 == 0 ? "new_requester" : nil),
                    tenantID: index % 5 == 0 ? nil : "t-\(index % 9)", acknowledgedAt: index % 11 == 0 ? nil : Self.millisecondsAfter(received, ack),
                    effectAt: outcome.gaveEffect ? Self.millisecondsAfter(received, index % 50 * 1_799_500) : nil, dsaCategory: categories[index % 3])
            }
            _ = try await reports.importFacts(facts, fileSHA256: "dsa", by: "cli", at: Self.t0)
            let period = try ReportPeriod(parsing: "2026-H1")
            #expect(Set(try await reports.facts(in: period)) == Set(facts))
            let stored = try await reports.dsaTimings(in: period)
            #expect(Set(stored) == Set(DSAOrders.timings(of: facts, in: period)))
            #expect(stored.reduce(0) { $0 + $1.orders } == facts.filter(\.isDSAOrder).count && !stored.contains { $0.country == "US" })
            // The one-pass tally (SQLite) or the queries (PostgreSQL) count exactly what the domain does.
            let counts = try await reports.counts(in: period)
            let expected = ReportTally.counts(of: facts, in: period)
            #expect(Set(counts.groups) == Set(expected.groups) && Set(counts.dsaTimings) == Set(expected.dsaTimings))
            #expect(counts.accountsSpecified == expected.accountsSpecified && counts.tenantsAffected == expected.tenantsAffected)
        }
    }

    /// An installation from before the Merkle logs (migration 011) and the sequence key (012):
    /// its audit entries, written in the old shape with UUID keys, keep their order, content and
    /// chain, become the audit log's first leaves, and new appends continue after them.
    @Test(arguments: locations)
    func auditTrailSurvivesTheUpgradeToTheSequenceKey(location: DatabaseLocation) async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("custos-upgrade-\(UUID())")
        defer { try? FileManager.default.removeItem(at: folder) }
        let location = location.isPostgres ? location : .sqliteFile(path: folder.appendingPathComponent("custos.sqlite").path)
        let old = try CustosDatabase(location: location, logger: Logger(label: "test"), migrations: Array(CustosDatabase.migrations.prefix(10)))
        let scratch = try CustosDatabase(location: location, logger: Logger(label: "test"))
        try? await scratch.revertAll()  // a shared PostgreSQL database starts empty
        await scratch.shutdown()
        try await old.migrate()
        var written: [AuditEntry] = []
        let sql = old.database as! any SQLDatabase
        for index in 0..<5 {
            let record = AuditRecord(
                caseID: index == 2 ? nil : UUID(), subject: "case:\(index)", action: "case.event\(index)", actor: "staff:a \"q\"",
                at: Self.t0.addingTimeInterval(Double(index)), details: ["n": "\(index)"])
            let entry = try AuditChain.append(record, after: written.last.map { ($0.sequence, $0.hash) })
            try await sql.raw("""
                INSERT INTO audit_entries (id, sequence, case_id, subject, action, outcome, actor, at, body, previous_hash, hash)
                VALUES (\(bind: UUID()), \(bind: entry.sequence), \(bind: record.caseID), \(bind: record.subject), \(bind: record.action),
                \(bind: record.outcome.rawValue), \(bind: record.actor), \(bind: record.at), \(bind: try CustosJSON.string(record)),
                \(bind: entry.previousHash), \(bind: entry.hash))
                """).run()
            written.append(entry)
        }
        try await sql.raw("UPDATE counters SET value = 5, text_value = \(bind: written.last!.hash) WHERE name = 'audit'").run()
        await old.shutdown()

        let database = try CustosDatabase(location: location, logger: Logger(label: "test"))
        try await database.migrate()
        let cases = SQLCaseRepository(store: database)
        #expect(try await cases.auditTrail() == written)
        let next = AuditRecord(caseID: nil, subject: "case:5", action: "case.event5", actor: "staff:b", at: Self.t0.addingTimeInterval(5))
        try await cases.record(next)
        let trail = try await cases.auditTrail()
        #expect(trail.map(\.sequence) == [1, 2, 3, 4, 5, 6])
        #expect(throws: Never.self) { try AuditChain.verify(trail) }
        // Every entry is a leaf, and the stored tree is the RFC 6962 tree of exactly those leaves.
        let logs = MerkleLogStore(store: database)
        let leaves = try await logs.auditLeafInputs(afterSequence: 0, limit: 100)
        #expect(leaves.map(\.sequence) == [1, 2, 3, 4, 5, 6])
        let head = try await logs.head(.audit)
        #expect(head.size == 6 && head.root == MerkleHash.root(ofLeaves: leaves.map(\.leaf)))
        await database.shutdown()
    }

    /// Verification reads the audit trail as packed pages (on SQLite one aggregated row per page):
    /// they must hold exactly the stored entries, skip none at a gap, and read on after a gap
    /// larger than a page. The stored leaf hashes come back as a run that stops at a missing one.
    @Test(arguments: locations)
    func packedAuditPagesHoldExactlyTheStoredEntries(location: DatabaseLocation) async throws {
        try await Self.withWorld(location) { world in
            let records = (0..<40).map { number in
                AuditRecord(caseID: nil, subject: "case:\(number)", action: "case.note", actor: "staff:a\(number)", at: Self.t0.addingTimeInterval(Double(number)),
                    details: ["text": String(repeating: "é", count: number)])
            }
            try await world.cases.record(records)
            let logs = MerkleLogStore(store: world.database)
            // The page's leaves must give the root of the tree the append path stored.
            let whole = try await logs.auditEntryPage(afterSequence: 0, limit: 1000)
            let leaves = (0..<whole.count).map { whole.leaf($0) }
            #expect(whole.sequences == Array(1...whole.count) && whole.count >= records.count)
            #expect(MerkleHash.root(ofLeaves: leaves) == (try await logs.head(.audit)).root)
            #expect(whole.leafHashes(0..<whole.count) == leaves.flatMap { Array(MerkleHash.leaf($0)) })
            let middle = try await logs.auditEntryPage(afterSequence: 10, limit: 5)
            #expect(middle.sequences == [11, 12, 13, 14, 15])
            #expect((0..<5).map { middle.leaf($0) } == Array(leaves[10..<15]))
            #expect(try await logs.auditEntryPage(afterSequence: whole.count, limit: 5).count == 0)

            let stored = try await logs.leafHashRun(.audit, from: 0, count: whole.count)
            #expect(stored == leaves.flatMap { Array(MerkleHash.leaf($0)) })
            // A gap: the page around it lacks the missing entries, and a page that starts inside
            // a gap wider than itself starts at the next stored entry.
            let sql = world.database.database as! any SQLDatabase
            try await sql.raw("DELETE FROM audit_entries WHERE sequence BETWEEN 20 AND 30").run()
            try await sql.raw("DELETE FROM log_nodes WHERE log = 1 AND node_key = 25").run()
            let gapped = try await logs.auditEntryPage(afterSequence: 15, limit: 20)
            #expect(gapped.sequences == [16, 17, 18, 19, 31, 32, 33, 34, 35])
            #expect(try await logs.auditEntryPage(afterSequence: 20, limit: 3).sequences.first == 31)
            #expect(try await logs.leafHashRun(.audit, from: 20, count: 10) == Array(stored[20 * 32..<25 * 32]))
        }
    }

    @Test func packedListsOfNumbersAreReadStrictly() throws {
        #expect(try AuditEntryPage.decimals("") == [])
        #expect(try AuditEntryPage.decimals("7") == [7])
        #expect(try AuditEntryPage.decimals("12,0,345") == [12, 0, 345])
        for bad in [",", "1,", ",1", "1,,2", "1;2", "-1", "1 ", "9999999999999999999"] {
            #expect(throws: StorageError.self, "\(bad)") { try AuditEntryPage.decimals(bad) }
        }
    }

    /// On a SQLite file, proofs and tiles read the log on a second, read-only connection: what is
    /// asked for while a write transaction holds the main connection is answered before that
    /// transaction ends, from committed rows only, and the reader is closed with the database.
    @Test func proofsAreReadBesideAnOpenWriteTransaction() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("custos-reader-\(UUID())")
        defer { try? FileManager.default.removeItem(at: folder) }
        let database = try CustosDatabase(location: .sqliteFile(path: folder.appendingPathComponent("custos.sqlite").path), logger: Logger(label: "test"))
        try await database.migrate()
        let logs = MerkleLogStore(store: database)
        let entries = (0..<100).map { Data("entry \($0)\n".utf8) }
        _ = try await logs.appendEntries(entries, to: .legalProcess)
        let head = try await logs.head(.legalProcess)
        let firstUncommitted = NodeID(height: 0, index: head.size)

        // The transaction appends a leaf and then holds the connection until the proof is answered
        // (or ten seconds pass); `open` says whether it was still running at that moment.
        let started = AsyncStream<Void>.makeStream()
        let answered = NIOLockedValueBox(false)
        let open = NIOLockedValueBox(true)
        let holder = Task {
            try await database.database.transaction { tx in
                try await MerkleLogStore.append(.legalProcess, leafHashes: [MerkleHash.leaf(Data("late\n".utf8))], entries: [Data("late\n".utf8)], on: tx, isPostgres: false)
                started.continuation.yield()
                for _ in 0..<1000 where !answered.withLockedValue({ $0 }) { try await Task.sleep(for: .milliseconds(10)) }
            }
            open.withLockedValue { $0 = false }
        }
        for await _ in started.stream { break }
        let proof = try await logs.inclusionProof(.legalProcess, index: 5, size: head.size)
        let uncommitted = try await logs.nodes(.legalProcess, [firstUncommitted])
        // Tiles come from the same reader: the committed entries and leaf hashes, not the new one.
        let tileEntries = try await logs.entries(.legalProcess, from: head.size - 2, count: 3)
        let tileHashes = try await logs.nodeRun(.legalProcess, height: 0, from: head.size - 2, count: 3)
        let answeredWhileOpen = open.withLockedValue { $0 }
        answered.withLockedValue { $0 = true }
        try await holder.value
        #expect(answeredWhileOpen)
        try ProofVerification.verifyInclusion(index: 5, size: head.size, leafHash: MerkleHash.leaf(entries[5]), proof: proof, root: head.root)
        #expect(uncommitted.isEmpty)
        #expect(tileEntries == Array(entries.suffix(2)))
        #expect(tileHashes == entries.suffix(2).map { MerkleHash.leaf($0) })
        #expect(try await logs.nodes(.legalProcess, [firstUncommitted]).count == 1)  // once committed, it is read

        await database.shutdown()
        #expect(try await database.logReader?.connection() == nil)
    }

    @Test(arguments: locations)
    func everyMigrationReverts(location: DatabaseLocation) async throws {
        let database = try CustosDatabase(location: location, logger: Logger(label: "test"))
        try? await database.revertAll()
        try await database.migrate()
        try await database.revertAll()
        try await database.migrate()  // and applies again cleanly
        await database.shutdown()
    }
}

extension DatabaseLocation: CustomTestStringConvertible {
    public var testDescription: String { isPostgres ? "PostgreSQL" : "SQLite" }
}

