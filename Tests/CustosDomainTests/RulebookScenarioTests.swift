import CustosDomain
import Foundation
import Testing

/// The file-driven decision table: every scenario in `Fixtures/scenarios/*.json` is a
/// `custos rules assess` input plus the answer worked out by hand from legal-rules.md.
///
/// Expectations: `verdicts` must name exactly the requested categories; `flags` is the exact
/// flag set (empty when absent); `notice` defaults to `may_notify`; `deadlines`, `rules`,
/// `limitedTo`, `issuer` and `explanationContains` are checked when present.
@Suite struct RulebookScenarioTests {
    struct Scenario: Decodable, CustomTestStringConvertible, Sendable {
        struct Expect: Decodable, Sendable {
            struct Notice: Decodable, Sendable {
                var status: String
                var until: String?
                var afterEmergency: Bool?
            }

            var verdicts: [String: String]
            var rules: [String: [String]]?
            var flags: [String]?
            var notice: Notice?
            var deadlines: [String: String]?
            var issuer: String?
            var limitedTo: [String: [String]]?
            var explanationContains: [String: String]?
        }

        var name: String
        var input: AnyJSON
        var expect: Expect
        var file: String?

        var testDescription: String { name }
    }

    /// Keeps the raw input so it reaches `AssessmentRequest.parse` exactly as the CLI would see it.
    struct AnyJSON: Decodable, Sendable {
        let data: Data
        init(from decoder: any Decoder) throws {
            let value = try decoder.singleValueContainer().decode(JSONValue.self)
            data = try JSONEncoder().encode(value)
        }
    }

    enum JSONValue: Codable, Sendable {
        case string(String), number(Double), bool(Bool), object([String: JSONValue]), array([JSONValue]), null

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if container.decodeNil() { self = .null }
            else if let value = try? container.decode(Bool.self) { self = .bool(value) }
            else if let value = try? container.decode(Double.self) { self = .number(value) }
            else if let value = try? container.decode(String.self) { self = .string(value) }
            else if let value = try? container.decode([JSONValue].self) { self = .array(value) }
            else { self = .object(try container.decode([String: JSONValue].self)) }
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .string(let value): try container.encode(value)
            case .number(let value):
                if value == value.rounded() { try container.encode(Int(value)) } else { try container.encode(value) }
            case .bool(let value): try container.encode(value)
            case .object(let value): try container.encode(value)
            case .array(let value): try container.encode(value)
            case .null: try container.encodeNil()
            }
        }
    }

    static let scenarios: [Scenario] = {
        let folder = Bundle.module.url(forResource: "scenarios", withExtension: nil, subdirectory: "Fixtures")!
        let urls = try! FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil).filter { $0.pathExtension == "json" }
        return urls.sorted { $0.lastPathComponent < $1.lastPathComponent }.flatMap { url in
            struct File: Decodable { var scenarios: [Scenario] }
            let file = try! JSONDecoder().decode(File.self, from: Data(contentsOf: url))
            return file.scenarios.map { scenario in
                var located = scenario
                located.file = url.lastPathComponent
                return located
            }
        }
    }()

    static let rulebook = try! Rulebook.bundled()

    @Test func theTableIsLargeAndCoversEveryJurisdiction() {
        #expect(Self.scenarios.count >= 80)
        let instruments = Set(Self.scenarios.compactMap { scenario -> String? in
            let object = try? JSONSerialization.jsonObject(with: scenario.input.data) as? [String: Any]
            return (object?["demand"] as? [String: Any])?["instrument"] as? String
        })
        // Every instrument of legal-rules.md §7 that the rulebook covers appears in at least one scenario.
        for instrument in LegalInstrument.allCases {
            #expect(instruments.contains(instrument.rawValue), "no scenario for \(instrument.rawValue)")
        }
        #expect(Set(Self.scenarios.map(\.name)).count == Self.scenarios.count, "scenario names are unique")
    }

    @Test(arguments: scenarios)
    func scenario(_ scenario: Scenario) throws {
        let (demand, customer, at) = try AssessmentRequest.parse(scenario.input.data, now: nil)
        let assessment = Self.rulebook.assess(demand, customer: customer, at: at)
        let expect = scenario.expect

        let verdicts = Dictionary(uniqueKeysWithValues: assessment.categories.map { ($0.key.rawValue, $0.value.verdict.rawValue) })
        #expect(verdicts == expect.verdicts)
        for (category, rules) in expect.rules ?? [:] {
            let decided = DataCategory(rawValue: category).flatMap { assessment.categories[$0]?.rules } ?? []
            for rule in rules { #expect(decided.contains(rule), "\(category) should be decided by \(rule); got \(decided)") }
        }
        #expect(Set(assessment.flags.map(\.rawValue)) == Set(expect.flags ?? []))
        let notice = expect.notice ?? .init(status: "may_notify")
        #expect(assessment.notice.status.rawValue == notice.status)
        #expect(assessment.notice.until.map(Timestamp.format) == notice.until)
        #expect(assessment.notice.afterEmergency == (notice.afterEmergency ?? false))
        for (kind, due) in expect.deadlines ?? [:] {
            let computed = assessment.deadlines.filter { $0.kind == kind }.map { Timestamp.format($0.due) }
            #expect(computed.contains(due), "\(kind) due \(due); computed \(computed)")
        }
        if let issuer = expect.issuer { #expect(assessment.issuer.status.rawValue == issuer) }
        for (category, fields) in expect.limitedTo ?? [:] {
            #expect(DataCategory(rawValue: category).flatMap { assessment.categories[$0]?.limitedTo } == fields)
        }
        for (category, text) in expect.explanationContains ?? [:] {
            let explanation = DataCategory(rawValue: category).flatMap { assessment.categories[$0]?.explanation } ?? ""
            #expect(explanation.contains(text), "\(category) explanation should mention \(text): \(explanation)")
        }
        // Invariants hold in every scenario, whatever the file says.
        #expect(assessment.verdict(for: .encryptionKeys) != .allowed)
        if assessment.verdict(for: .content) == .allowed {
            #expect(Self.rulebook.instruments[demand.instrument.rawValue]?.compelsContent == true)
        }
        #expect(Set(assessment.approvableCategories).isSubset(of: Set(demand.categories)))
        #expect(assessment.rulebookVersion == Self.rulebook.version)
    }
}
