import Crypto
import CustosDomain
import CustosWeb
import Foundation
import MerkleLog

/// Assembles a production package (C2, C3, C6, C9): streams records from a data source, checks
/// each against the collection plan again, writes the ones in scope into a ZIP (one file per
/// record, stored uncompressed, by `StoredZipWriter`), then adds the cover letter, `manifest.json` and its Ed25519
/// signature `manifest.sig`. Records are written as they arrive, so memory stays flat whatever the
/// package size. The ZIP is written beside its destination and moved into place only when complete.
public struct PackageBuilder: Sendable {
    /// The facts of the case the manifest states.
    public struct CaseFacts: Sendable {
        public var instrument: String
        public var jurisdiction: String
        public var issuingAuthority: String
        public var requesterReference: String
        public var legalBasis: [String]
        public var rulebookVersion: String

        public init(instrument: String, jurisdiction: String, issuingAuthority: String, requesterReference: String, legalBasis: [String], rulebookVersion: String) {
            self.instrument = instrument
            self.jurisdiction = jurisdiction
            self.issuingAuthority = issuingAuthority
            self.requesterReference = requesterReference
            self.legalBasis = legalBasis
            self.rulebookVersion = rulebookVersion
        }
    }

    /// A record that was held back, without its bytes: what the audit trail records about it.
    public struct CutNote: Sendable, Equatable {
        public var reason: ScopeCut
        public var account: String
        public var category: DataCategory
        public var sourceID: String?
    }

    public struct Result: Sendable {
        public var manifest: ProductionManifest
        public var manifestBytes: Data
        public var packageBytes: Int
        /// The first cut records (up to `maxCutNotes`), for the audit entry; the manifest counts all.
        public var cutNotes: [CutNote]
    }

    public static let manifestPath = "manifest.json"
    public static let signaturePath = "manifest.sig"
    public static let coverLetterPath = "cover-letter.html"
    static let maxCutNotes = 50

    let key: PackageSigningKey
    let renderer: PageRenderer
    /// The ZIP format's classic limits; tests lower them to force the ZIP64 records.
    var zipLimits = StoredZipWriter.Limits()

    /// The key packages are checked against.
    public var signingPublicKey: PackageSigningKey.PublicKey { key.publicKey }

    public init(key: PackageSigningKey, renderer: PageRenderer) {
        self.key = key
        self.renderer = renderer
    }

    /// Builds the package for `plan` from `source` at `destination`.
    /// - Parameter progress: called after each record with the number of records read so far.
    public func build(
        plan: CollectionPlan, facts: CaseFacts, source: any CustomerDataSource, at time: Date, destination: URL,
        purpose: PackagePurpose = .production, progress: @Sendable (Int) async -> Void = { _ in }
    ) async throws -> Result {
        let partial = destination.deletingLastPathComponent().appendingPathComponent(".\(destination.lastPathComponent).partial")
        try? FileManager.default.removeItem(at: partial)
        defer { try? FileManager.default.removeItem(at: partial) }
        let archive = try StoredZipWriter(creating: partial, limits: zipLimits)

        var files: [ProductionManifest.File] = []
        /// The records' SHA-256 digests in file order: the Merkle tree's leaves.
        var leaves: [Data] = []
        var produced: [String: ProductionManifest.Produced] = [:]
        var cut: [ScopeCut: Int] = [:]
        var cutNotes: [CutNote] = []
        var read = 0
        for try await record in source.records(for: plan) {
            read += 1
            if let reason = plan.cut(record) {
                cut[reason, default: 0] += 1
                if cutNotes.count < Self.maxCutNotes {
                    cutNotes.append(CutNote(reason: reason, account: record.account, category: record.category, sourceID: record.sourceID))
                }
                await progress(read)
                continue
            }
            let path = Self.path(for: record, index: files.count + 1)
            let bytes = record.bytes
            let digest = Data(SHA256.hash(data: bytes))
            leaves.append(digest)
            try archive.add(path: path, bytes: bytes, modified: Self.zipDate(record.timestamp))
            files.append(ProductionManifest.File(
                path: path, size: bytes.count, sha256: Hex.encode(digest), account: record.account, category: record.category,
                timestamp: record.timestamp, mediaType: record.mediaType, sourceID: record.sourceID))
            let key = "\(record.account)\u{0}\(record.category.rawValue)"
            var entry = produced[key] ?? ProductionManifest.Produced(account: record.account, category: record.category, records: 0, bytes: 0)
            entry.records += 1
            entry.bytes += bytes.count
            produced[key] = entry
            await progress(read)
        }

        let root = MerkleHash.root(ofLeaves: leaves)
        var manifest = ProductionManifest(
            caseID: plan.caseID, caseNumber: plan.caseNumber, instrument: facts.instrument, jurisdiction: facts.jurisdiction,
            issuingAuthority: facts.issuingAuthority, requesterReference: facts.requesterReference, legalBasis: facts.legalBasis,
            rulebookVersion: facts.rulebookVersion, source: source.name, createdAt: time, scope: .init(plan),
            produced: produced.values.sorted { ($0.account, $0.category) < ($1.account, $1.category) },
            cut: Dictionary(uniqueKeysWithValues: ScopeCut.allCases.map { ($0.rawValue, cut[$0] ?? 0) }),
            files: files, merkleRoot: Self.hex(root), coverLetter: .init(path: Self.coverLetterPath, sha256: ""), signingKeyID: key.keyID)
        if purpose == .preservation { manifest.purpose = .preservation }

        // The cover letter states the root and counts; the manifest then binds the letter by its hash.
        let letter = Data(try renderer.render(Page(
            template: "cover_letter", title: "Production", viewer: nil, csrfToken: "", model: CoverLetterModel(manifestDraft: manifest))).utf8)
        manifest.coverLetter.sha256 = Self.hex(SHA256.hash(data: letter))
        let manifestBytes = try Self.encoder().encode(manifest)
        let signature = try key.sign(manifestBytes)
        for (path, bytes) in [(Self.coverLetterPath, letter), (Self.manifestPath, manifestBytes), (Self.signaturePath, signature)] {
            try archive.add(path: path, bytes: bytes, modified: Self.zipDate(time))
        }
        try archive.finish()
        try? FileManager.default.removeItem(at: destination)
        try FileManager.default.moveItem(at: partial, to: destination)
        let size = (try? FileManager.default.attributesOfItem(atPath: destination.path)[.size] as? Int) ?? 0
        return Result(manifest: manifest, manifestBytes: manifestBytes, packageBytes: size, cutNotes: cutNotes)
    }

    /// Readable JSON with sorted keys: the signature covers these exact bytes.
    static func encoder() -> JSONEncoder {
        let encoder = CustosJSON.makeEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return encoder
    }

    /// `records/<account>/<category>/000001.<ext>`, with the account reduced to safe characters.
    static func path(for record: CustomerRecord, index: Int) -> String {
        let safe = String(record.account.map { $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) ? $0 : "_" })
        return "records/\(safe.isEmpty ? "_" : safe)/\(record.category.rawValue)/\(zeroPadded(index, width: 6)).\(fileExtension(record.mediaType))"
    }

    static func zeroPadded(_ number: Int, width: Int) -> String {
        let digits = String(number)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }

    static func fileExtension(_ mediaType: String) -> String {
        switch mediaType.split(separator: ";").first.map({ $0.trimmingCharacters(in: .whitespaces).lowercased() }) ?? "" {
        case "application/json": "json"
        case "text/plain": "txt"
        case "text/csv": "csv"
        case "message/rfc822": "eml"
        case "application/pdf": "pdf"
        case "image/png": "png"
        case "image/jpeg": "jpg"
        default: "bin"
        }
    }

    /// ZIP stores MS-DOS dates, which start in 1980.
    static func zipDate(_ date: Date) -> Date { max(date, Date(timeIntervalSince1970: 315_532_800 + 86_400)) }

    static func hex(_ bytes: some Sequence<UInt8>) -> String { Hex.encode(bytes) }
}
