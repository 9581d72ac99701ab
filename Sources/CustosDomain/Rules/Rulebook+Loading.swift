import Foundation

/// One problem in a rulebook file, with where it is.
public struct RulebookIssue: Codable, Equatable, Sendable, CustomStringConvertible {
    /// `line N` when known, then the path inside the document, e.g. `rules[3] (us.nsl.records).effects.contnt`.
    public var location: String
    public var message: String

    public init(location: String, message: String) {
        self.location = location
        self.message = message
    }

    public var description: String { "\(location): \(message)" }
}

public struct RulebookError: Error, Equatable, Sendable, CustomStringConvertible {
    public var source: String
    public var issues: [RulebookIssue]

    public init(source: String, issues: [RulebookIssue]) {
        self.source = source
        self.issues = issues
    }

    public var description: String {
        "\(source) is not a valid rulebook (\(issues.count) problem\(issues.count == 1 ? "" : "s")):\n"
            + issues.map { "  \(source):\($0)" }.joined(separator: "\n")
    }
}

extension Rulebook {
    /// Decodes and validates a rulebook file. Every problem is reported, each with its location.
    public static func load(_ data: Data, source: String) throws(RulebookError) -> Rulebook {
        let rulebook: Rulebook
        do {
            rulebook = try JSONDecoder().decode(Rulebook.self, from: data)
        } catch let error as DecodingError {
            throw RulebookError(source: source, issues: [issue(from: error, in: data)])
        } catch {
            throw RulebookError(source: source, issues: [RulebookIssue(location: "document", message: "\(error)")])
        }
        let lines = RuleLines(data)
        let issues = rulebook.validate().map { issue in
            var located = issue
            if let line = lines.line(forPath: issue.location, rules: rulebook.rules) { located.location = "line \(line) \(issue.location)" }
            return located
        }
        guard issues.isEmpty else { throw RulebookError(source: source, issues: issues) }
        return rulebook
    }

    private static func issue(from error: DecodingError, in data: Data) -> RulebookIssue {
        func path(_ keys: [any CodingKey]) -> String {
            keys.reduce("") { partial, key in
                if let index = key.intValue { return partial + "[\(index)]" }
                return partial.isEmpty ? key.stringValue : partial + "." + key.stringValue
            }
        }
        switch error {
        case .keyNotFound(let key, let context):
            let at = path(context.codingPath)
            return RulebookIssue(location: at.isEmpty ? "document" : at, message: "missing required field \"\(key.stringValue)\"")
        case .typeMismatch(let type, let context), .valueNotFound(let type, let context):
            return RulebookIssue(location: path(context.codingPath), message: "expected \(type): \(context.debugDescription)")
        case .dataCorrupted(let context):
            // Syntax errors carry their line and column in the underlying error's description.
            let underlying = (context.underlyingError as NSError?)?.userInfo[NSDebugDescriptionErrorKey] as? String
            let at = path(context.codingPath)
            return RulebookIssue(location: at.isEmpty ? "document" : at, message: underlying ?? context.debugDescription)
        @unknown default:
            return RulebookIssue(location: "document", message: "\(error)")
        }
    }

    /// Checks everything the decoder cannot: known ids, valid dates and zones, unique rules, and
    /// that no rule tries to break an invariant.
    public func validate() -> [RulebookIssue] {
        var issues: [RulebookIssue] = []
        func fail(_ location: String, _ message: String) { issues.append(RulebookIssue(location: location, message: message)) }
        let categoryIDs = Set(DataCategory.allCases.map(\.rawValue))
        let instrumentIDs = Set(LegalInstrument.allCases.map(\.rawValue))

        if format != Rulebook.format { fail("format", "must be \"\(Rulebook.format)\", found \"\(format)\"") }
        if version.trimmingCharacters(in: .whitespaces).isEmpty { fail("version", "must not be empty") }

        for (name, members) in regions.sorted(by: { $0.key < $1.key }) {
            for country in members where !Jurisdiction.countryCodes.contains(country) {
                fail("regions.\(name)", "\"\(country)\" is not an ISO 3166-1 alpha-2 country code")
            }
        }
        func isPlace(_ place: String) -> Bool {
            place == "*" || Jurisdiction.countryCodes.contains(place) || regions[place] != nil
                || Jurisdiction.isValidSubdivision(place, of: String(place.prefix(2)))
        }
        for (index, government) in qualifyingForeignGovernments.enumerated() {
            if !Jurisdiction.countryCodes.contains(government.country) {
                fail("qualifyingForeignGovernments[\(index)].country", "\"\(government.country)\" is not a country code")
            }
            if LocalDay(government.since) == nil { fail("qualifyingForeignGovernments[\(index)].since", "must be a date such as 2022-10-03") }
        }
        for (id, calendar) in calendars.sorted(by: { $0.key < $1.key }) {
            let at = "calendars.\(id)"
            if TimeZone(identifier: calendar.timeZone) == nil { fail("\(at).timeZone", "unknown IANA time zone \"\(calendar.timeZone)\"") }
            if let parent = calendar.inherits, calendars[parent] == nil { fail("\(at).inherits", "no calendar \"\(parent)\"") }
            for (index, day) in (calendar.holidays ?? []).enumerated() where LocalDay(day) == nil {
                fail("\(at).holidays[\(index)]", "\"\(day)\" is not a date such as 2026-12-25")
            }
            if let covered = calendar.coveredThrough, LocalDay(covered) == nil { fail("\(at).coveredThrough", "\"\(covered)\" is not a date") }
            if let covered = calendar.coveredFrom, LocalDay(covered) == nil { fail("\(at).coveredFrom", "\"\(covered)\" is not a date") }
            if (calendar.coveredFrom == nil) != (calendar.coveredThrough == nil) { fail("\(at)", "coveredFrom and coveredThrough go together") }
        }
        for id in instruments.keys.sorted() where !instrumentIDs.contains(id) {
            fail("instruments.\(id)", "unknown instrument id; expected one of \(instrumentIDs.sorted().joined(separator: ", "))")
        }

        if let dmca {
            if dmca.restoreWindow.fromBusinessDays <= 0 || dmca.restoreWindow.fromBusinessDays > dmca.restoreWindow.toBusinessDays {
                fail("dmca.restoreWindow", "fromBusinessDays must be positive and not after toBusinessDays")
            }
            if calendars[dmca.restoreWindow.calendar] == nil { fail("dmca.restoreWindow.calendar", "no calendar \"\(dmca.restoreWindow.calendar)\"") }
            for (index, row) in dmca.rows.enumerated() where row.citation.trimmingCharacters(in: .whitespaces).isEmpty {
                fail("dmca.rows[\(index)] (\(row.id)).citation", "every rule must cite its source")
            }
        }

        var seen: [String: Int] = [:]
        for (index, rule) in rules.enumerated() {
            let at = "rules[\(index)] (\(rule.id))"
            if rule.id.isEmpty || !rule.id.allSatisfy({ $0.isLowercase || $0.isNumber || "._-".contains($0) }) {
                fail("\(at).id", "must be lower-case letters, digits, '.', '_' or '-'")
            }
            if rule.id.hasPrefix("invariant.") { fail("\(at).id", "the prefix invariant. is reserved for rules in code") }
            if let first = seen[rule.id] { fail("\(at).id", "duplicate id; first used by rules[\(first)]") } else { seen[rule.id] = index }
            if rule.instruments.isEmpty { fail("\(at).instruments", "must name at least one instrument or \"*\"") }
            for (position, instrument) in rule.instruments.enumerated() where instrument != "*" && !instrumentIDs.contains(instrument) {
                fail("\(at).instruments[\(position)]", "unknown instrument \"\(instrument)\"")
            }
            for (position, other) in (rule.overrides ?? []).enumerated() where !rules.contains(where: { $0.id == other }) {
                fail("\(at).overrides[\(position)]", "no rule with id \"\(other)\"")
            }
            if rule.jurisdictions.isEmpty { fail("\(at).jurisdictions", "must name at least one country, region or \"*\"") }
            for (position, place) in rule.jurisdictions.enumerated() where !isPlace(place) {
                fail("\(at).jurisdictions[\(position)]", "\"\(place)\" is neither a country code, a subdivision nor a region of this rulebook")
            }
            if rule.citation.trimmingCharacters(in: .whitespaces).isEmpty { fail("\(at).citation", "every rule must cite its source") }
            if rule.explanation.trimmingCharacters(in: .whitespaces).isEmpty { fail("\(at).explanation", "must not be empty") }
            if rule.effective?.from == nil { fail("\(at).effective.from", "every rule states the day it took effect") }
            if let period = rule.effective {
                if let from = period.from, LocalDay(from) == nil { fail("\(at).effective.from", "\"\(from)\" is not a date such as 2026-08-18") }
                if let until = period.until, LocalDay(until) == nil { fail("\(at).effective.until", "\"\(until)\" is not a date") }
                if let from = period.from, let until = period.until, from >= until { fail("\(at).effective", "from must be before until") }
            }
            for (category, verdict) in (rule.effects ?? [:]).sorted(by: { $0.key < $1.key }) {
                if category != "*" && !categoryIDs.contains(category) {
                    fail("\(at).effects.\(category)", "unknown data category; expected one of \(categoryIDs.sorted().joined(separator: ", ")) or *")
                }
                if category == DataCategory.encryptionKeys.rawValue && verdict != .denied {
                    fail("\(at).effects.\(category)", "encryption_keys can only be denied (commitment C9 is an invariant in code)")
                }
                if category == DataCategory.content.rawValue && verdict == .allowed {
                    let weak = rule.instruments.filter { $0 == "*" || instruments[$0]?.compelsContent != true }
                    if !weak.isEmpty {
                        fail("\(at).effects.content", "content cannot be allowed for \(weak.joined(separator: ", ")): mark the instrument compelsContent or deny it")
                    }
                }
            }
            for category in (rule.limitedTo ?? [:]).keys.sorted() where !categoryIDs.contains(category) {
                fail("\(at).limitedTo.\(category)", "unknown data category")
            }
            func check(_ condition: RuleCondition?, _ path: String) {
                guard let condition else { return }
                for (position, category) in (condition.requestedAny ?? []).enumerated() where !categoryIDs.contains(category) {
                    fail("\(path).requestedAny[\(position)]", "unknown data category \"\(category)\"")
                }
                for (name, places) in [("issuingCountryNotIn", condition.issuingCountryNotIn), ("customerDataOrResidenceIn", condition.customerDataOrResidenceIn), ("dataLocationIn", condition.dataLocationIn)] {
                    for (position, place) in (places ?? []).enumerated() where !isPlace(place) {
                        fail("\(path).\(name)[\(position)]", "\"\(place)\" is neither a country code nor a region")
                    }
                }
            }
            check(rule.when, "\(at).when")
            for (position, deadline) in (rule.deadlines ?? []).enumerated() {
                let path = "\(at).deadlines[\(position)]"
                if deadline.amount <= 0 { fail("\(path).amount", "must be positive") }
                if deadline.kind.isEmpty { fail("\(path).kind", "must not be empty") }
                if let calendar = deadline.calendar, calendars[calendar] == nil { fail("\(path).calendar", "no calendar \"\(calendar)\"") }
                check(deadline.when, "\(path).when")
            }
            if let requirement = rule.requires, requirement.issuerRoles == nil, requirement.minOffenceYears == nil {
                fail("\(at).requires", "states neither issuerRoles nor minOffenceYears")
            }
        }
        return issues
    }
}

/// Finds the line of a rule in the source text, so that problems point into the file.
private struct RuleLines {
    let lines: [Substring]

    init(_ data: Data) {
        lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
    }

    func line(forPath path: String, rules: [Rule]) -> Int? {
        guard path.hasPrefix("rules["), let close = path.firstIndex(of: "]"),
            let index = Int(path[path.index(path.startIndex, offsetBy: 6)..<close]), rules.indices.contains(index)
        else { return nil }
        let needle = "\"\(rules[index].id)\""
        return lines.firstIndex { $0.contains("\"id\"") && $0.contains(needle) }.map { $0 + 1 }
    }
}
