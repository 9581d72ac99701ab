import ArgumentParser
import CustosDomain
import CustosServer
import Foundation

/// `custos blocklist key|add|export|import|list`: compromised requester addresses and domains,
/// shared as signed notes between installations without a central vendor (issue 8; a contract,
/// see the README).
struct BlocklistCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "blocklist", abstract: "The shared requester blocklist (signed feeds).",
        subcommands: [Key.self, Add.self, Export.self, Import.self, List.self])

    struct Key: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print this installation's blocklist verifier key, for the installations that import its feed.")
        func run() async throws {
            try await withServices { services in say(services.transparencyKeys.blocklist.verifierKey) }
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Block a compromised requester address or domain (audited).")
        @Option(help: "An e-mail address.") var address: String?
        @Option(help: "A domain (its subdomains are blocked too).") var domain: String?
        @Option(help: "Why (kept with the entry).") var reason: String

        func validate() throws {
            guard (address == nil) != (domain == nil) else { throw ValidationError("give either --address or --domain") }
            if let address, !address.contains("@") { throw ValidationError("--address must be an e-mail address") }
            if let domain, domain.contains("@") || !domain.contains(".") { throw ValidationError("--domain must be a domain such as example-gov.com") }
            if reason.trimmingCharacters(in: .whitespaces).isEmpty { throw ValidationError("--reason must say why") }
        }

        func run() async throws {
            let entry = address.map { BlocklistEntry(kind: .address, value: $0) } ?? BlocklistEntry(kind: .domain, value: domain ?? "")
            try await withServices { services in
                let added = try await services.blocklist.add(entry, reason: reason, by: "cli", at: services.now())
                say(added ? "blocked \(entry.kind.rawValue) \(entry.value)" : "\(entry.kind.rawValue) \(entry.value) was blocked already")
            }
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print this installation's feed as a signed note: its own entries and blocklisted requesters' addresses.")
        @Flag(help: "Share SHA-256s of the addresses and domains instead of the values.") var hashed = false
        func run() async throws {
            try await withServices { services in print(try await services.exportBlocklist(hashed: hashed), terminator: "") }
        }
    }

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Take another installation's feed if it verifies with that installation's key; it replaces that key's earlier feed.",
            discussion: "Exit 2 when the signature, the key or the feed's format is wrong; nothing is stored then.")
        @Argument(help: "The feed file (a signed note).") var file: String
        @Option(help: "The other installation's verifier key (custos blocklist key there).") var key: String

        func run() async throws {
            guard let data = FileManager.default.contents(atPath: file), let text = String(data: data, encoding: .utf8) else {
                complain("cannot read \(file) as UTF-8 text")
                throw ExitCode(2)
            }
            try await withServices { services in
                do {
                    let imported = try await services.importBlocklist(note: text, verifierKey: key)
                    say("imported \(imported.entries) entries from \(imported.origin)")
                } catch let error as CustosServices.BlocklistImportError {
                    complain("\(file): \(error)")
                    throw ExitCode(2)
                }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print how many entries each source holds.")
        func run() async throws {
            try await withServices { services in
                for (source, count) in try await services.blocklist.sources().sorted(by: { $0.key < $1.key }) { say("\(source): \(count)") }
            }
        }
    }
}
