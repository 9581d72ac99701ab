import Crypto
import CustosDomain
import CustosStorage
import CustosWeb
import Foundation
import MerkleLog

/// Assembles a production package (C2, C3, C6, C9): streams records from a data source, checks
/// each against the collection plan again, writes the ones in scope into a ZIP (one file per
/// record, stored uncompressed, by `StoredZipWriter`), then adds the cover letter, `manifest.json` and its Ed25519
/// signature `manifest.sig`. Records are written as they arrive, so memory stays flat whatever the
/// package size. The ZIP is sealed under the storage key as it is written (`SealedStream`, issue 10)
/// beside its destination, and moved into place only when complete.
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
        /// The manifest as signed, but with `files` left empty: the file list is streamed to disk
        /// during the build and only ever whole inside `manifestBytes` (and the package).
        public var summary: ProductionManifest
        /// How many record files the package holds.
        public var fileCount: Int
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
    /// Seals the package at rest; `.none` writes a plain ZIP (tests that read it with ZIPFoundation).
    let sealer: StorageSealer
    /// The ZIP format's classic limits; tests lower them to force the ZIP64 records.
    var zipLimits = StoredZipWriter.Limits()

    /// The key packages are checked against.
    public var signingPublicKey: PackageSigningKey.PublicKey { key.publicKey }

    public init(key: PackageSigningKey, renderer: PageRenderer, sealer: StorageSealer) {
        self.key = key
        self.renderer = renderer
        self.sealer = sealer
    }

    /// What a sealed package is bound to: a package moved into another case's place does not open.
    public static func sealContext(caseID: UUID, purpose: PackagePurpose) -> String {
        "package:\(caseID.uuidString.lowercased()):\(purpose.rawValue)"
    }

    /// The case a sealed package was sealed for, read back from its context.
    public static func caseID(fromSealContext context: String) -> UUID? {
        let parts = context.split(separator: ":")
        guard parts.count == 3, parts[0] == "package", PackagePurpose(rawValue: String(parts[2])) != nil else { return nil }
        return UUID(uuidString: String(parts[1]))
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
        let archive = try StoredZipWriter(
            creating: partial, sealer: sealer, context: Self.sealContext(caseID: plan.caseID, purpose: purpose), limits: zipLimits)

        // The manifest's file list goes to a spool file as compact JSON while the records stream,
        // and the Merkle root is computed as they come: memory holds neither list.
        let spoolURL = destination.deletingLastPathComponent().appendingPathComponent(".\(destination.lastPathComponent).files")
        let spool = try Spool(creating: spoolURL)
        defer { spool.discard() }
        let entryEncoder = Self.encoder()
        var merkle = MerkleRootBuilder()
        var fileCount = 0
        var namer = PathNamer()
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
            fileCount += 1
            let path = namer.path(for: record, index: fileCount)
            let bytes = record.bytes
            let digest = Data(SHA256.hash(data: bytes))
            merkle.append(leaf: digest)
            try archive.add(path: path, bytes: bytes, modified: Self.zipDate(record.timestamp))
            if fileCount > 1 { try spool.append(Data(",".utf8)) }
            try spool.append(entryEncoder.encode(ProductionManifest.File(
                path: path, size: bytes.count, sha256: Hex.encode(digest), account: record.account, category: record.category,
                timestamp: record.timestamp, mediaType: record.mediaType, sourceID: record.sourceID)))
            let key = "\(record.account)\u{0}\(record.category.rawValue)"
            var entry = produced[key] ?? ProductionManifest.Produced(account: record.account, category: record.category, records: 0, bytes: 0)
            entry.records += 1
            entry.bytes += bytes.count
            produced[key] = entry
            await progress(read)
        }

        let root = merkle.root
        var manifest = ProductionManifest(
            caseID: plan.caseID, caseNumber: plan.caseNumber, instrument: facts.instrument, jurisdiction: facts.jurisdiction,
            issuingAuthority: facts.issuingAuthority, requesterReference: facts.requesterReference, legalBasis: facts.legalBasis,
            rulebookVersion: facts.rulebookVersion, source: source.name, createdAt: time, scope: .init(plan),
            produced: produced.values.sorted { ($0.account, $0.category) < ($1.account, $1.category) },
            cut: Dictionary(uniqueKeysWithValues: ScopeCut.allCases.map { ($0.rawValue, cut[$0] ?? 0) }),
            files: [], merkleRoot: Self.hex(root), coverLetter: .init(path: Self.coverLetterPath, sha256: ""), signingKeyID: key.keyID)
        if purpose == .preservation { manifest.purpose = .preservation }

        // The cover letter states the root and counts; the manifest then binds the letter by its hash.
        let letter = Data(try renderer.render(Page(
            template: "cover_letter", title: "Production", viewer: nil, csrfToken: "", model: CoverLetterModel(manifestDraft: manifest, fileCount: fileCount))).utf8)
        manifest.coverLetter.sha256 = Self.hex(SHA256.hash(data: letter))
        let manifestBytes = try Self.manifestBytes(manifest, files: spool)
        let signature = try key.sign(manifestBytes)
        for (path, bytes) in [(Self.coverLetterPath, letter), (Self.manifestPath, manifestBytes), (Self.signaturePath, signature)] {
            try archive.add(path: path, bytes: bytes, modified: Self.zipDate(time))
        }
        try archive.finish()
        // rename(2) replaces an older package in one step.
        guard rename(partial.path, destination.path) == 0 else { throw PackageError("cannot move the package into \(destination.path) (errno \(errno))") }
        return Result(summary: manifest, fileCount: fileCount, manifestBytes: manifestBytes, packageBytes: Int(archive.size), cutNotes: cutNotes)
    }

    /// Compact JSON with sorted keys: the signature covers these exact bytes (`jq .` shows them readably).
    static func encoder() -> JSONEncoder {
        let encoder = CustosJSON.makeEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    /// The manifest's bytes: `summary` encoded with an empty file list, and the spooled entries
    /// put in its place. With sorted, compact keys `"files":[]` occurs once, outside any string
    /// (a quote inside a string value is always escaped).
    static func manifestBytes(_ summary: ProductionManifest, files spool: Spool) throws -> Data {
        let top = try encoder().encode(summary)
        guard let slot = top.range(of: Data(#""files":[]"#.utf8)) else { throw PackageError("the manifest has no file list to fill") }
        var bytes = Data(capacity: top.count + Int(spool.size) + 2)
        bytes.append(top[..<slot.lowerBound])
        bytes.append(contentsOf: #""files":["#.utf8)
        try spool.copy { bytes.append($0) }
        bytes.append(UInt8(ascii: "]"))
        bytes.append(top[slot.upperBound...])
        return bytes
    }

    /// `records/<account>/<category>/000001.<ext>`, with the account reduced to safe characters.
    /// Accounts and media types repeat across a package's records, so their cleaned forms are
    /// remembered for the build instead of recomputed per record.
    struct PathNamer {
        private var accounts: [String: String] = [:]
        private var extensions: [String: String] = [:]

        mutating func path(for record: CustomerRecord, index: Int) -> String {
            let account = accounts[record.account] ?? {
                let safe = String(record.account.map { $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) ? $0 : "_" })
                let value = safe.isEmpty ? "_" : safe
                if accounts.count < 10_000 { accounts[record.account] = value }
                return value
            }()
            let ext = extensions[record.mediaType] ?? {
                let value = PackageBuilder.fileExtension(record.mediaType)
                if extensions.count < 1_000 { extensions[record.mediaType] = value }
                return value
            }()
            return "records/\(account)/\(record.category.rawValue)/\(PackageBuilder.zeroPadded(index, width: 6)).\(ext)"
        }
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

/// An append-only scratch file beside the package: the manifest's file list while records stream.
/// It names accounts and hashes, so it is sealed under a key that lives only as long as the build.
final class Spool {
    private let sealer = StorageSealer.ephemeral()
    private let writer: SealedFileWriter
    var size: UInt64 { writer.plainSize }

    init(creating url: URL) throws {
        try? FileManager.default.removeItem(at: url)
        writer = try SealedFileWriter(creating: url, sealer: sealer, context: "scratch")
    }

    func append(_ data: Data) throws { try writer.write(data) }

    /// Hands the whole content to `consume`, a piece at a time. Call once, after the last append.
    func copy(_ consume: (Data) -> Void) throws {
        try writer.finish(durable: false)
        try SealedFileReader(url: writer.url, sealer: sealer, context: "scratch").forEach(consume)
    }

    func discard() {
        try? FileManager.default.removeItem(at: writer.url)
    }
}
