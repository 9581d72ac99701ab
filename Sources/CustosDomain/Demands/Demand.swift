import Foundation

/// A document that came with the demand (the warrant, the order); its SHA-256 proves what was received.
public struct DemandDocument: Codable, Equatable, Hashable, Sendable, Identifiable {
    public var id: UUID
    public var filename: String
    public var mediaType: String
    public var byteCount: Int
    /// Lower-case hex SHA-256 of the exact bytes received.
    public var sha256: String

    public init(id: UUID, filename: String, mediaType: String, byteCount: Int, sha256: String) {
        self.id = id
        self.filename = filename
        self.mediaType = mediaType
        self.byteCount = byteCount
        self.sha256 = sha256
    }
}

/// One legal instrument received from a requester, validated and complete.
public struct Demand: Codable, Equatable, Sendable, Identifiable {
    public var id: UUID
    public var agencyID: UUID
    public var submittedBy: UUID
    public var instrument: LegalInstrument
    public var jurisdiction: Jurisdiction
    public var issuingAuthority: IssuingAuthority
    public var caseReference: String
    public var receivedAt: Date
    public var targets: [Target]
    public var categories: [DataCategory]
    public var dataTypes: [String]
    public var window: DateWindow?
    public var offenceMaxYears: Int?
    /// The offence is one the law lists regardless of penalty (Reg. (EU) 2023/1543 Art. 5(4)(b):
    /// cyber-enabled fraud, child sexual abuse, attacks on information systems, terrorism).
    public var isListedOffence: Bool?
    /// The DSA category of illegal content its legal ground falls under (`DSAOrders.categories`),
    /// when the requester named one; the DSA report files the order under it.
    public var dsaCategory: String?
    /// The requester's statement of the emergency (legal-rules.md §6.3 E4), when it sent one.
    public var emergencyStatement: String?
    /// Warning signs about the requester found when the demand arrived (issue 8).
    public var redFlags: [RedFlag]?
    /// How the requester was signed in when it submitted (issue 8); nil for demands from before.
    public var credential: SubmissionCredential?
    /// Who validated the order when its issuer needs validation (Reg. (EU) 2023/1543 Art. 4(1)(b), 4(2)(b)).
    public var validatingAuthority: IssuingAuthority?
    /// What the EPOC states about notifying the enforcing State (Art. 8; Annex I); nil when not stated.
    public var enforcingAuthorityNotified: Bool?
    public var isEmergency: Bool
    public var isPreservation: Bool
    public var nonDisclosureOrder: NonDisclosureOrder?
    /// The date the requester asks for an answer by, when the instrument states one.
    public var responseDueAt: Date?
    public var documents: [DemandDocument]

    public init(
        id: UUID, agencyID: UUID, submittedBy: UUID, instrument: LegalInstrument, jurisdiction: Jurisdiction,
        issuingAuthority: IssuingAuthority, caseReference: String, receivedAt: Date, targets: [Target],
        categories: [DataCategory], dataTypes: [String] = [], window: DateWindow? = nil, offenceMaxYears: Int? = nil,
        isListedOffence: Bool? = nil, validatingAuthority: IssuingAuthority? = nil, enforcingAuthorityNotified: Bool? = nil,
        isEmergency: Bool = false, isPreservation: Bool = false, nonDisclosureOrder: NonDisclosureOrder? = nil,
        responseDueAt: Date? = nil, documents: [DemandDocument] = []
    ) {
        self.id = id
        self.agencyID = agencyID
        self.submittedBy = submittedBy
        self.instrument = instrument
        self.jurisdiction = jurisdiction
        self.issuingAuthority = issuingAuthority
        self.caseReference = caseReference
        self.receivedAt = receivedAt
        self.targets = targets
        self.categories = categories
        self.dataTypes = dataTypes
        self.window = window
        self.offenceMaxYears = offenceMaxYears
        self.isListedOffence = isListedOffence
        self.validatingAuthority = validatingAuthority
        self.enforcingAuthorityNotified = enforcingAuthorityNotified
        self.isEmergency = isEmergency
        self.isPreservation = isPreservation
        self.nonDisclosureOrder = nonDisclosureOrder
        self.responseDueAt = responseDueAt
        self.documents = documents
    }
}
