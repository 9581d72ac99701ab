import Crypto
import CustosDomain
@testable import CustosServer
import CustosWeb
import CustosStorage
import Foundation
import Testing
import ZIPFoundation

/// A data source that returns whatever it was given, in or out of scope, as a careless or
/// compromised connector would.
struct ListSource: CustomerDataSource {
    var name = "test-list"
    var all: [CustomerRecord]

    func records(for plan: CollectionPlan) -> AsyncThrowingStream<CustomerRecord, any Error> {
        AsyncThrowingStream { continuation in
            for record in all { continuation.yield(record) }
            continuation.finish()
        }
    }
}

/// SplitMix64: a seeded generator, so a failing property names the seed that reproduces it.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Production packages (C2, C3, C6, C9): nothing out of scope ever reaches one, key material never
/// leaves, and the signature and hashes catch any change.
@Suite struct ProductionPackageTests {
    static let t0 = Timestamp.parse("2026-05-04T09:00:00Z")!
    static let window = DateWindow(from: Timestamp.parse("2026-01-01T00:00:00Z")!, to: Timestamp.parse("2026-03-31T23:59:59Z")!)

    static func plan(categories: [DataCategory] = [.subscriberInfo, .nonContent], window: DateWindow? = window) -> CollectionPlan {
        CollectionPlan(
            caseID: UUID(), caseNumber: "C-2026-00042", accounts: ["acct-alice-001", "acct-alice-002"], categories: categories, window: window,
            asked: categories + [.content, .encryptionKeys], allowed: categories + [.content], approved: categories)
    }

    static let facts = PackageBuilder.CaseFacts(
        instrument: "us.court_order_2703d", jurisdiction: "US", issuingAuthority: "U.S. District Court, W.D. Wash.",
        requesterReference: "2:26-mj-00412", legalBasis: ["18 U.S.C. § 2703(d)"], rulebookVersion: "test")

    /// A builder that writes plain ZIPs unless given a sealer.
    static func builder(sealer: StorageSealer = .none) async throws -> (PackageBuilder, PackageSigningKey) {
        let key = PackageSigningKey(privateKey: Curve25519.Signing.PrivateKey())
        return (PackageBuilder(key: key, renderer: try await PageRenderer(), sealer: sealer), key)
    }

    static func folder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("custos-pkg-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Random records over named and unnamed accounts, every category (key material included) and
    /// dates inside and outside the window.
    static func randomRecords(_ count: Int, using rng: inout SplitMix64) -> [CustomerRecord] {
        let accounts = ["acct-alice-001", "acct-alice-002", "acct-bob-001", "acct-alice-0010", ""]
        return (0..<count).map { index in
            let day = Double(Int.random(in: -60...150, using: &rng))
            let size = Int.random(in: 0...600, using: &rng)
            return CustomerRecord(
                account: accounts.randomElement(using: &rng)!, category: DataCategory.allCases.randomElement(using: &rng)!,
                timestamp: window.from.addingTimeInterval(day * 86_400 + Double(Int.random(in: 0...86_399, using: &rng))),
                mediaType: ["application/json", "text/plain", "message/rfc822"].randomElement(using: &rng)!,
                bytes: Data((0..<size).map { _ in UInt8.random(in: 0...255, using: &rng) }), sourceID: "rec-\(index)")
        }
    }

    @Test(arguments: 1...25)
    func nothingOutOfScopeEverReachesAPackage(seed: Int) async throws {
        var rng = SplitMix64(state: UInt64(seed) &* 0x2545_F491_4F6C_DD1D)
        let categories = Array(DataCategory.allCases.filter { $0 != .encryptionKeys }.shuffled(using: &rng).prefix(Int.random(in: 1...4, using: &rng)))
        let plan = Self.plan(categories: categories, window: Bool.random(using: &rng) ? Self.window : nil)
        let records = Self.randomRecords(Int.random(in: 0...120, using: &rng), using: &rng)
        let (builder, key) = try await Self.builder()
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("package.zip")

        let result = try await builder.build(plan: plan, facts: Self.facts, source: ListSource(all: records), at: Self.t0, destination: url)

        // the manifest as signed and packed (the build streams its file list to disk)
        let report = await PackageVerifier.verify(url, publicKey: key.publicKey)
        #expect(report.isValid, "seed \(seed): \(report.problems)")
        let manifest = try #require(report.manifest)
        // the spliced manifest is the summary plus exactly its file list
        var whole = result.summary
        whole.files = manifest.files
        #expect(whole == manifest)
        #expect(try CustosJSON.makeDecoder().decode(ProductionManifest.self, from: result.manifestBytes) == manifest)
        let inScope = records.filter { plan.cut($0) == nil }
        #expect(result.fileCount == inScope.count && manifest.files.count == inScope.count, "seed \(seed)")
        #expect(manifest.files.map(\.sourceID) == inScope.map(\.sourceID), "seed \(seed)")
        #expect(manifest.files.map(\.sha256) == inScope.map { Hex.encode(SHA256.hash(data: $0.bytes)) }, "seed \(seed)")
        for file in manifest.files {
            #expect(file.category != .encryptionKeys, "seed \(seed): key material in a package")
            #expect(plan.accounts.contains(file.account) && plan.categories.contains(file.category), "seed \(seed)")
            if let window = plan.window { #expect(file.timestamp >= window.from && file.timestamp <= window.to, "seed \(seed)") }
        }
        for reason in ScopeCut.allCases {
            let expected = records.filter { plan.cut($0) == reason }.count
            #expect(manifest.cut[reason.rawValue] == expected && result.summary.cut[reason.rawValue] == expected, "seed \(seed): \(reason)")
        }
        #expect(manifest.cut[ScopeCut.keyMaterial.rawValue] == records.filter { $0.category == .encryptionKeys }.count)
        // what is in the ZIP is exactly the manifest's files
        let archive = try Archive(url: url, accessMode: .read)
        let recordEntries = archive.filter { $0.path.hasPrefix("records/") }.map(\.path).sorted()
        #expect(recordEntries == manifest.files.map(\.path).sorted())
        // the bytes in the ZIP are the in-scope records' bytes
        let byID = Dictionary(uniqueKeysWithValues: inScope.map { ($0.sourceID!, $0.bytes) })
        for file in manifest.files.prefix(10) {
            var data = Data()
            _ = try archive.extract(archive[file.path]!) { data.append($0) }
            #expect(data == byID[file.sourceID!])
        }
    }

    @Test func theSignatureVerifiesWithStockOpenSSLAndFailsOnAnyChange() async throws {
        let (builder, key) = try await Self.builder()
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("package.zip")
        var rng = SplitMix64(state: 7)
        _ = try await builder.build(plan: Self.plan(), facts: Self.facts, source: ListSource(all: Self.randomRecords(40, using: &rng)), at: Self.t0, destination: url)
        let archive = try Archive(url: url, accessMode: .read)
        for name in ["manifest.json", "manifest.sig", "cover-letter.html"] {
            _ = try archive.extract(archive[name]!, to: folder.appendingPathComponent(name))
        }
        try key.publicKeyPEM.write(to: folder.appendingPathComponent("signing-key.pem"), atomically: true, encoding: .utf8)

        func openssl() throws -> (Int32, String) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", "signing-key.pem", "-rawin", "-in", "manifest.json", "-sigfile", "manifest.sig"]
            process.currentDirectoryURL = folder
            let output = Pipe()
            process.standardOutput = output
            process.standardError = output
            try process.run()
            process.waitUntilExit()
            return (process.terminationStatus, String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
        }
        let (status, text) = try openssl()
        #expect(status == 0 && text.contains("Signature Verified Successfully"), "\(text)")
        // one changed byte in the manifest and OpenSSL refuses it
        var manifest = try Data(contentsOf: folder.appendingPathComponent("manifest.json"))
        manifest[manifest.count / 2] ^= 0x01
        try manifest.write(to: folder.appendingPathComponent("manifest.json"))
        #expect(try openssl().0 != 0)
        // the cover letter states what was produced and how to check it
        let letter = try String(contentsOf: folder.appendingPathComponent("cover-letter.html"), encoding: .utf8)
        #expect(letter.contains("C-2026-00042") && letter.contains("18 U.S.C. § 2703(d)") && letter.contains("openssl pkeyutl -verify"))
    }

    /// Rewrites `url` with `change` applied to the entries (the CRCs are recomputed, as an attacker would).
    static func tamper(_ url: URL, in folder: URL, _ change: (inout [(String, Data)]) -> Void) throws -> URL {
        let original = try Archive(url: url, accessMode: .read)
        var entries: [(String, Data)] = []
        for entry in original {
            var data = Data()
            _ = try original.extract(entry) { data.append($0) }
            entries.append((entry.path, data))
        }
        change(&entries)
        let out = folder.appendingPathComponent("tampered-\(UUID().uuidString).zip")
        let archive = try Archive(url: out, accessMode: .create)
        for (path, data) in entries {
            try archive.addEntry(with: path, type: .file, uncompressedSize: Int64(data.count)) { position, size in
                data.subdata(in: Int(position)..<Int(position) + size)
            }
        }
        return out
    }

    @Test func aTamperedPackageFailsVerification() async throws {
        let (builder, key) = try await Self.builder()
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("package.zip")
        let records = [
            CustomerRecord(account: "acct-alice-001", category: .subscriberInfo, timestamp: Self.window.from.addingTimeInterval(86_400), mediaType: "application/json", bytes: Data(#"{"name":"Alice"}"#.utf8), sourceID: "a"),
            CustomerRecord(account: "acct-alice-002", category: .nonContent, timestamp: Self.window.from.addingTimeInterval(2 * 86_400), mediaType: "text/plain", bytes: Data("login 203.0.113.7".utf8), sourceID: "b"),
        ]
        _ = try await builder.build(plan: Self.plan(), facts: Self.facts, source: ListSource(all: records), at: Self.t0, destination: url)
        let original = await PackageVerifier.verify(url, publicKey: key.publicKey)
        #expect(original.isValid)
        let recordPath = try #require(original.manifest?.files.first?.path)

        let changedRecord = try Self.tamper(url, in: folder) { entries in
            let index = entries.firstIndex { $0.0 == recordPath }!
            entries[index].1 = Data(#"{"name":"Mallory"}"#.utf8)
        }
        #expect(await PackageVerifier.verify(changedRecord, publicKey: key.publicKey).problems.contains { $0.contains(recordPath) && $0.contains("SHA-256") })

        let removed = try Self.tamper(url, in: folder) { $0.removeAll { $0.0 == recordPath } }
        #expect(await PackageVerifier.verify(removed, publicKey: key.publicKey).problems.contains { $0.contains("missing") })

        let added = try Self.tamper(url, in: folder) { $0.append(("records/acct-bob-001/content/000099.txt", Data("planted".utf8))) }
        #expect(await PackageVerifier.verify(added, publicKey: key.publicKey).problems.contains { $0.contains("not in the manifest") })

        let letter = try Self.tamper(url, in: folder) { entries in
            let index = entries.firstIndex { $0.0 == PackageBuilder.coverLetterPath }!
            entries[index].1 = Data("<p>All data of every account attached.</p>".utf8)
        }
        #expect(await !PackageVerifier.verify(letter, publicKey: key.publicKey).isValid)

        let other = Curve25519.Signing.PrivateKey().publicKey
        #expect(await PackageVerifier.verify(url, publicKey: other).problems.contains { $0.contains("not a valid Ed25519 signature") })
        #expect(await !PackageVerifier.verify(folder.appendingPathComponent("nope.zip"), publicKey: key.publicKey).isValid)
    }

    @Test func theKeysPEMRoundTripsAndIsTheStandardEd25519SubjectPublicKeyInfo() throws {
        let first = try PackageSigningKey(secret: Curve25519.Signing.PrivateKey().rawRepresentation)
        #expect(try PackageSigningKey(secret: first.privateKey.rawRepresentation).publicKey.rawRepresentation == first.publicKey.rawRepresentation)
        #expect(try PackageSigningKey.publicKey(fromPEM: first.publicKeyPEM).rawRepresentation == first.publicKey.rawRepresentation)
        #expect(first.publicKeyPEM.hasPrefix("-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA"))
    }
}
