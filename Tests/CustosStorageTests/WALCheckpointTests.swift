@testable import CustosStorage
import Foundation
import Logging
import NIOPosix
import SQLiteNIO
import Testing

/// The background WAL checkpoints a serving SQLite database runs (`SQLiteCheckpointer`): they
/// copy the log into the file, let it start over, and never stand in a transaction's way.
@Suite(.timeLimit(.minutes(1))) struct WALCheckpointTests {
    /// A migrated database in a folder of its own, with the legal-process log holding `entries`.
    static func database(entries: Int) async throws -> (CustosDatabase, MerkleLogStore, URL) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("custos-wal-\(UUID())")
        let database = try CustosDatabase(
            location: .sqliteFile(path: folder.appendingPathComponent("custos.sqlite").path), logger: Logger(label: "test"), checkpointInterval: .seconds(1))
        try await database.migrate()
        let logs = MerkleLogStore(store: database)
        _ = try await logs.appendEntries((0..<entries).map { Data("entry \($0)\n".utf8) }, to: .legalProcess)
        return (database, logs, folder)
    }

    /// A round copies every committed frame, and the log then starts over: the second round
    /// finds only the one append after it.
    @Test func aRoundCopiesTheLogAndStartsItOver() async throws {
        let (database, logs, folder) = try await Self.database(entries: 2_000)
        defer { try? FileManager.default.removeItem(at: folder) }
        let first = try #require(try await database.checkpointWAL())
        #expect(!first.busy)
        #expect(first.logFrames > 0)
        #expect(first.checkpointedFrames == first.logFrames)

        _ = try await logs.appendEntries([Data("one more\n".utf8)], to: .legalProcess)
        let second = try #require(try await database.checkpointWAL())
        #expect(!second.busy)
        #expect(second.logFrames > 0)
        #expect(second.logFrames < first.logFrames / 10)  // only the one append's pages
        #expect(second.checkpointedFrames == second.logFrames)
        #expect(try await logs.head(.legalProcess).size == 2_001)
        await database.shutdown()
    }

    /// A reader holding an old snapshot keeps the frames after it from being copied: the round
    /// copies the rest without waiting, the writer commits meanwhile, and once the reader is done
    /// the next round copies everything.
    @Test func aRoundCopiesAroundAReaderWithoutWaiting() async throws {
        let (database, logs, folder) = try await Self.database(entries: 100)
        defer { try? FileManager.default.removeItem(at: folder) }
        _ = try #require(try await database.checkpointWAL())
        _ = try await logs.appendEntries([Data("before the snapshot\n".utf8)], to: .legalProcess)
        let reader = try await SQLiteConnection.open(
            storage: .file(path: folder.appendingPathComponent("custos.sqlite").path), threadPool: NIOThreadPool.singleton, logger: Logger(label: "test"),
            on: MultiThreadedEventLoopGroup.singleton.any())
        _ = try await reader.query("BEGIN")
        _ = try await reader.query("SELECT count(*) FROM log_nodes")  // the read snapshot starts here
        _ = try await logs.appendEntries([Data("after the snapshot\n".utf8)], to: .legalProcess)

        let partial = try #require(try await database.checkpointWAL())
        #expect(!partial.busy)
        #expect(partial.checkpointedFrames < partial.logFrames)
        _ = try await logs.appendEntries([Data("while the reader still reads\n".utf8)], to: .legalProcess)
        #expect(try await logs.head(.legalProcess).size == 103)

        _ = try await reader.query("COMMIT")
        try await reader.close()
        let whole = try #require(try await database.checkpointWAL())
        #expect(whole.checkpointedFrames == whole.logFrames)
        await database.shutdown()
        #expect(try await database.checkpointWAL() == nil)  // closed with the database
    }

    /// Only a SQLite file given an interval has rounds: not an in-memory one, not one opened without (the CLI).
    @Test func onlyASQLiteFileIsCheckpointed() async throws {
        let memory = try CustosDatabase(location: .sqliteInMemory, logger: Logger(label: "test"), checkpointInterval: .seconds(1))
        #expect(try await memory.checkpointWAL() == nil)
        await memory.shutdown()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("custos-wal-\(UUID())")
        defer { try? FileManager.default.removeItem(at: folder) }
        let unserved = try CustosDatabase(location: .sqliteFile(path: folder.appendingPathComponent("custos.sqlite").path), logger: Logger(label: "test"))
        #expect(try await unserved.checkpointWAL() == nil)
        await unserved.shutdown()
    }
}

extension WALCheckpointTests {
    /// A transaction that reads before it writes (as every fluent transaction here does) cannot
    /// wait for the writer's lock once it holds a snapshot: SQLite answers BUSY at once. So no
    /// round may ever take the writer's lock; transactions run beside rounds and never fail.
    @Test func transactionsNeverFailBesideRounds() async throws {
        let (database, logs, folder) = try await Self.database(entries: 10)
        defer { try? FileManager.default.removeItem(at: folder) }
        let rounds = Task { () -> Result<Int, any Error> in
            var count = 0
            while !Task.isCancelled {
                do {
                    _ = try await database.checkpointWAL()
                } catch {
                    return Task.isCancelled ? .success(count) : .failure(error)
                }
                count += 1
            }
            return .success(count)
        }
        var failure: (any Error)?
        do {
            for index in 0..<300 {
                _ = try await logs.appendEntries((0..<20).map { Data("entry \(index)-\($0)\n".utf8) }, to: .legalProcess)
            }
        } catch {
            failure = error
        }
        rounds.cancel()
        let roundsRun = await rounds.value
        let size = try? await logs.head(.legalProcess).size
        await database.shutdown()  // before any expectation, so that a failure cannot leave the pool open
        #expect(failure == nil, "a transaction beside the rounds failed: \(String(describing: failure))")
        switch roundsRun {
        case .success(let count): #expect(count > 10)
        case .failure(let error): Issue.record("a checkpoint round failed: \(error)")
        }
        #expect(size == 10 + 300 * 20)
    }
}
