import Crypto
import CustosDomain
@testable import CustosServer
import CustosStorage
import CustosWeb
import Foundation
import Testing
import ZIPFoundation

/// The package's own ZIP writer, read back by three independent readers (ZIPFoundation, Info-ZIP's
/// `unzip -t`, Python's `zipfile`), including the ZIP64 records that packages over 4 GiB or with
/// more than 65 535 records need (forced here by lowering the classic limits).
@Suite struct StoredZipWriterTests {
    @Test func theCRCIsTheStandardOne() {
        // the CRC-32 check value of ISO 3309 / ITU-T V.42
        #expect(StoredZipWriter.crc32(Data("123456789".utf8)) == 0xCBF4_3926)
        #expect(StoredZipWriter.crc32(Data()) == 0)
    }

    static func run(_ arguments: [String]) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, text)
    }

    @Test(arguments: [false, true])
    func packagesReadBackInEveryReader(forceZip64: Bool) async throws {
        var (builder, key) = try await ProductionPackageTests.builder()
        if forceZip64 { builder.zipLimits = StoredZipWriter.Limits(maxClassicValue: 500, maxClassicEntries: 10) }
        var rng = SplitMix64(state: forceZip64 ? 64 : 32)
        let records = ProductionPackageTests.randomRecords(60, using: &rng)
        let folder = try ProductionPackageTests.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("package.zip")
        let plan = ProductionPackageTests.plan(categories: DataCategory.allCases.filter { $0 != .encryptionKeys }, window: nil)
        let result = try await builder.build(plan: plan, facts: ProductionPackageTests.facts, source: ListSource(all: records), at: ProductionPackageTests.t0, destination: url)
        #expect(result.fileCount > 10, "enough entries to pass the lowered entry limit")
        let bytes = try Data(contentsOf: url)
        let hasZip64End = bytes.range(of: Data([0x50, 0x4b, 0x06, 0x06])) != nil
        #expect(hasZip64End == forceZip64)

        // ZIPFoundation, through the package verifier: every CRC, size and hash
        let report = await PackageVerifier.verify(url, publicKey: key.publicKey)
        #expect(report.isValid, "\(report.problems)")
        // Info-ZIP
        let (unzipStatus, unzipText) = try Self.run(["unzip", "-t", url.path])
        #expect(unzipStatus == 0 && unzipText.contains("No errors detected"), "\(unzipText)")
        // Python's zipfile: the names, the bytes and the CRCs
        let script = """
            import hashlib, json, sys, zipfile
            z = zipfile.ZipFile(sys.argv[1])
            assert z.testzip() is None
            m = json.loads(z.read("manifest.json"))
            for f in m["files"]:
                assert hashlib.sha256(z.read(f["path"])).hexdigest() == f["sha256"], f["path"]
            print(len(z.namelist()))
            """
        let (pythonStatus, pythonText) = try Self.run(["python3", "-c", script, url.path])
        #expect(pythonStatus == 0, "\(pythonText)")
        #expect(pythonText.trimmingCharacters(in: .whitespacesAndNewlines) == String(result.fileCount + 3))
        // the record bytes come back unchanged
        let archive = try Archive(url: url, accessMode: .read)
        let byID = Dictionary(uniqueKeysWithValues: records.map { ($0.sourceID!, $0.bytes) })
        for entry in archive where entry.path.hasPrefix("records/") {
            var data = Data()
            _ = try archive.extract(entry) { data.append($0) }
            let file = try #require(report.manifest?.files.first { $0.path == entry.path })
            #expect(data == byID[file.sourceID!])
        }

        // Sealed at rest (issue 10): the same build through the storage key. Read in order by the
        // stream reader, it gives the same verdict; unsealed, it is the very same ZIP.
        let sealer = StorageSealer.ephemeral()
        var sealedBuilder = PackageBuilder(key: key, renderer: try await PageRenderer(), sealer: sealer)
        sealedBuilder.zipLimits = builder.zipLimits
        let sealedURL = folder.appendingPathComponent("package.zip.sealed")
        _ = try await sealedBuilder.build(
            plan: plan, facts: ProductionPackageTests.facts, source: ListSource(all: records), at: ProductionPackageTests.t0, destination: sealedURL)
        let context = PackageBuilder.sealContext(caseID: plan.caseID, purpose: .production)
        #expect(PackageBuilder.caseID(fromSealContext: context) == plan.caseID && PackageBuilder.caseID(fromSealContext: "scratch") == nil)
        let sealedReport = await PackageVerifier.verify(sealedURL, publicKey: key.publicKey, sealer: sealer, context: context)
        #expect(sealedReport.isValid && sealedReport.manifest?.merkleRoot == report.manifest?.merkleRoot, "\(sealedReport.problems)")
        var unsealed = Data()
        try SealedFileReader(url: sealedURL, sealer: sealer, context: context).forEach { unsealed.append($0) }
        #expect(unsealed == bytes)
        #expect(try Data(contentsOf: sealedURL).range(of: Data("records/".utf8)) == nil)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasPrefix(".") }
        #expect(leftovers.isEmpty, "no scratch file outlives the build: \(leftovers)")
    }

    /// The stream reader refuses what Custos never writes and what a tamperer would: a changed
    /// byte (CRC), a cut-off end, bytes after the end, and a central directory that disagrees.
    @Test func theStreamReaderRefusesDamagedArchives() async throws {
        let (builder, _) = try await ProductionPackageTests.builder()
        var rng = SplitMix64(state: 7)
        let records = ProductionPackageTests.randomRecords(12, using: &rng)
        let folder = try ProductionPackageTests.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("package.zip")
        let plan = ProductionPackageTests.plan(categories: DataCategory.allCases.filter { $0 != .encryptionKeys }, window: nil)
        _ = try await builder.build(plan: plan, facts: ProductionPackageTests.facts, source: ListSource(all: records), at: ProductionPackageTests.t0, destination: url)
        let good = try Data(contentsOf: url)
        func read(_ bytes: Data) async throws -> StoredZipStreamReader.Contents {
            var pieces = stride(from: 0, to: bytes.count, by: 97).map { Data(bytes[$0..<min($0 + 97, bytes.count)]) }[...]
            var reader = StoredZipStreamReader(next: { pieces.popFirst() })
            return try await reader.read(keepingWhole: [PackageBuilder.manifestPath])
        }
        let contents = try await read(good)
        #expect(contents.entries.count == (try Archive(url: url, accessMode: .read)).map { $0 }.count)
        #expect(contents.whole[PackageBuilder.manifestPath].map { !$0.isEmpty } == true)

        // a byte inside the first non-empty entry's data: its CRC no longer matches
        func field(_ at: Int, _ width: Int) -> Int { (0..<width).reduce(0) { $0 | Int(good[at + $1]) << (8 * $1) } }
        var entry = 0
        while field(entry + 18, 4) == 0 { entry += 30 + field(entry + 26, 2) + field(entry + 28, 2) }
        var flipped = good
        flipped[entry + 30 + field(entry + 26, 2) + field(entry + 28, 2)] ^= 0x20
        await #expect(throws: PackageError.self) { try await read(flipped) }
        await #expect(throws: PackageError.self) { try await read(good.dropLast(5)) }
        await #expect(throws: PackageError.self) { try await read(good + Data([0])) }
        var renamed = good
        let lastName = try #require(good.range(of: Data("manifest.sig".utf8), options: .backwards))
        renamed[lastName.lowerBound] = UInt8(ascii: "M")  // the central directory's copy of the name
        await #expect(throws: PackageError.self) { try await read(renamed) }
    }
}
