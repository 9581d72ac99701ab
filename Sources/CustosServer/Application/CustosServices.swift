import CustosDomain
import CustosStorage
import CustosWeb
import Foundation
import Logging
import MerkleLog

/// Everything a controller needs, built once by `buildApplication` and shared read-only.
public struct CustosServices: Sendable {
    public private(set) var configuration: AppConfiguration
    public let database: CustosDatabase
    public let cases: SQLCaseRepository
    public let directory: SQLDirectoryRepository
    public let identity: SQLIdentityRepository
    /// TOTP secrets, recovery codes and sign-ins waiting for their code (issue 8).
    public let secondFactors: SecondFactorStore
    /// Self-registrations in the agency portal and the confirmation of their addresses.
    public let registrations: AgencyRegistrationStore
    /// Sign-in attempts per client address (the per-account lock is stored with the principal).
    public let signInLimiter: RateLimiter
    /// Customer notices (C5) and the delivery job queue.
    public let notices: NoticeStore
    public let jobs: SQLJobQueue
    /// The requester's expiring, revocable access to released packages (C3).
    public let packageLinks: PackageLinkStore
    /// Package builds (queued, progress, built) and retention tombstones.
    public let packages: PackageStore
    public let renderer: PageRenderer
    public let limits: DemandLimits
    /// The rulebook every demand is assessed against (issue 3).
    public let rulebook: Rulebook
    public let logger: Logger
    /// Where customer records for production packages come from (issue 5): the built-in demo store.
    public let demoRecords: DemoRecordStore
    /// The provider's connector when `CUSTOS_CONNECTOR_URL` is set, else the demo store.
    public var dataSource: any CustomerDataSource { dataSource(for: .production) }

    /// The source a package of `purpose` is built from (a connector is told which it is building).
    public func dataSource(for purpose: PackagePurpose) -> any CustomerDataSource {
        guard let url = configuration.connectorURL, !url.isEmpty else { return demoRecords }
        return ConnectorSource(url: url, key: signingKey, maxRecordBytes: configuration.connectorMaxRecordBytes, purpose: purpose, clock: now)
    }
    /// Signs production packages; its public half is at `/.well-known/custos/signing-key.pem`.
    public let signingKey: PackageSigningKey
    /// The audit and legal-process Merkle logs (issue 6), the sealed commitments, and their keys.
    public let logs: MerkleLogStore
    public let legalProcess: LegalProcessStore
    /// The transparency report's facts (issue 7).
    public let reports: ReportFactStore
    public let blocklist: BlocklistStore
    public let transparencyKeys: TransparencyKeys
    /// The installation's keyring and everything loaded from it (issue 28).
    public let keys: InstallationKeys
    /// This run of this server: who holds its job leases and its periodic jobs' leases.
    public let run: RunIdentity
    /// Who runs each periodic job now, across the installation, and which servers are alive.
    public let leases: Leases
    public let instanceRuns: InstanceRuns
    public let witnessPolicy: WitnessPolicy?
    /// Where packages and snapshots are stored (issue 28): the data folder, the database or S3.
    public let blobs: any BlobStore
    /// Staff sign-in through the provider's identity provider, when configured (issue 28).
    public let identityProvider: OpenIDProvider?
    public let externalIdentities: IdentityProviderStore
    /// The clock, truncated to milliseconds so stored times compare and hash identically.
    public let now: @Sendable () -> Date

    public init(
        configuration: AppConfiguration, database: CustosDatabase, rulebook: Rulebook, renderer: PageRenderer, logger: Logger,
        keys: InstallationKeys, demoRecords: DemoRecordStore, witnessPolicy: WitnessPolicy?, blobs: any BlobStore,
        identityProvider: OpenIDProvider? = nil, clock: @escaping @Sendable () -> Date
    ) {
        self.identityProvider = identityProvider
        self.externalIdentities = IdentityProviderStore(store: database)
        self.keys = keys
        self.blobs = blobs
        self.run = RunIdentity(instance: configuration.instanceName)
        self.leases = Leases(store: database)
        self.instanceRuns = InstanceRuns(store: database)
        self.transparencyKeys = keys.transparency
        self.witnessPolicy = witnessPolicy
        self.logs = MerkleLogStore(store: database)
        self.legalProcess = LegalProcessStore(store: database)
        self.reports = ReportFactStore(store: database)
        self.blocklist = BlocklistStore(store: database)
        self.signingKey = keys.signing
        self.demoRecords = demoRecords
        self.rulebook = rulebook
        self.configuration = configuration
        self.database = database
        self.cases = SQLCaseRepository(
            store: database, noticeReminderLead: TimeInterval(configuration.noticeReminderDays) * 86_400,
            packageLinkLifetime: TimeInterval(configuration.packageLinkDays) * 86_400,
            workflowPolicy: WorkflowPolicy(emergencyFollowUp: TimeInterval(configuration.emergencyFollowUpDays) * 86_400))
        self.packages = PackageStore(store: database)
        self.notices = NoticeStore(store: database)
        self.jobs = SQLJobQueue(store: database)
        self.packageLinks = PackageLinkStore(store: database)
        self.directory = SQLDirectoryRepository(store: database)
        self.identity = SQLIdentityRepository(store: database)
        self.secondFactors = SecondFactorStore(store: database)
        self.registrations = AgencyRegistrationStore(store: database)
        self.signInLimiter = RateLimiter(
            counters: RateCounters(store: database), name: "sign-in", limit: configuration.signInAttemptsPer10Minutes, window: 600)
        self.renderer = renderer
        self.limits = DemandLimits(maxDocumentBytes: configuration.maxDocumentBytes)
        self.logger = logger
        self.now = { Timestamp.truncatedToMilliseconds(clock()) }
    }

    /// Runs `work` only where this run holds the lease `name` (taken or renewed now for
    /// `duration`), so periodic work that must happen once per period (checkpoints, batches,
    /// notice release, retention, copyright deadlines) runs on one instance at a time; nil
    /// where another instance holds it. A holder that dies lets its lease run out and another takes over.
    public func asLeader<T: Sendable>(_ job: LeaderJob, for duration: TimeInterval, at time: Date, _ work: () async throws -> T) async throws -> T? {
        guard try await leases.acquire(job.rawValue, holder: run.runID, at: time, for: duration) else { return nil }
        return try await work()
    }

    /// Why this server should not get traffic now (`GET /ready`): the database does not answer, or
    /// a migration of this version has not run (an older schema, or another version migrating).
    /// Empty when ready. Keys are not asked again: a running server holds the keys it loaded, and
    /// after `keys rotate --master` every instance must stay in the balancer until restarted in
    /// turn (`custos_keyring_opens` in `/metrics` shows which still run on the old master key).
    public func readinessProblems() async -> [String] {
        do {
            return try await database.migrationsCurrent() ? [] : ["the database schema is not this version's: run the migrations"]
        } catch {
            return ["the database does not answer: \(error)"]
        }
    }

    /// A run silent this long is taken for dead: three missed heartbeats.
    public var staleAfter: TimeInterval { TimeInterval(configuration.heartbeatSeconds * 3) }

    /// Mail about people's own accounts: the SMTP relay, or `.eml` files in the data folder.
    public func accountMailer() throws -> AccountMailer {
        try AccountMailer(configuration: configuration, logger: logger)
    }

    /// The same services for a `serve --demo` server: code pages show the demo accounts' current code.
    public func showingDemoCodes() -> CustosServices {
        var copy = self
        copy.configuration.showsDemoCodes = true
        return copy
    }

    /// Closes both databases (the CLI and tests; `serve` closes them as services).
    public func shutdown() async {
        await database.shutdown()
        await demoRecords.database.shutdown()
    }

    /// Validates a draft, resolves the customer it concerns and stores demand + case atomically.
    func submitDemand(
        _ draft: DemandDraft, uploads: [DocumentUpload], by principal: Principal, credential: SubmissionCredential?, idempotencyKey: String?,
        requestHash: String
    ) async throws -> DemandSubmission {
        guard let agencyID = principal.agencyID else { throw Problem(.forbidden, detail: "only agency users submit demands") }
        let time = now()
        // Issue 8: only a requester in good standing submits; emergencies need the permission too.
        let requester = try await identity.requesterFacts(principalID: principal.id)
        if let refusal = (requester?.standing ?? .suspended).refusal(
            emergency: draft.emergency ?? false, mayRequestEmergency: requester?.mayRequestEmergency ?? false)
        {
            throw Problem(.forbidden, detail: refusal)
        }
        var accepted: AcceptedDemand
        do {
            accepted = try Demand.validate(
                draft, uploads: uploads, limits: limits, agencyID: agencyID, submittedBy: principal.id, now: time, makeID: { UUID() })
        } catch {
            throw Problem.invalid(error.issues)
        }
        accepted.demand.credential = credential
        accepted.demand.redFlags = try await redFlags(of: accepted.demand, from: principal, requester: requester, at: time)
        let customer = try await directory.resolveCustomer(for: accepted.demand.targets)
        let assessment = rulebook.assess(accepted.demand, customer: CustomerFacts(customer), at: time)
        do {
            return try await cases.submit(
                accepted, idempotencyKey: idempotencyKey, requestHash: requestHash, customer: customer, assessment: assessment,
                at: time, by: principal)
        } catch StorageError.idempotencyMismatch {
            throw Problem(
                .unprocessableContent, title: "Idempotency key reused",
                detail: "this Idempotency-Key was already used for a different request body",
                issues: [ValidationIssue(field: "Idempotency-Key", message: "was already used for a different request body")])
        }
    }

    /// Applies an event sent as a request body; `reassess` is computed here from the stored demand.
    func apply(_ request: EventRequest, toCase id: UUID, by principal: Principal) async throws -> Case {
        if request.type == CaseEvent.Kind.reassess.rawValue {
            return try await apply(.reassess(try await assess(caseID: id)), toCase: id, by: principal)
        }
        return try await apply(try await withDirectoryFacts(try request.makeEvent(), caseID: id), toCase: id, by: principal)
    }

    /// Fills in what an event needs from the directory: a redirect names the tenant's legal contacts
    /// (C4, C7); a callback takes its number from the requesting agency's directory entry, never
    /// from the request (legal-rules.md §6.3 E2).
    public func withDirectoryFacts(_ event: CaseEvent, caseID: UUID) async throws -> CaseEvent {
        switch event {
        case .redirect(let note, _):
            guard let tenantID = try await cases.findCase(id: caseID)?.customer?.tenantID else { return event }
            let contacts = try await directory.contacts(tenantID: tenantID).map { LegalContact(name: $0.name, email: $0.email) }
            return .redirect(note: note, contacts: contacts)
        case .recordCallback(let requested, let spokeWith, let confirmed, let note):
            guard let stored = try await cases.findCase(id: caseID) else { throw Problem.notFound("case \(caseID)") }
            guard let agency = try await directory.findAgency(id: stored.agencyID) else { throw Problem.notFound("agency of case \(caseID)") }
            guard let phone = agency.phones.first(where: { $0.id == requested.id }) else {
                throw Problem.invalid(
                    field: "phoneId",
                    agency.phones.isEmpty
                        ? "\(agency.name) has no number in the agency directory yet; an admin adds one from an independent source first"
                        : "is not one of \(agency.name)'s directory numbers; a callback uses only those (legal-rules.md §6.3 E2)")
            }
            return .recordCallback(phone: phone, spokeWith: spokeWith, confirmed: confirmed, note: note)
        default:
            return event
        }
    }

    /// The red flags of a demand from `principal` (issue 8), from what the directory and the
    /// account know when it arrives.
    func redFlags(
        of demand: Demand, from principal: Principal, requester: SQLIdentityRepository.RequesterFacts?, at time: Date
    ) async throws -> [RedFlag] {
        guard let agency = try await directory.findAgency(id: demand.agencyID) else { return [] }
        let directoryDomains = try await directory.domainDirectory()
        return RedFlags.assess(
            demand, statement: demand.emergencyStatement,
            requester: RequesterContext(
                senderEmail: principal.email, agency: agency, directoryDomains: directoryDomains, registeredAt: requester?.registeredAt ?? time,
                lastCredentialResetAt: requester?.credentialsResetAt, standing: requester?.standing ?? .active,
                blocklist: try await blocklist.entries(matching: BlocklistFeed.candidates(for: principal.email))),
            at: time)
    }

    /// Assesses a stored case's demand against the rulebook in force now.
    func assess(caseID id: UUID) async throws -> Assessment {
        guard let stored = try await cases.findCase(id: id) else { throw Problem.notFound("case \(id)") }
        guard let demand = try await cases.findDemand(id: stored.demandID) else { throw Problem.notFound("demand of case \(id)") }
        return rulebook.assess(demand, customer: CustomerFacts(stored.customer), at: now())
    }

    /// Gives every open case opened before the rulebook existed its assessment, as a `reassess`
    /// event by the system (audited like any other). Returns how many cases were assessed.
    @discardableResult
    public func assessCasesWithoutAssessment() async throws -> Int {
        let reassessable = CaseWorkflow.sourceStates(of: .reassess)
        var count = 0
        for stored in try await cases.casesWithoutAssessment(in: CaseState.allCases.filter(reassessable.contains))
        where stored.assessment == nil && reassessable.contains(stored.state) {
            guard let demand = try await cases.findDemand(id: stored.demandID) else { continue }
            let assessment = rulebook.assess(demand, customer: CustomerFacts(stored.customer), at: now())
            _ = try await cases.apply(.reassess(assessment), toCase: stored.id, at: now(), by: .system)
            count += 1
        }
        return count
    }

    /// Applies an event, turning refusals and unknown cases into problems. `start_collection` and
    /// `begin_preservation` queue the package build in the same transaction; the package runner
    /// builds it and moves the case on (issue 5).
    func apply(_ event: CaseEvent, toCase id: UUID, by principal: Principal) async throws -> Case {
        if case .release = event {
            // workflow.md: release needs a verifying package. The workflow cannot read files, so
            // the package is checked here, against this installation's key, before the event.
            let report = await verifyStoredPackage(caseID: id)
            guard report.isValid, report.manifest?.caseID == id else {
                let problems = report.isValid ? ["it belongs to another case"] : Array(report.problems.prefix(3))
                throw Problem(.conflict, title: "No verifying package", detail: "the package does not verify: \(problems.joined(separator: "; "))")
            }
        }
        do {
            return try await cases.apply(event, toCase: id, at: now(), by: principal.actor)
        } catch let refusal as WorkflowRefusal {
            throw refusal.problem
        } catch StorageError.notFound {
            throw Problem.notFound("case \(id)")
        }
    }

    /// Logs a read of case material (C12: every read of customer data is on record).
    func recordRead(_ action: String, caseID: UUID, by principal: Principal, details: [String: String] = [:]) async throws {
        try await cases.record(AuditRecord(
            caseID: caseID, subject: "case:\(caseID.uuidString.lowercased())", action: action, outcome: .read,
            actor: principal.actor.auditName, at: now(), details: details))
    }
}
