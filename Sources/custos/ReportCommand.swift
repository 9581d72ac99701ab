import ArgumentParser
import CustosDomain
import CustosServer
import CustosStorage
import Foundation

extension ReportFormat: ExpressibleByArgument {}
extension ReportSection: ExpressibleByArgument {}

/// `custos report build`: the transparency report for a period (a contract; see the README).
struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report", abstract: "The transparency report.", subcommands: [Build.self, Close.self, Verify.self])

    struct Close: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Close a finished period: freeze its report and sign its SHA-256 with the report key (printed: the signed note).")
        @Option(help: "YYYY-H1, YYYY-H2, or FROM..TO dates.") var period: String

        func validate() throws { _ = try parsePeriod(period) }

        func run() async throws {
            try await withServices { services in
                do {
                    let closed = try await services.closeReportPeriod(try parsePeriod(period), by: "cli")
                    print(closed.note, terminator: "")
                } catch let error as CustosServices.ReportPeriodError {
                    complain("\(error)")
                    throw ExitCode(2)
                } catch let error as ReportFactStore.AlreadyClosed {
                    complain("\(error)")
                    throw ExitCode(2)
                }
            }
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Recompute a closed period's report from the stored facts and check its signature; exit 1 naming every difference.")
        @Option(help: "YYYY-H1, YYYY-H2, or FROM..TO dates.") var period: String

        func validate() throws { _ = try parsePeriod(period) }

        func run() async throws {
            try await withServices { services in
                let problems: [String]
                do {
                    problems = try await services.verifyReportPeriod(try parsePeriod(period))
                } catch let error as CustosServices.ReportPeriodError {
                    complain("\(error)")
                    throw ExitCode(2)
                }
                guard problems.isEmpty else {
                    for problem in problems { complain("\(period): \(problem)") }
                    throw ExitCode(1)
                }
                say("\(period): the closed report holds (signature, hash, and recomputed from the stored facts)")
            }
        }
    }

    struct Build: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the report for a period.",
            discussion: """
                Formats: lerr-csv (Microsoft's columns, one section: criminal unless --section), google-csv (one row per \
                country and legal process), json (every section, the enterprise summary and what is counted apart), html (the \
                public page as one file, charts included).
                """)
        @Option(help: "YYYY-H1, YYYY-H2, or FROM..TO dates (2026-01-01..2026-03-31).") var period: String
        @Option(help: "lerr-csv, google-csv, json or html.") var format: ReportFormat
        @Option(help: "criminal, emergency or civil.") var section: ReportSection?

        func validate() throws { _ = try parsePeriod(period) }

        func run() async throws {
            let parsed = try parsePeriod(period)
            try await withServices { services in
                FileHandle.standardOutput.write(Data(try await services.buildReport(period: parsed, format: format, section: section).utf8))
            }
        }
    }
}

/// `--period`, or a usage error that says what a period looks like.
func parsePeriod(_ text: String) throws -> ReportPeriod {
    do {
        return try ReportPeriod(parsing: text)
    } catch {
        throw ValidationError("--period \(error)")
    }
}

/// `custos import cases FILE.jsonl`: historical cases from before Custos, as report facts.
struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "import", abstract: "Import records from before Custos.", subcommands: [Cases.self])

    struct Cases: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import historical cases for the transparency report, one JSON object per line.",
            discussion: """
                Each line: {"id", "receivedAt", "country", "section", "instrument", "accounts", "tenantKind", "outcome"}; outcome is \
                content, non_content, no_data, rejected, redirected or withdrawn. Every line is checked first: one bad line and nothing \
                is imported. Importing the same file again changes nothing (ids already stored are skipped).
                """)
        @Argument(help: "The JSON Lines file.") var file: String

        func run() async throws {
            guard let bytes = FileManager.default.contents(atPath: file) else { throw ValidationError("cannot read \(file)") }
            try await withServices { services in
                do {
                    switch try await services.importCases(jsonLines: bytes, by: "cli") {
                    case .rejected(let errors):
                        for error in errors.prefix(50) { complain("\(file): \(error)") }
                        if errors.count > 50 { complain("… and \(errors.count - 50) more") }
                        complain("nothing was imported (\(errors.count) bad line\(errors.count == 1 ? "" : "s"))")
                        throw ExitCode(2)
                    case .imported(let result):
                        say("imported \(result.inserted) case\(result.inserted == 1 ? "" : "s"); \(result.unchanged) already present")
                    }
                } catch let conflict as ReportFactStore.Conflict {
                    complain("\(file): \(conflict)")
                    throw ExitCode(2)
                }
            }
        }
    }
}
