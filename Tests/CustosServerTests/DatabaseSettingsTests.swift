import Configuration
import CustosServer
import Foundation
import Testing

/// The database settings a server starts with.
struct DatabaseSettingsTests {
    /// `CUSTOS_SQLITE_CHECKPOINT_MILLISECONDS`: a server on a SQLite file copies its WAL in the
    /// background by default, 0 leaves it to SQLite's commits, and a negative value stops startup.
    @Test func sqliteCheckpointsRunInTheBackgroundUnlessTurnedOff() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("custos-settings-\(UUID())")
        defer { try? FileManager.default.removeItem(at: folder) }
        func reader(_ milliseconds: Int?) -> ConfigReader {
            var values: [AbsoluteConfigKey: ConfigValue] = [
                "custos.log.level": "error", "custos.data.dir": .init(.string(folder.path), isSecret: false),
            ]
            if let milliseconds { values["custos.sqlite.checkpoint.milliseconds"] = .init(.int(milliseconds), isSecret: false) }
            return ConfigReader(providers: [InMemoryProvider(values: values)])
        }
        let byDefault = try await buildServices(reader: reader(nil))
        #expect(byDefault.database.checkpointsInBackground)
        await byDefault.shutdown()
        let off = try await buildServices(reader: reader(0))
        #expect(!off.database.checkpointsInBackground)
        await off.shutdown()
        await #expect(throws: ConfigurationProblem.self) { _ = try await buildServices(reader: reader(-1)) }
        let memory = try await buildServices(reader: ConfigReader(providers: [InMemoryProvider(values: ["custos.database.memory": true])]))
        #expect(!memory.database.checkpointsInBackground)
        await memory.shutdown()
    }
}
