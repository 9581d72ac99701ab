import ArgumentParser
import CustosDomain
import CustosServer
import Foundation

/// `custos agency import|list`: the agency directory that requesters and verification callbacks
/// are checked against (issue 8; a contract, see the README).
struct AgencyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agency", abstract: "The agency directory: official domains and independently sourced numbers.",
        subcommands: [Import.self, List.self])

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add agencies, domains and numbers from a CSV file (name,country,kind,domains,phone,phone_label,phone_source).",
            discussion: "Every row is checked first; one bad row and nothing is stored (each is named, exit 2). Existing agencies keep what they have and gain what is new; each change is audited.")
        @Argument(help: "The CSV file.") var file: String

        func run() async throws {
            guard let data = FileManager.default.contents(atPath: file), let text = String(data: data, encoding: .utf8) else {
                complain("cannot read \(file) as UTF-8 text")
                throw ExitCode(2)
            }
            try await withServices { services in
                switch try await services.importAgencyDirectory(csv: text, by: "cli") {
                case .imported(let created, let updated, let unchanged):
                    say("agency directory: \(created) created, \(updated) updated, \(unchanged) unchanged")
                case .rejected(let errors):
                    for error in errors { complain("\(file): \(error)") }
                    complain("nothing was imported (\(errors.count) bad \(errors.count == 1 ? "row" : "rows"))")
                    throw ExitCode(2)
                }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print every agency with its domains and numbers.")

        func run() async throws {
            try await withServices { services in
                for agency in try await services.directory.agencies() {
                    say("\(agency.name) (\(agency.country), \(agency.kind.rawValue))")
                    say("  domains: \(agency.domains.isEmpty ? "none" : agency.domains.joined(separator: " "))")
                    for phone in agency.phones { say("  phone: \(phone.number) · \(phone.label) · source: \(phone.source)") }
                    if agency.phones.isEmpty { say("  phone: none (a callback cannot be made until one is added)") }
                }
            }
        }
    }
}
