import CustosDomain
import CustosServer
import CustosStorage
import CustosWeb
import Foundation

// Issue 5's package benchmark: builds a production package from --gib GiB of records and, in the
// same run, times `sha256sum` over the same bytes; reports both throughputs, their ratio and the
// build's peak RSS. The build runs in a child process of this program (`--build-from FILE`), so
// its peak RSS is its own, not the input generation's.
//
//   cd Benchmarks && swift run -c release PackageBuild [--gib 1] [--record-kib 64]

/// The benchmark's own signing and storage keys, 64 random bytes in its work folder, so the child
/// process signs and seals with the keys the parent verifies with (a server keeps them in its keyring).
func benchKeys(in folder: String) throws -> (signing: PackageSigningKey, sealer: StorageSealer) {
    let url = URL(fileURLWithPath: folder).appendingPathComponent("bench-keys")
    if !FileManager.default.fileExists(atPath: url.path) {
        var generator = SystemRandomNumberGenerator()
        try Data((0..<64).map { _ in UInt8.random(in: 0...255, using: &generator) }).write(to: url)
    }
    let raw = try Data(contentsOf: url)
    return (try PackageSigningKey(secret: raw.prefix(32)), try StorageSealer(singleKey: raw.suffix(32)))
}

/// Reads records of a fixed size from one file, as a source streaming from disk would.
struct FileRecordSource: CustomerDataSource {
    let name = "bench-file"
    let path: String
    let recordBytes: Int
    let start: Date

    /// Read by one consumer at a time, in order.
    final class Reader: @unchecked Sendable {
        let handle: FileHandle
        var index = 0
        init(_ path: String) { handle = FileHandle(forReadingAtPath: path)! }
    }

    func records(for plan: CollectionPlan) -> AsyncThrowingStream<CustomerRecord, any Error> {
        let reader = Reader(path)
        let (start, recordBytes) = (start, recordBytes)
        return AsyncThrowingStream {
            guard let chunk = try reader.handle.read(upToCount: recordBytes), !chunk.isEmpty else {
                try reader.handle.close()
                return nil
            }
            reader.index += 1
            return CustomerRecord(
                account: "acct-bench-001", category: .nonContent, timestamp: start.addingTimeInterval(Double(reader.index)),
                mediaType: "application/octet-stream", bytes: chunk, sourceID: "r\(reader.index)")
        }
    }
}

func option(_ name: String, _ fallback: Int) -> Int {
    let args = CommandLine.arguments
    guard let index = args.firstIndex(of: name), index + 1 < args.count, let value = Int(args[index + 1]) else { return fallback }
    return value
}

func peakRSSMiB(_ who: Int32 = RUSAGE_SELF.rawValue) -> Double {
    var usage = rusage()
    getrusage(__rusage_who_t(who), &usage)
    return Double(usage.ru_maxrss) / 1024  // Linux reports KiB
}

func stringOption(_ name: String) -> String? {
    let args = CommandLine.arguments
    guard let index = args.firstIndex(of: name), index + 1 < args.count else { return nil }
    return args[index + 1]
}

let start = Date(timeIntervalSince1970: 1_767_225_600)  // 2026-01-01
let plan = CollectionPlan(
    caseID: UUID(uuidString: "0bec0000-0000-4000-8000-000000000001")!, caseNumber: "C-BENCH", accounts: ["acct-bench-001"], categories: [.nonContent],
    window: DateWindow(from: start, to: start.addingTimeInterval(10_000_000)), asked: [.nonContent], allowed: [.nonContent], approved: [.nonContent])
let facts = PackageBuilder.CaseFacts(
    instrument: "us.court_order_2703d", jurisdiction: "US", issuingAuthority: "bench", requesterReference: "bench", legalBasis: ["18 U.S.C. § 2703(d)"],
    rulebookVersion: "bench")

// The child: build the package from the input file and report what it took, as one JSON line.
if let input = stringOption("--build-from"), let output = stringOption("--to"), let keyFolder = stringOption("--key-folder") {
    // Sealed at rest as the server does it (issue 10), unless --plain; the key folder's storage key.
    let keys = try benchKeys(in: keyFolder)
    let sealer = CommandLine.arguments.contains("--plain") ? StorageSealer.none : keys.sealer
    let builder = PackageBuilder(key: keys.signing, renderer: try await PageRenderer(), sealer: sealer)
    let clock = ContinuousClock()
    let begin = clock.now
    let result = try await builder.build(
        plan: plan, facts: facts, source: FileRecordSource(path: input, recordBytes: option("--record-kib", 64) * 1024, start: start), at: Date(),
        destination: URL(fileURLWithPath: output))
    let seconds = (clock.now - begin) / .seconds(1)
    let line = try JSONSerialization.data(withJSONObject: [
        "seconds": seconds, "records": result.fileCount, "packageBytes": result.packageBytes, "peakRSSMiB": peakRSSMiB(),
    ])
    print(String(decoding: line, as: UTF8.self))
    exit(0)
}



let gib = option("--gib", 1)
let recordBytes = option("--record-kib", 64) * 1024
let total = gib << 30
let folder = FileManager.default.temporaryDirectory.appendingPathComponent("custos-bench-package-\(UUID().uuidString)")
try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(at: folder) }
let raw = folder.appendingPathComponent("records.bin")

// 1. The records' bytes, written once: pseudo-random, so nothing compresses or caches specially.
_ = FileManager.default.createFile(atPath: raw.path, contents: nil)
let writer = try FileHandle(forWritingTo: raw)
var state: UInt64 = 0x9E37_79B9_7F4A_7C15
var block = [UInt64](repeating: 0, count: (4 << 20) / 8)
var written = 0
while written < total {
    for i in block.indices {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        block[i] = z ^ (z >> 31)
    }
    let bytes = block.withUnsafeBytes { Data($0.prefix(min($0.count, total - written))) }
    try writer.write(contentsOf: bytes)
    written += bytes.count
}
try writer.close()
let parentPeakMiB = peakRSSMiB()

// 2. sha256sum over the same bytes (the page cache is warm for both).
let clock = ContinuousClock()
let shaStart = clock.now
let process = Process()
process.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
process.arguments = [raw.path]
process.standardOutput = FileHandle.nullDevice
try process.run()
process.waitUntilExit()
let shaSeconds = (clock.now - shaStart) / .seconds(1)

// 3. The package, built by a child process of this program.
let benchKeyPair = try benchKeys(in: folder.path)
let key = benchKeyPair.signing
let plain = CommandLine.arguments.contains("--plain")
let sealer = plain ? StorageSealer.none : benchKeyPair.sealer
let packageURL = folder.appendingPathComponent(plain ? "package.zip" : "package.zip.sealed")
let child = Process()
child.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
child.arguments = ["--build-from", raw.path, "--to", packageURL.path, "--key-folder", folder.path, "--record-kib", String(recordBytes / 1024)] + (plain ? ["--plain"] : [])
let childOutput = Pipe()
child.standardOutput = childOutput
try child.run()
let childJSON = childOutput.fileHandleForReading.readDataToEndOfFile()
child.waitUntilExit()
guard child.terminationStatus == 0, let built = try JSONSerialization.jsonObject(with: childJSON) as? [String: Any],
    let buildSeconds = built["seconds"] as? Double
else { fatalError("the build child failed: \(String(decoding: childJSON, as: UTF8.self))") }
let verifyStart = clock.now
let verified = await PackageVerifier.verify(
    packageURL, publicKey: key.publicKey, sealer: sealer, context: PackageBuilder.sealContext(caseID: plan.caseID, purpose: .production)).isValid
let verifySeconds = (clock.now - verifyStart) / .seconds(1)

let mib = Double(total) / Double(1 << 20)
let report: [String: Any] = [
    "gib": gib, "recordKiB": recordBytes / 1024, "sealed": !plain, "records": built["records"] ?? 0, "packageBytes": built["packageBytes"] ?? 0,
    "sha256sumMiBps": (mib / shaSeconds).rounded(), "buildMiBps": (mib / buildSeconds).rounded(),
    "ratio": ((shaSeconds / buildSeconds) * 100).rounded() / 100, "verifyMiBps": (mib / verifySeconds).rounded(), "verified": verified,
    "buildPeakRSSMiB": ((built["peakRSSMiB"] as? Double) ?? -1).rounded(), "inputGenerationPeakRSSMiB": parentPeakMiB.rounded(),
]
let json = try JSONSerialization.data(withJSONObject: report, options: [.prettyPrinted, .sortedKeys])
print(String(decoding: json, as: UTF8.self))
