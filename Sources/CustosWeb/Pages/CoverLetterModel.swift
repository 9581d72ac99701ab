import CustosDomain
import Foundation

/// The human-readable cover letter inside a production package: what was produced under which
/// legal basis, what was held back, and how to check the package.
public struct CoverLetterModel: Sendable {
    public struct Row: Sendable {
        public var account: String
        public var category: String
        public var records: Int
        public var bytes: Int
    }

    public struct CutRow: Sendable {
        public var reason: String
        public var count: Int
    }

    public var caseNumber: String
    /// A preservation snapshot: the letter says it is kept by the provider and not disclosed.
    public var isPreservation: Bool
    public var isProduction: Bool
    public var instrument: String
    public var jurisdiction: String
    public var issuingAuthority: String
    public var requesterReference: String
    public var createdAt: String
    public var legalBasis: [String]
    public var accounts: String
    public var window: String
    public var asked: String
    public var planned: String
    public var rows: [Row]
    public var hasRows: Bool
    public var cuts: [CutRow]
    public var hasCuts: Bool
    public var fileCount: Int
    public var merkleRoot: String
    public var signingKeyID: String

    /// - Parameter fileCount: the number of record files, when `m` is a summary without its file list.
    public init(manifestDraft m: ProductionManifest, fileCount: Int? = nil) {
        caseNumber = m.caseNumber
        isPreservation = m.purpose == .preservation
        isProduction = !isPreservation
        instrument = m.instrument
        jurisdiction = m.jurisdiction
        issuingAuthority = m.issuingAuthority
        requesterReference = m.requesterReference
        createdAt = Timestamp.format(m.createdAt)
        legalBasis = m.legalBasis
        accounts = m.scope.accounts.joined(separator: ", ")
        window = m.scope.window.map { "\(Timestamp.format($0.from)) – \(Timestamp.format($0.to))" } ?? "no date limit in the order"
        asked = m.scope.asked.map(\.rawValue).joined(separator: ", ")
        planned = m.scope.planned.map(\.rawValue).joined(separator: ", ")
        rows = m.produced.map { Row(account: $0.account, category: $0.category.rawValue, records: $0.records, bytes: $0.bytes) }
        hasRows = !rows.isEmpty
        cuts = ScopeCut.allCases.compactMap { reason in m.cut[reason.rawValue].map { CutRow(reason: reason.rawValue.replacingOccurrences(of: "_", with: " "), count: $0) } }
            .filter { $0.count > 0 }
        hasCuts = !cuts.isEmpty
        self.fileCount = fileCount ?? m.files.count
        merkleRoot = m.merkleRoot
        signingKeyID = m.signingKeyID
    }
}
