import ArgumentParser
import CustosServer
import CustosStorage
import Foundation

/// `custos keys rotate`: a new storage key, everything resealed with it, the old keys removed (issue 10).
struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "keys", abstract: "Keys that seal stored documents.", subcommands: [Rotate.self])

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a new storage key, reseal every stored document, attachment, second-factor key and package with it, and remove the old keys.",
            discussion: "Stop the server first: the command refuses to run beside a server on the same data folder. Interrupted, it leaves everything readable; run it again to finish. With CUSTOS_STORAGE_KEY set, the key comes from the environment: set the new one there and run the command to reseal.")

        func run() async throws {
            let configuration = AppConfiguration(reader: makeReader())
            let folderLock: DataFolderLock
            do {
                folderLock = try DataFolderLock(folder: configuration.dataDirectory, mode: .exclusive)
            } catch {
                complain("\(error)")
                throw ExitCode(2)
            }
            defer { withExtendedLifetime(folderLock) {} }
            if configuration.storageKey?.isEmpty ?? true {
                _ = try StorageSealer.rotate(folder: configuration.dataDirectory)
            }
            try await withServices { services in
                let packages = try services.resealPackages()
                let result = try await StorageKeyRotation.reseal(services.database, actor: "cli", at: services.now(), packagesResealed: packages)
                let removed = configuration.storageKey?.isEmpty ?? true ? try services.database.sealer.retireOldKeys(folder: configuration.dataDirectory) : 0
                say("Storage key \(services.database.sealer.currentID ?? "-") is current: resealed \(result.documents) document(s), \(result.attachments) attachment(s), \(result.secondFactorKeys) second-factor key(s), \(result.packages) package(s); \(removed) old key(s) removed.")
            }
        }
    }
}
