import Foundation

/// `manifest.json` of a production package (C2, C3, C6, C12): what was asked, allowed, approved
/// and produced, what was cut and why, and every file with its size and SHA-256, bound together
/// by an RFC 6962 Merkle root. `manifest.sig` is an Ed25519 signature over the file's exact bytes.
public struct ProductionManifest: Codable, Equatable, Sendable {
    public static let currentFormat = "custos-package/1"

    public struct Scope: Codable, Equatable, Sendable {
        public var accounts: [String]
        public var window: DateWindow?
        public var asked: [DataCategory]
        public var allowed: [DataCategory]
        public var approved: [DataCategory]
        /// asked ∩ allowed ∩ approved, without key material: what the plan collected.
        public var planned: [DataCategory]
    }

    /// Records and bytes produced for one account and category.
    public struct Produced: Codable, Equatable, Sendable {
        public var account: String
        public var category: DataCategory
        public var records: Int
        public var bytes: Int

        public init(account: String, category: DataCategory, records: Int, bytes: Int) {
            self.account = account
            self.category = category
            self.records = records
            self.bytes = bytes
        }
    }

    public struct File: Codable, Equatable, Sendable {
        public var path: String
        public var size: Int
        public var sha256: String
        public var account: String
        public var category: DataCategory
        public var timestamp: Date
        public var mediaType: String
        public var sourceID: String?

        public init(path: String, size: Int, sha256: String, account: String, category: DataCategory, timestamp: Date, mediaType: String, sourceID: String?) {
            self.path = path
            self.size = size
            self.sha256 = sha256
            self.account = account
            self.category = category
            self.timestamp = timestamp
            self.mediaType = mediaType
            self.sourceID = sourceID
        }
    }

    /// A file of the package that is not a record (the cover letter), bound by its hash.
    public struct Attachment: Codable, Equatable, Sendable {
        public var path: String
        public var sha256: String

        public init(path: String, sha256: String) {
            self.path = path
            self.sha256 = sha256
        }
    }

    public var format: String
    /// `preservation` for a preservation snapshot (kept, never disclosed); absent for a production.
    public var purpose: PackagePurpose?
    public var caseID: UUID
    public var caseNumber: String
    public var instrument: String
    public var jurisdiction: String
    public var issuingAuthority: String
    public var requesterReference: String
    /// The citations of the rules that allow each produced category.
    public var legalBasis: [String]
    public var rulebookVersion: String
    public var source: String
    public var createdAt: Date
    public var scope: Scope
    public var produced: [Produced]
    /// Records kept out, by reason (`key_material`, `wrong_account`, `wrong_category`, `outside_window`).
    public var cut: [String: Int]
    public var files: [File]
    /// Lower-case hex RFC 6962 Merkle tree hash over the files' SHA-256 digests, in `files` order.
    public var merkleRoot: String
    public var coverLetter: Attachment
    /// Hex of the first 8 bytes of SHA-256 over the raw Ed25519 public key that signed it.
    public var signingKeyID: String

    public init(
        caseID: UUID, caseNumber: String, instrument: String, jurisdiction: String, issuingAuthority: String, requesterReference: String,
        legalBasis: [String], rulebookVersion: String, source: String, createdAt: Date, scope: Scope, produced: [Produced],
        cut: [String: Int], files: [File], merkleRoot: String, coverLetter: Attachment, signingKeyID: String
    ) {
        self.format = Self.currentFormat
        self.caseID = caseID
        self.caseNumber = caseNumber
        self.instrument = instrument
        self.jurisdiction = jurisdiction
        self.issuingAuthority = issuingAuthority
        self.requesterReference = requesterReference
        self.legalBasis = legalBasis
        self.rulebookVersion = rulebookVersion
        self.source = source
        self.createdAt = createdAt
        self.scope = scope
        self.produced = produced
        self.cut = cut
        self.files = files
        self.merkleRoot = merkleRoot
        self.coverLetter = coverLetter
        self.signingKeyID = signingKeyID
    }

    public var cutTotal: Int { cut.values.reduce(0, +) }
}

extension ProductionManifest.Scope {
    public init(_ plan: CollectionPlan) {
        self.init(
            accounts: plan.accounts, window: plan.window, asked: plan.asked, allowed: plan.allowed, approved: plan.approved,
            planned: plan.categories)
    }
}
