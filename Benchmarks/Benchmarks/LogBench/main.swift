import Crypto
import CustosDomain
import CustosServer
import CustosStorage
import Foundation
import Logging
import MerkleLog

/// Issue 6's three figures, on SQLite files in a scratch folder (the embedded default):
/// 1. durable audit appends per second: each batch one committed transaction (WAL, synchronous=FULL),
///    at batch sizes 1, 100 and 1000;
/// 2. inclusion proof generation at 10,000,000 leaves (one indexed query, fold), p50/p99 of 2,000 proofs;
/// 3. `custos log verify` over 1,000,000 audit entries against raw SHA-256 over the same leaf bytes.
/// Usage: LogBench [--rounds N] [--read-only DIR | --verify-only DIR | --verify-alone DIR | --query-cost DIR] [--folder DIR] [--proof-leaves N] [--verify-leaves N] [--appends-only] [--cases N] [--no-background-checkpoints] [--proofs-only]
@main
struct LogBench {
    static func main() async throws {
        var arguments = CommandLine.arguments.dropFirst()
        var folder = NSTemporaryDirectory() + "custos-logbench"
        var proofLeaves = 10_000_000
        var verifyLeaves = 1_000_000
        var appendsOnly = false
        var caseCount = 1000
        var proofsOnly = false
        var backgroundCheckpoints = true
        var rounds = 5
        while let flag = arguments.popFirst() {
            switch flag {
            case "--read-only", "--verify-only":
                // Profile the read path (and verification alone) of an installation a previous run left behind.
                let services = try await buildServices(settings: ["custos.data.dir": arguments.popFirst()!, "custos.log.level": "error"])
                if flag == "--read-only" {
                    let start = ContinuousClock.now
                    let count = try await readAll(services)
                    print("read \(count) in \((ContinuousClock.now - start).seconds) s")
                }
                if flag == "--verify-only" {
                    // The same comparison as a full run, on the installation left behind.
                    try await compareVerification(services, rounds: rounds)
                } else {
                    let verifyStart = ContinuousClock.now
                    let result = try await services.verifyLog(.audit)
                    print("verifyLog(.audit): \(result.size) entries, holds \(result.holds), \(String(format: "%.2f", (ContinuousClock.now - verifyStart).seconds)) s")
                }
                await services.shutdown()
                return
            case "--verify-alone":
                // verifyLog alone, `--rounds` times, with the CPU time it used (for profiling).
                let services = try await buildServices(settings: ["custos.data.dir": arguments.popFirst()!, "custos.log.level": "error"])
                for _ in 0..<rounds {
                    let cpuBefore = cpuSeconds()
                    let start = ContinuousClock.now
                    let result = try await services.verifyLog(.audit)
                    let wall = (ContinuousClock.now - start).seconds
                    let cpu = cpuSeconds()
                    print(String(format: "verifyLog(.audit): %d entries, holds %@, %.2f s wall, %.2f s user + %.2f s system CPU", Int(result.size), "\(result.holds)", wall, cpu.user - cpuBefore.user, cpu.system - cpuBefore.system))
                }
                await services.shutdown()
                return
            case "--query-cost":
                // What one read costs through fluent-kit's query builder and as a plain statement
                // (`ModelStatements`' reason): 5,000 lookups of a principal by id each way, on any
                // migrated data folder (the id is random, so no row is decoded either way).
                let services = try await buildServices(settings: ["custos.data.dir": arguments.popFirst()!, "custos.log.level": "error"])
                for (label, plain) in [("plain statement", true), ("fluent-kit query", false)] {
                    let cpuBefore = cpuSeconds()
                    let start = ContinuousClock.now
                    for _ in 0..<5_000 {
                        if plain { _ = try await services.identity.requesterFacts(principalID: UUID()) } else { _ = try await services.identity.findPrincipal(id: UUID()) }
                    }
                    let cpu = cpuSeconds()
                    let perQuery = { (seconds: Double) in seconds / 5_000 * 1e6 }
                    print(String(format: "%@: %.0f µs wall, %.0f µs CPU per read", label, perQuery((ContinuousClock.now - start).seconds),
                        perQuery(cpu.user + cpu.system - cpuBefore.user - cpuBefore.system)))
                }
                await services.shutdown()
                return
            case "--rounds": rounds = Int(arguments.popFirst()!)!  // verification rounds, each raw SHA-256 then verifyLog
            case "--proofs-only": proofsOnly = true  // re-time proofs on the proof log a run left behind
            case "--cases": caseCount = Int(arguments.popFirst()!)!
            case "--appends-only": appendsOnly = true  // for profiling the append path
            // Appends as the CLI makes them: SQLite checkpoints inside the commit that fills the WAL.
            case "--no-background-checkpoints": backgroundCheckpoints = false
            case "--folder": folder = arguments.popFirst()!
            case "--proof-leaves": proofLeaves = Int(arguments.popFirst()!)!
            case "--verify-leaves": verifyLeaves = Int(arguments.popFirst()!)!
            default: fatalError("unknown flag \(flag)")
            }
        }
        var logger = Logger(label: "bench")
        logger.logLevel = .error
        if !proofsOnly {
            try? FileManager.default.removeItem(atPath: folder)
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)

            // 1 + 3: the audit log of a real installation (services as `serve` builds them).
            let services = try await buildServices(settings: ["custos.data.dir": folder + "/install", "custos.log.level": "error"])
            // Entries spread round-robin over 1,000 open cases, as on a busy installation (`--cases N`).
            let caseIDs = (0..<caseCount).map { _ in UUID() }
            let record = { (i: Int) in
                AuditRecord(
                    caseID: caseIDs[i % caseCount], subject: "case:\(caseIDs[i % caseCount].uuidString.lowercased())", action: "document.downloaded", outcome: .read,
                    actor: "staff:reviewer@provider.example", at: Date(timeIntervalSince1970: 1_790_000_000 + Double(i)),
                    details: ["document": "warrant-\(i).pdf", "sha256": String(repeating: "ab", count: 32), "via": "staff console"])
            }
            // A server copies the WAL into the file in the background (`CustosDatabase.run()`).
            let checkpointing = backgroundCheckpoints ? Task { await services.database.checkpointWALUntilCancelled() } : nil
            print("durable audit appends (SQLite file, WAL, one commit per batch\(backgroundCheckpoints ? ", WAL checkpointed in the background" : "")):")
            var appended = 0
            for batch in [1, 100, 1000] {
                let total = batch == 1 ? 2_000 : 100_000
                let start = ContinuousClock.now
                for first in stride(from: 0, to: total, by: batch) {
                    try await services.cases.record((first..<first + batch).map { record(appended + $0) })
                }
                let seconds = (ContinuousClock.now - start).seconds
                appended += total
                print("  batch \(batch): \(total) appends in \(String(format: "%.2f", seconds)) s = \(Int(Double(total) / seconds)) appends/s")
            }
            checkpointing?.cancel()
            await checkpointing?.value
            if appendsOnly {
                await services.shutdown()
                return
            }
            // The log layer alone: leaves with their entry bytes (the size of an audit leaf), 1,000 per commit.
            do {
                let entry = Data(repeating: 0x61, count: 540) + Data("\n".utf8)
                let start = ContinuousClock.now
                for _ in 0..<100 { _ = try await services.logs.appendEntries(Array(repeating: entry, count: 1000), to: .legalProcess) }
                let seconds = (ContinuousClock.now - start).seconds
                print("  log layer only (541-byte entries, batch 1000): 100000 appends in \(String(format: "%.2f", seconds)) s = \(Int(100_000 / seconds)) appends/s")
            }
            // Fill up to the verification size in large batches (not measured).
            while appended < verifyLeaves {
                let n = min(10_000, verifyLeaves - appended)
                try await services.cases.record((0..<n).map { record(appended + $0) })
                appended += n
            }
            try await services.checkpoint(.audit)
            // Where verification's time goes: reading the entries back alone.
            let readStart = ContinuousClock.now
            let readCount = try await readAll(services)
            print("  reading the \(readCount) entries back (no hashing): \(String(format: "%.2f", (ContinuousClock.now - readStart).seconds)) s")
            try await compareVerification(services, rounds: rounds)
            await services.shutdown()
        }

        // 2: a 10M-leaf public log (small entries; the proof touches only the tree).
        let database = try CustosDatabase(location: .sqliteFile(path: folder + "/proofs.sqlite"), logger: logger)
        try await database.migrate()
        let logs = MerkleLogStore(store: database)
        let fillStart = ContinuousClock.now
        var size = Int(try await logs.head(.legalProcess).size)
        while size < proofLeaves {
            let n = min(50_000, proofLeaves - size)
            _ = try await logs.appendEntries((0..<n).map { Data("entry \(size + $0)\n".utf8) }, to: .legalProcess)
            size += n
        }
        print("built a \(size)-leaf log in \(String(format: "%.0f", (ContinuousClock.now - fillStart).seconds)) s")
        let head = try await logs.head(.legalProcess)
        // This VM drops a file's cached pages within seconds even with memory free (BENCHMARKS.md),
        // so proofs are timed twice: on the file as the page cache holds it, then after reading it
        // through once, as on a server whose log is in memory.
        try await timeProofs(logs, head: head, label: "file pages as cached")
        let file = try FileHandle(forReadingFrom: URL(fileURLWithPath: folder + "/proofs.sqlite"))
        while let chunk = try file.read(upToCount: 1 << 24), !chunk.isEmpty {}
        try file.close()
        try await timeProofs(logs, head: head, label: "file read through first")
        await database.shutdown()
    }
}

/// Times 2,000 inclusion proofs at random indices (after 100 that warm SQLite's cache), each verified.
func timeProofs(_ logs: MerkleLogStore, head: (size: UInt64, root: Data), label: String) async throws {
    var generator = SystemRandomNumberGenerator()
    var timings: [Double] = []
    for sample in 0..<2_100 {
        let index = UInt64.random(in: 0..<head.size, using: &generator)
        let start = ContinuousClock.now
        let proof = try await logs.inclusionProof(.legalProcess, index: index, size: head.size)
        let elapsed = (ContinuousClock.now - start).seconds
        if sample >= 100 { timings.append(elapsed * 1000) }
        try ProofVerification.verifyInclusion(
            index: index, size: head.size, leafHash: MerkleHash.leaf(Data("entry \(index)\n".utf8)), proof: proof, root: head.root)
    }
    timings.sort()
    func pct(_ p: Double) -> String { String(format: "%.3f", timings[min(timings.count - 1, Int(Double(timings.count) * p))]) }
    print("inclusion proof at \(head.size) leaves (\(timings.count) random indices, verified; \(label)): p50 \(pct(0.5)) ms, p99 \(pct(0.99)) ms, max \(pct(1.0)) ms")
}

/// Every audit leaf's bytes, in memory.
func leafBytes(_ services: CustosServices) async throws -> [Data] {
    var leaves: [Data] = []
    var after = 0
    while true {
        let page = try await services.logs.auditLeafInputs(afterSequence: after, limit: 50_000)
        guard let last = page.last else { return leaves }
        leaves.append(contentsOf: page.map(\.leaf))
        after = last.sequence
    }
}

/// Full verification against raw SHA-256 over exactly the bytes it hashes (every leaf, held in
/// memory), in one process: `rounds` rounds, each the raw pass then `verifyLog`, so both sides
/// see the machine in the same state. Prints each round's ratio, their median, and the ratio of
/// each side's best time.
func compareVerification(_ services: CustosServices, rounds: Int) async throws {
    let leaves = try await leafBytes(services)
    let mib = Double(leaves.reduce(0) { $0 + $1.count }) / 1_048_576
    var raws: [Double] = [], verifies: [Double] = [], ratios: [Double] = []
    for round in 1...rounds {
        let start = ContinuousClock.now
        var sink: UInt8 = 0
        for bytes in leaves { sink ^= SHA256.hash(data: bytes).withUnsafeBytes { $0[0] } }
        let raw = (ContinuousClock.now - start).seconds
        let verifyStart = ContinuousClock.now
        let result = try await services.verifyLog(.audit)
        let verify = (ContinuousClock.now - verifyStart).seconds
        precondition(result.holds, "\(result.problems)")
        raws.append(raw)
        verifies.append(verify)
        ratios.append(raw / verify)
        print(String(format: "  round %d: raw SHA-256 over %.1f MiB of leaves %.2f s [%d], verifyLog over %d entries %.2f s: %.2f×", round, mib, raw, Int(sink), Int(result.size), verify, raw / verify))
    }
    let median = ratios.sorted()[ratios.count / 2]
    print(String(format: "verify ÷ raw SHA-256: median of %d rounds %.2f× (%.2f–%.2f×); best times %.2f s ÷ %.2f s = %.2f×",
        rounds, median, ratios.min()!, ratios.max()!, raws.min()!, verifies.min()!, raws.min()! / verifies.min()!))
}

/// Reads every audit entry back the way verification does (without hashing); returns how many.
func readAll(_ services: CustosServices) async throws -> Int {
    var after = 0
    var count = 0
    while true {
        let page = try await services.logs.auditEntryPage(afterSequence: after, limit: CustosServices.verificationPage)
        guard let last = page.sequences.last else { return count }
        count += page.count
        after = last
    }
}

/// The process's user and system CPU seconds so far.
func cpuSeconds() -> (user: Double, system: Double) {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
    return (seconds(usage.ru_utime), seconds(usage.ru_stime))
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
