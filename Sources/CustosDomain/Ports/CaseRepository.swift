import Foundation

/// Which cases a listing asks for; nil fields do not filter.
public struct CaseFilter: Equatable, Sendable {
    public var state: CaseState?
    public var country: String?
    public var instrument: LegalInstrument?
    public var agencyID: UUID?
    public var emergencyOnly: Bool
    /// Leave out closed cases (the staff queue's default view).
    public var openOnly: Bool
    public var limit: Int

    public init(
        state: CaseState? = nil, country: String? = nil, instrument: LegalInstrument? = nil, agencyID: UUID? = nil,
        emergencyOnly: Bool = false, openOnly: Bool = false, limit: Int = 500
    ) {
        self.state = state
        self.country = country
        self.instrument = instrument
        self.agencyID = agencyID
        self.emergencyOnly = emergencyOnly
        self.openOnly = openOnly
        self.limit = limit
    }
}

/// The result of submitting a demand; a retry with the same idempotency key returns the original.
public struct DemandSubmission: Equatable, Sendable {
    public var demand: Demand
    public var caseRecord: Case
    public var isReplay: Bool

    public init(demand: Demand, caseRecord: Case, isReplay: Bool) {
        self.demand = demand
        self.caseRecord = caseRecord
        self.isReplay = isReplay
    }
}

/// A demand as its agency follows it: the demand plus the case it opened.
/// A page of an agency's own demands, newest first: an agency files thousands over the years, and
/// listing them all at once took 30.8 s and 1.6 GB with 130,000.
public struct AgencyDemandPage: Equatable, Sendable {
    public var demands: [AgencyDemand]
    /// The case the next (older) page starts after; nil on the last page. Storage reads its place
    /// (opening time, then id) from the case itself, so no time makes a round trip through text.
    public var next: UUID?

    public init(demands: [AgencyDemand], next: UUID?) {
        self.demands = demands
        self.next = next
    }
}

public struct AgencyDemand: Equatable, Sendable {
    public var demand: Demand
    public var caseRecord: Case

    public init(demand: Demand, caseRecord: Case) {
        self.demand = demand
        self.caseRecord = caseRecord
    }
}

/// A stored document with its bytes.
public struct StoredDocument: Equatable, Sendable {
    public var demandID: UUID
    public var document: DemandDocument
    public var bytes: Data

    public init(demandID: UUID, document: DemandDocument, bytes: Data) {
        self.demandID = demandID
        self.document = document
        self.bytes = bytes
    }
}

/// The system of record for demands, cases and their audit trail. Every command is one
/// transaction holding the state change, its audit entries and any queued message.
public protocol CaseRepository: Sendable {
    /// Stores a validated demand, opens its case and records both, atomically.
    func submit(
        _ accepted: AcceptedDemand, idempotencyKey: String?, requestHash: String, customer: CustomerLink?,
        assessment: Assessment?, at time: Date, by submitter: Principal
    ) async throws -> DemandSubmission

    /// Loads the case, applies `CaseWorkflow`, and persists the result with its effects.
    /// A refused event is recorded as a refusal entry and rethrown as `WorkflowRefusal`.
    func apply(_ event: CaseEvent, toCase caseID: UUID, at time: Date, by actor: Actor) async throws -> Case

    func findCase(id: UUID) async throws -> Case?
    func findCase(demandID: UUID) async throws -> Case?
    func listCases(_ filter: CaseFilter) async throws -> [Case]
    func findDemand(id: UUID) async throws -> Demand?
    /// An agency's demands with their cases, newest case first.
    /// One page of an agency's demands, newest first (cases opened in the same instant by id),
    /// `limit` of them after the case `before`.
    func listDemands(agencyID: UUID, limit: Int, before: UUID?) async throws -> AgencyDemandPage
    func findDocument(id: UUID) async throws -> StoredDocument?
    /// The case's audit entries, oldest first.
    func timeline(caseID: UUID) async throws -> [AuditEntry]
    /// Appends an entry that is not a case state change (reads of customer data, logins, …).
    func record(_ record: AuditRecord) async throws
    /// The whole audit trail in order, for verification.
    func auditTrail() async throws -> [AuditEntry]
}

/// Agencies, tenants and how a demand's targets map to a customer.
public protocol DirectoryRepository: Sendable {
    func agencies() async throws -> [Agency]
    func tenants() async throws -> [Tenant]
    func findAgency(id: UUID) async throws -> Agency?
    /// The tenant whose accounts the targets name, if any (first match wins).
    func resolveCustomer(for targets: [Target]) async throws -> CustomerLink?
}

/// Where customer records come from: the built-in demo store, or the provider's own systems
/// through the HTTP connector. A source may return more than the plan asks for; Custos checks
/// every record against the plan again and cuts what is outside it.
public protocol CustomerDataSource: Sendable {
    /// A name for the manifest and the audit trail (`demo-store`, `connector:https://…`).
    var name: String { get }
    /// The records for `plan`, streamed, so a package of any size never sits in memory.
    func records(for plan: CollectionPlan) -> AsyncThrowingStream<CustomerRecord, any Error>
    /// How many records `records(for:)` will return, when the source can tell cheaply (progress bars).
    func expectedCount(for plan: CollectionPlan) async throws -> Int?
}

extension CustomerDataSource {
    public func expectedCount(for plan: CollectionPlan) async throws -> Int? { nil }
}
