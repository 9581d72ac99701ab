import Foundation

/// One record a data source returns: whose, what kind, when, and its bytes.
public struct CustomerRecord: Sendable, Equatable {
    /// The account identifier the record belongs to (`acct-…`).
    public var account: String
    public var category: DataCategory
    public var timestamp: Date
    public var mediaType: String
    public var bytes: Data
    /// The source's own id for the record, kept in the manifest for the provider's reference.
    public var sourceID: String?

    public init(account: String, category: DataCategory, timestamp: Date, mediaType: String, bytes: Data, sourceID: String? = nil) {
        self.account = account
        self.category = category
        self.timestamp = timestamp
        self.mediaType = mediaType
        self.bytes = bytes
        self.sourceID = sourceID
    }
}

/// Why a record was kept out of a package (C2, C6, C9). Every cut is counted and logged.
public enum ScopeCut: String, Codable, CaseIterable, Sendable, Comparable {
    /// Key material: never leaves, whatever the plan says (C9).
    case keyMaterial = "key_material"
    /// An account the order does not name.
    case wrongAccount = "wrong_account"
    /// A category outside the approved scope.
    case wrongCategory = "wrong_category"
    /// A record dated outside the order's window.
    case outsideWindow = "outside_window"

    public static func < (lhs: ScopeCut, rhs: ScopeCut) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// What may be collected for one approved case: accounts × categories × window (C2, C6).
/// The categories are the intersection of what the order asked for, what the rulebook allows and
/// what the approvers approved, never encryption keys. Every record any source returns is checked
/// against the plan again (`cut(_:)`), so a source that returns too much cannot widen a package.
public struct CollectionPlan: Codable, Equatable, Sendable {
    public var caseID: UUID
    public var caseNumber: String
    /// The accounts the order names, resolved to the provider's account ids.
    public var accounts: [String]
    /// What may be produced: asked ∩ allowed ∩ approved, minus key material.
    public var categories: [DataCategory]
    /// The order's date window; nil when it names none (then every date is in scope).
    public var window: DateWindow?
    /// The three sets the plan was cut from, for the manifest.
    public var asked: [DataCategory]
    public var allowed: [DataCategory]
    public var approved: [DataCategory]

    public init(
        caseID: UUID, caseNumber: String, accounts: [String], categories: [DataCategory], window: DateWindow?, asked: [DataCategory],
        allowed: [DataCategory], approved: [DataCategory]
    ) {
        self.caseID = caseID
        self.caseNumber = caseNumber
        self.accounts = accounts
        self.categories = categories
        self.window = window
        self.asked = asked
        self.allowed = allowed
        self.approved = approved
    }

    /// The plan for a case whose scope was approved. Throws when there is nothing lawful to collect.
    /// - Parameter accounts: the provider's account ids the demand's targets resolve to.
    public static func derive(for subject: Case, demand: Demand, accounts: [String]) throws(PlanError) -> CollectionPlan {
        guard let approved = subject.approvedScope, !approved.isEmpty else { throw PlanError("the case has no approved scope") }
        guard let assessment = subject.assessment else { throw PlanError("the case has no rulebook assessment") }
        let asked = Set(demand.categories)
        let allowed = Set(assessment.approvableCategories)
        // C9: key material is removed here as well as in the approval guard; defence in depth.
        let categories = asked.intersection(allowed).intersection(approved).subtracting([.encryptionKeys]).sorted()
        guard !categories.isEmpty else { throw PlanError("asked ∩ allowed ∩ approved is empty: nothing may be collected") }
        let named = Array(Set(accounts)).sorted()
        guard !named.isEmpty else { throw PlanError("the demand's targets name no account of this provider") }
        return CollectionPlan(
            caseID: subject.id, caseNumber: subject.number, accounts: named, categories: categories, window: demand.window,
            asked: asked.sorted(), allowed: allowed.sorted(), approved: approved.sorted())
    }

    /// The snapshot plan of a preservation demand: what it names (its categories, accounts and
    /// window), minus key material. Nothing is approved for disclosure, so nothing is; the
    /// snapshot is kept until expiry and never reaches the requester (18 U.S.C. § 2703(f);
    /// Reg. (EU) 2023/1543 Art. 11).
    public static func preservation(for subject: Case, demand: Demand, accounts: [String]) throws(PlanError) -> CollectionPlan {
        guard subject.isPreservationDemand else { throw PlanError("the demand is not a preservation demand") }
        let asked = Set(demand.categories)
        let categories = asked.subtracting([.encryptionKeys]).sorted()
        guard !categories.isEmpty else { throw PlanError("the demand names nothing that may be preserved") }
        let named = Array(Set(accounts)).sorted()
        guard !named.isEmpty else { throw PlanError("the demand's targets name no account of this provider") }
        return CollectionPlan(
            caseID: subject.id, caseNumber: subject.number, accounts: named, categories: categories, window: demand.window,
            asked: asked.sorted(), allowed: subject.assessment?.approvableCategories.sorted() ?? [], approved: [])
    }

    /// Why `record` must stay out of the package, or nil when it is in scope.
    public func cut(_ record: CustomerRecord) -> ScopeCut? {
        if record.category == .encryptionKeys { return .keyMaterial }
        if !accounts.contains(record.account) { return .wrongAccount }
        if !categories.contains(record.category) { return .wrongCategory }
        if let window, record.timestamp < window.from || record.timestamp > window.to { return .outsideWindow }
        return nil
    }
}

public struct PlanError: Error, Equatable, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
