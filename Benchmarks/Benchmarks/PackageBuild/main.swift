import CustosDomain
import CustosServer
import CustosWeb
import Foundation

// Issue 5's package benchmark: builds a production package from --gib GiB of records and, in the
// same run, times `sha256sum` over the same bytes; reports both throughputs, their ratio and the
// builder's peak RSS.
//
//   cd Benchmarks && swift run -c release PackageBuild [--gib 1] [--record-kib 64]

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

func peakRSSMiB() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_maxrss) / 1024  // Linux reports KiB
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
let rssBefore = peakRSSMiB()

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

// 3. The package.
let start = Date(timeIntervalSince1970: 1_767_225_600)  // 2026-01-01
let plan = CollectionPlan(
    caseID: UUID(), caseNumber: "C-BENCH", accounts: ["acct-bench-001"], categories: [.nonContent],
    window: DateWindow(from: start, to: start.addingTimeInterval(10_000_000)), asked: [.nonContent], allowed: [.nonContent], approved: [.nonContent])
let builder = PackageBuilder(key: PackageSigningKey(privateKey: .init()), renderer: try await PageRenderer())
let facts = PackageBuilder.CaseFacts(
    instrument: "us.court_order_2703d", jurisdiction: "US", issuingAuthority: "bench", requesterReference: "bench", legalBasis: ["18 U.S.C. § 2703(d)"],
    rulebookVersion: "bench")
let buildStart = clock.now
let result = try await builder.build(
    plan: plan, facts: facts, source: FileRecordSource(path: raw.path, recordBytes: recordBytes, start: start), at: Date(),
    destination: folder.appendingPathComponent("package.zip"))
let buildSeconds = (clock.now - buildStart) / .seconds(1)
let verifyStart = clock.now
let verified = PackageVerifier.verify(folder.appendingPathComponent("package.zip"), publicKey: builder.signingPublicKey).isValid
let verifySeconds = (clock.now - verifyStart) / .seconds(1)

let mib = Double(total) / Double(1 << 20)
let report: [String: Any] = [
    "gib": gib, "recordKiB": recordBytes / 1024, "records": result.manifest.files.count, "packageBytes": result.packageBytes,
    "sha256sumMiBps": (mib / shaSeconds).rounded(), "buildMiBps": (mib / buildSeconds).rounded(),
    "ratio": ((shaSeconds / buildSeconds) * 100).rounded() / 100, "verifyMiBps": (mib / verifySeconds).rounded(), "verified": verified,
    "peakRSSMiB": peakRSSMiB().rounded(), "peakRSSBeforeBuildMiB": rssBefore.rounded(),
]
let json = try JSONSerialization.data(withJSONObject: report, options: [.prettyPrinted, .sortedKeys])
print(String(decoding: json, as: UTF8.self))
