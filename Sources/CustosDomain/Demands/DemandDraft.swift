import Foundation

/// A demand as a requester sends it (API JSON, portal form, CLI): every field optional and
/// loosely typed so that validation can name exactly which field is wrong.
public struct DemandDraft: Codable, Equatable, Sendable {
    public struct Authority: Codable, Equatable, Sendable {
        public var name: String?
        public var role: String?
        public init(name: String? = nil, role: String? = nil) {
            self.name = name
            self.role = role
        }
    }

    public struct Window: Codable, Equatable, Sendable {
        public var from: String?
        public var to: String?
        public init(from: String? = nil, to: String? = nil) {
            self.from = from
            self.to = to
        }
    }

    public struct TargetDraft: Codable, Equatable, Sendable {
        public var type: String?
        public var value: String?
        public var range: Window?
        public init(type: String? = nil, value: String? = nil, range: Window? = nil) {
            self.type = type
            self.value = value
            self.range = range
        }
    }

    public struct NonDisclosure: Codable, Equatable, Sendable {
        public var basis: String?
        public var until: String?
        public var indefinite: Bool?
        public init(basis: String? = nil, until: String? = nil, indefinite: Bool? = nil) {
            self.basis = basis
            self.until = until
            self.indefinite = indefinite
        }
    }

    /// A document carried inline as base64 in the JSON body.
    public struct DocumentDraft: Codable, Equatable, Sendable {
        public var filename: String?
        public var mediaType: String?
        public var base64: String?
        public init(filename: String? = nil, mediaType: String? = nil, base64: String? = nil) {
            self.filename = filename
            self.mediaType = mediaType
            self.base64 = base64
        }
    }

    public var instrument: String?
    public var jurisdiction: String?
    public var subdivision: String?
    public var issuingAuthority: Authority?
    public var caseReference: String?
    public var receivedAt: String?
    public var targets: [TargetDraft]?
    public var categories: [String]?
    public var dataTypes: [String]?
    public var window: Window?
    public var offenceMaxYears: Int?
    public var listedOffence: Bool?
    /// The DSA category of illegal content the order's legal ground falls under (a
    /// `STATEMENT_CATEGORY_…` code), for the DSA Art. 15 report.
    public var dsaCategory: String?
    /// For an emergency: the facts of the threat (what, to whom, how imminent, why this data now),
    /// as § 2702(b)(8) / (c)(4) and legal-rules.md §6.3 E4 ask.
    public var emergencyStatement: String?
    public var validatingAuthority: Authority?
    public var enforcingAuthorityNotified: Bool?
    public var emergency: Bool?
    public var preservation: Bool?
    public var nonDisclosureOrder: NonDisclosure?
    public var responseDueAt: String?
    public var documents: [DocumentDraft]?

    public init(
        instrument: String? = nil, jurisdiction: String? = nil, subdivision: String? = nil,
        issuingAuthority: Authority? = nil, caseReference: String? = nil, receivedAt: String? = nil,
        targets: [TargetDraft]? = nil, categories: [String]? = nil, dataTypes: [String]? = nil,
        window: Window? = nil, offenceMaxYears: Int? = nil, listedOffence: Bool? = nil,
        validatingAuthority: Authority? = nil, enforcingAuthorityNotified: Bool? = nil, emergency: Bool? = nil, preservation: Bool? = nil,
        nonDisclosureOrder: NonDisclosure? = nil, responseDueAt: String? = nil, documents: [DocumentDraft]? = nil, dsaCategory: String? = nil,
        emergencyStatement: String? = nil
    ) {
        self.dsaCategory = dsaCategory
        self.emergencyStatement = emergencyStatement
        self.instrument = instrument
        self.jurisdiction = jurisdiction
        self.subdivision = subdivision
        self.issuingAuthority = issuingAuthority
        self.caseReference = caseReference
        self.receivedAt = receivedAt
        self.targets = targets
        self.categories = categories
        self.dataTypes = dataTypes
        self.window = window
        self.offenceMaxYears = offenceMaxYears
        self.listedOffence = listedOffence
        self.validatingAuthority = validatingAuthority
        self.enforcingAuthorityNotified = enforcingAuthorityNotified
        self.emergency = emergency
        self.preservation = preservation
        self.nonDisclosureOrder = nonDisclosureOrder
        self.responseDueAt = responseDueAt
        self.documents = documents
    }
}

/// The bytes of one uploaded document, however it arrived (multipart part or base64 field).
public struct DocumentUpload: Equatable, Sendable {
    public var filename: String
    public var mediaType: String
    public var bytes: Data
    /// Where the document came from in the request, for error messages (`documents[0]`, `document`).
    public var field: String

    public init(filename: String, mediaType: String, bytes: Data, field: String) {
        self.filename = filename
        self.mediaType = mediaType
        self.bytes = bytes
        self.field = field
    }
}
