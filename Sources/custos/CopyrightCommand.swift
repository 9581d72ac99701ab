import ArgumentParser
import CustosDomain
import CustosServer
import Foundation

/// `custos copyright`: copyright notices from the command line (issue 9).
struct CopyrightCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "copyright", abstract: "Copyright notices (17 U.S.C. § 512).", subcommands: [List.self, Stats.self, Lumen.self, Tick.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print every notice: number, state, customer.")
        func run() async throws {
            try await withServices { services in
                for notice in try await services.copyright.list() {
                    say("\(notice.number)  \(notice.state.rawValue.padding(toLength: 22, withPad: " ", startingAt: 0))  \(notice.tenantName ?? "-")  \(Timestamp.format(notice.receivedAt))")
                }
            }
        }
    }

    struct Stats: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print what the notices received in a period came to.")
        @Option(help: "YYYY-H1, YYYY-H2 or FROM..TO (default: the current half-year).") var period: String?

        func run() async throws {
            try await withServices { services in
                let chosen: ReportPeriod
                do {
                    chosen = try period.map { try ReportPeriod(parsing: $0) } ?? ReportPeriod.halfYear(containing: services.now())
                } catch {
                    throw ValidationError("--period: \(error)")
                }
                let figures = try await services.copyright.figures(in: chosen)
                say("Copyright notices, \(chosen.description) (each step counted when it happened):")
                for (label, value) in figures.rows { say("  \(String(value).padding(toLength: 6, withPad: " ", startingAt: 0)) \(label)") }
            }
        }
    }

    struct Lumen: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the notices (and counter-notices) received in a period in Lumen's JSON format, personal data redacted.",
            discussion: "Only notices older than CUSTOS_LUMEN_DELAY_DAYS are printed (Lumen's publication delay).")
        @Option(help: "First day, YYYY-MM-DD (default: the beginning).") var from: String?
        @Option(help: "Day after the last, YYYY-MM-DD (default: tomorrow).") var to: String?

        func run() async throws {
            func day(_ text: String?, _ name: String) throws -> Date? {
                guard let text else { return nil }
                guard let date = Timestamp.parse(text + "T00:00:00Z") else { throw ValidationError("--\(name) must be a date like 2026-01-31") }
                return date
            }
            let start = try day(from, "from") ?? Date(timeIntervalSince1970: 0)
            let end = try day(to, "to")
            try await withServices { services in
                let now = services.now()
                let envelopes = LumenExport.envelopes(
                    try await services.copyright.received(from: start, to: end ?? now.addingTimeInterval(86_400)), provider: services.configuration.reportService,
                    at: now, delay: TimeInterval(services.configuration.lumenDelayDays) * 86_400)
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                print(String(decoding: try encoder.encode(envelopes), as: UTF8.self))
            }
        }
    }

    struct Tick: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the copyright runner once: mark unanswered notices and send queued mail (the server does it every few seconds).")
        func run() async throws {
            try await withServices { services in
                let report = try await CopyrightRunner(services: services, interval: .seconds(5)).tick()
                say("\(report.unanswered) notice(s) past their answer date; \(report.sent) mail(s) sent, \(report.retried) to retry.")
            }
        }
    }
}
