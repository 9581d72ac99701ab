import Foundation

/// `custos import cases FILE.jsonl`: years of spreadsheets become report facts. One JSON object
/// per line: `{"id", "receivedAt", "country", "section", "instrument", "accounts", "tenantKind",
/// "outcome"}`. Every line is checked before anything is stored; one bad line stops the import.
public enum HistoricalImport {
    public static let fields: Set<String> = ["id", "receivedAt", "country", "section", "instrument", "accounts", "tenantKind", "outcome"]
    /// Optional, for the DSA figures: when receipt was confirmed, when effect was given, and the
    /// category of illegal content (`DSAOrders.categories`).
    public static let optionalFields: Set<String> = ["acknowledgedAt", "effectAt", "dsaCategory"]

    public struct LineError: Error, Equatable, Sendable, CustomStringConvertible {
        public let line: Int
        public let message: String
        public var description: String { "line \(line): \(message)" }

        public init(line: Int, message: String) {
            self.line = line
            self.message = message
        }
    }

    /// Every line's fact, or every line's problem (blank lines are skipped; an id twice in one
    /// file is a problem on its second line).
    /// Every problem of a file that failed, in line order.
    public struct Failure: Error, Equatable, Sendable {
        public let errors: [LineError]
    }

    public static func parse(_ text: String) -> Result<[ReportFact], Failure> {
        var facts: [ReportFact] = []
        var errors: [LineError] = []
        var seen: [String: Int] = [:]
        for (offset, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let number = offset + 1
            let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
            if trimmed.isEmpty { continue }
            do {
                let fact = try fact(fromLine: trimmed, number: number)
                if let first = seen[fact.id] {
                    errors.append(LineError(line: number, message: "id \"\(fact.id)\" already appears on line \(first)"))
                } else {
                    seen[fact.id] = number
                    facts.append(fact)
                }
            } catch {
                errors.append(error)
            }
        }
        return errors.isEmpty ? .success(facts) : .failure(Failure(errors: errors))
    }

    public static func fact(fromLine text: String, number: Int) throws(LineError) -> ReportFact {
        func fail(_ message: String) -> LineError { LineError(line: number, message: message) }
        guard let object = try? JSONDecoder().decode([String: LineValue].self, from: Data(text.utf8)) else {
            throw fail("not a JSON object")
        }
        if let unknown = Set(object.keys).subtracting(fields).subtracting(optionalFields).sorted().first {
            throw fail("unknown field \"\(unknown)\" (expected \(fields.sorted().joined(separator: ", ")); optional \(optionalFields.sorted().joined(separator: ", ")))")
        }
        func string(_ key: String) throws(LineError) -> String {
            guard let value = object[key] else { throw fail("missing \"\(key)\"") }
            guard case .string(let text) = value, !text.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw fail("\"\(key)\" must be a non-empty string")
            }
            return text
        }
        func oneOf<T: RawRepresentable>(_ key: String, _ type: T.Type, _ allowed: [String]) throws(LineError) -> T where T.RawValue == String {
            let text = try string(key)
            guard let value = T(rawValue: text) else { throw fail("\"\(key)\" is \"\(text)\"; expected one of \(allowed.joined(separator: ", "))") }
            return value
        }
        let id = try string("id")
        guard id.count <= 200 else { throw fail("\"id\" is longer than 200 characters") }
        let receivedText = try string("receivedAt")
        guard let receivedAt = Timestamp.parse(receivedText) ?? Timestamp.parseDay(receivedText) else {
            throw fail("\"receivedAt\" is \"\(receivedText)\"; expected a date (2026-03-01) or a timestamp (2026-03-01T09:30:00Z)")
        }
        let country = try string("country").uppercased()
        guard country.count == 2, country.unicodeScalars.allSatisfy({ ("A"..."Z").contains($0) }) else {
            throw fail("\"country\" must be an ISO 3166-1 alpha-2 code such as DE")
        }
        let section = try oneOf("section", ReportSection.self, ReportSection.allCases.map(\.rawValue))
        let instrument = try oneOf("instrument", LegalInstrument.self, LegalInstrument.allCases.map(\.rawValue))
        guard let accountsValue = object["accounts"] else { throw fail("missing \"accounts\"") }
        guard case .integer(let accounts) = accountsValue, accounts >= 0 else { throw fail("\"accounts\" must be a whole number ≥ 0") }
        let tenantKind = try oneOf("tenantKind", TenantKind.self, TenantKind.allCases.map(\.rawValue))
        let outcome = try oneOf("outcome", ReportOutcome.self, ReportOutcome.allCases.map(\.rawValue))
        func time(_ key: String) throws(LineError) -> Date? {
            guard object[key] != nil else { return nil }
            let text = try string(key)
            guard let date = Timestamp.parse(text) ?? Timestamp.parseDay(text) else {
                throw fail("\"\(key)\" is \"\(text)\"; expected a date (2026-03-01) or a timestamp (2026-03-01T09:30:00Z)")
            }
            guard date >= receivedAt else { throw fail("\"\(key)\" is before \"receivedAt\"") }
            return date
        }
        let acknowledgedAt = try time("acknowledgedAt")
        let effectAt = try time("effectAt")
        if effectAt != nil && !outcome.gaveEffect {
            throw fail("\"effectAt\" is set but the outcome \"\(outcome.rawValue)\" gave no effect to the demand")
        }
        var dsaCategory: String?
        if object["dsaCategory"] != nil {
            let category = try string("dsaCategory")
            guard DSAOrders.categories.contains(category) else {
                throw fail("\"dsaCategory\" is \"\(category)\"; expected a DSA category code such as STATEMENT_CATEGORY_SCAMS_AND_FRAUD")
            }
            dsaCategory = category
        }
        return ReportFact(
            id: id, receivedAt: receivedAt, country: country, section: section, instrument: instrument.rawValue, tenantKind: tenantKind,
            accounts: accounts, outcome: outcome, isPreservation: instrument.isPreservationOnly,
            isNationalSecurity: instrument.isNationalSecurity, acknowledgedAt: acknowledgedAt, effectAt: effectAt, dsaCategory: dsaCategory)
    }
}

/// A value on an import line, typed strictly (JSON `0` is a number, never `false`).
private enum LineValue: Decodable {
    case string(String)
    case integer(Int)
    case other

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let text = try? container.decode(String.self) {
            self = .string(text)
        } else if (try? container.decode(Bool.self)) != nil {
            self = .other
        } else if let integer = try? container.decode(Int.self) {
            self = .integer(integer)
        } else {
            self = .other
        }
    }
}
