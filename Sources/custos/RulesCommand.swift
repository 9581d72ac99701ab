import ArgumentParser
import CustosDomain
import Foundation

/// `custos rules check FILE` and `custos rules assess` (a contract: see the README).
struct Rules: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The legal rulebook: validate a rulebook file, or assess one demand.",
        subcommands: [Check.self, Assess.self])

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate a rulebook file; prints every problem with its location and exits non-zero if any.")

        @Argument(help: "The rulebook JSON file.") var file: String

        func run() throws {
            do {
                let rulebook = try Rulebook.load(contentsOf: file)
                let instruments = Set(rulebook.rules.flatMap(\.instruments)).subtracting(["*"])
                say("\(file): valid rulebook \(rulebook.version): \(rulebook.rules.count) rules over \(instruments.count) instruments, \(rulebook.calendars.count) calendars")
            } catch {
                complain(error.description)
                throw ExitCode(2)
            }
        }
    }

    struct Assess: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Read {\"demand\": …, \"customer\": …, \"at\": …} from standard input and print the assessment as JSON.",
            discussion: "Uses the rulebook named by CUSTOS_RULEBOOK (or --rulebook), else the bundled one. \"at\" defaults to now.")

        @Option(help: "A rulebook file to use instead of CUSTOS_RULEBOOK or the bundled rulebook.") var rulebook: String?

        func run() throws {
            let book: Rulebook
            do {
                if let path = rulebook ?? ProcessInfo.processInfo.environment["CUSTOS_RULEBOOK"], !path.isEmpty {
                    book = try Rulebook.load(contentsOf: path)
                } else {
                    book = try Rulebook.bundled()
                }
            } catch {
                complain(error.description)
                throw ExitCode(2)
            }
            let input = FileHandle.standardInput.readDataToEndOfFile()
            guard !input.isEmpty else {
                complain("custos rules assess: expected one JSON object on standard input, got nothing")
                throw ExitCode(2)
            }
            do {
                let (demand, customer, at) = try AssessmentRequest.parse(input, now: Date())
                let encoder = CustosJSON.makeEncoder()
                encoder.outputFormatting.insert(.prettyPrinted)
                say(String(decoding: try encoder.encode(book.assess(demand, customer: customer, at: at)), as: UTF8.self))
            } catch let error as DemandValidationError {
                complain("custos rules assess: invalid input (\(error.issues.count) problem\(error.issues.count == 1 ? "" : "s")):\n"
                    + error.issues.map { "  \($0.field): \($0.message)" }.joined(separator: "\n"))
                throw ExitCode(2)
            }
        }
    }
}

/// Writes a line to standard error.
func complain(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}
