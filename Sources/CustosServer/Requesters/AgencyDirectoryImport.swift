import CustosDomain
import Foundation
import SwiftCSV

/// `custos agency import FILE.csv`: the agency directory from a spreadsheet (issue 8).
///
/// Columns (header row required, any order): `name,country,kind,domains,phone,phone_label,phone_source`.
/// One row per agency, or several rows naming the same agency to add more domains or numbers.
/// `domains` holds one or more domains separated by spaces or semicolons. A number needs its
/// source: where it was found independently of any request (legal-rules.md §6.3 E2). Every row is
/// checked before anything is stored; a bad row stops the whole import.
public enum AgencyDirectoryImport {
    public static let columns = ["name", "country", "kind", "domains", "phone", "phone_label", "phone_source"]

    public struct RowError: Error, Equatable, Sendable, CustomStringConvertible {
        public var row: Int
        public var message: String
        public var description: String { "row \(row): \(message)" }
    }

    /// One agency's entry as the file gives it (merged over all its rows).
    public struct Entry: Equatable, Sendable {
        public var name: String
        public var country: String
        public var kind: AgencyKind
        public var domains: [String]
        public var phones: [(number: String, label: String, source: String)]

        public static func == (a: Entry, b: Entry) -> Bool {
            a.name == b.name && a.country == b.country && a.kind == b.kind && a.domains == b.domains
                && a.phones.map { [$0.number, $0.label, $0.source] } == b.phones.map { [$0.number, $0.label, $0.source] }
        }
    }

    /// Parses and checks the file; either every entry or every bad row (numbered from the header's 1).
    public static func parse(_ text: String) -> Result<[Entry], ImportErrors> {
        let csv: CSV<Named>
        do {
            csv = try CSV<Named>(string: text, delimiter: .comma, loadColumns: false)
        } catch {
            return .failure(ImportErrors(errors: [RowError(row: 1, message: "not a CSV file: \(error)")]))
        }
        let missing = ["name", "country", "kind"].filter { !csv.header.contains($0) }
        let unknown = csv.header.filter { !columns.contains($0) }
        if !missing.isEmpty || !unknown.isEmpty {
            return .failure(ImportErrors(errors: [RowError(
                row: 1, message: "the header needs \(columns.joined(separator: ",")); "
                    + (missing.isEmpty ? "" : "missing \(missing.joined(separator: ", "))") + (unknown.isEmpty ? "" : " unknown \(unknown.joined(separator: ", "))"))]))
        }
        var errors: [RowError] = []
        var entries: [String: Entry] = [:]
        var order: [String] = []
        for (index, row) in csv.rows.enumerated() {
            let number = index + 2
            func cell(_ name: String) -> String { (row[name] ?? "").trimmingCharacters(in: .whitespaces) }
            var problems: [String] = []
            let name = cell("name")
            if name.isEmpty { problems.append("name is empty") }
            let country = cell("country").uppercased()
            if country.count != 2 || !country.allSatisfy({ $0.isASCII && $0.isLetter }) { problems.append("country must be an ISO 3166-1 alpha-2 code such as DE") }
            let kind = AgencyKind(rawValue: cell("kind"))
            if kind == nil { problems.append("kind must be one of \(AgencyKind.allCases.map(\.rawValue).joined(separator: ", "))") }
            let domains = cell("domains").lowercased().split(whereSeparator: { $0 == " " || $0 == ";" }).map(String.init)
            for domain in domains {
                if let problem = domainProblem(domain) { problems.append(problem) }
            }
            let phone = cell("phone")
            if !phone.isEmpty { problems += phoneProblems(phone, source: cell("phone_source"), sourceField: "phone_source") }
            guard problems.isEmpty, let kind else {
                errors += problems.map { RowError(row: number, message: $0) }
                continue
            }
            var entry = entries[name] ?? Entry(name: name, country: country, kind: kind, domains: [], phones: [])
            if entry.country != country || entry.kind != kind {
                errors.append(RowError(row: number, message: "\(name) appears earlier with another country or kind"))
                continue
            }
            entry.domains += domains.filter { !entry.domains.contains($0) }
            if !phone.isEmpty && !entry.phones.contains(where: { $0.number == phone }) {
                entry.phones.append((phone, cell("phone_label").isEmpty ? "main switchboard" : cell("phone_label"), cell("phone_source")))
            }
            if entries[name] == nil { order.append(name) }
            entries[name] = entry
        }
        return errors.isEmpty ? .success(order.map { entries[$0]! }) : .failure(ImportErrors(errors: errors))
    }

    public struct ImportErrors: Error, Sendable {
        public var errors: [RowError]
    }

    /// Why a domain cannot be an agency's: not a host name, or a free-mail provider.
    static func domainProblem(_ domain: String) -> String? {
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2, labels.allSatisfy({ !$0.isEmpty && $0.count <= 63 && $0.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") } })
        else { return "domain \"\(domain)\" is not a domain name" }
        if RedFlags.freeMailDomains.contains(domain) { return "domain \"\(domain)\" is a free-mail provider, never an agency's own" }
        return nil
    }

    /// Why a number cannot be a directory number: not a telephone number, or no source saying
    /// where it was found independently of any request (legal-rules.md §6.3 E2).
    static func phoneProblems(_ phone: String, source: String, sourceField: String? = nil) -> [String] {
        var problems: [String] = []
        if phone.filter(\.isNumber).count < 6 || !phone.allSatisfy({ $0.isNumber || " +-()./".contains($0) }) {
            problems.append("phone \"\(phone)\" is not a telephone number")
        }
        if source.trimmingCharacters(in: .whitespaces).isEmpty {
            problems.append("\(sourceField ?? "the source of \(phone)") is empty: say where the number was found, independently of any request")
        }
        return problems
    }

    /// The console's edit of one entry: domains separated by spaces, commas or semicolons, and one
    /// number per line as `number | label | source`. Numbers already listed keep their ids.
    public static func edited(_ agency: Agency, domains: String, phones: String) -> Result<Agency, ImportErrors> {
        var problems: [String] = []
        let domainList = domains.lowercased().split(whereSeparator: { $0 == " " || $0 == ";" || $0 == "," || $0.isNewline }).map(String.init)
        for domain in domainList {
            if let problem = domainProblem(domain) { problems.append(problem) }
        }
        var phoneList: [AgencyPhone] = []
        for line in phones.split(whereSeparator: \.isNewline) where !line.trimmingCharacters(in: .whitespaces).isEmpty {
            let fields = line.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard fields.count == 3 else {
                problems.append("\"\(line)\" needs three parts: number | label | source")
                continue
            }
            let lineProblems = phoneProblems(fields[0], source: fields[2])
            problems += lineProblems
            guard lineProblems.isEmpty else { continue }
            let id = agency.phones.first { $0.number == fields[0] }?.id ?? UUID()
            phoneList.append(AgencyPhone(id: id, number: fields[0], label: fields[1].isEmpty ? "main switchboard" : fields[1], source: fields[2]))
        }
        guard problems.isEmpty else { return .failure(ImportErrors(errors: problems.map { RowError(row: 0, message: $0) })) }
        var result = agency
        result.domains = domainList.reduce(into: []) { if !$0.contains($1) { $0.append($1) } }
        result.phones = phoneList
        return .success(result)
    }

    /// The directory entry after merging `entry` into `existing` (new domains and numbers added,
    /// nothing removed), with fresh ids for new numbers.
    public static func merged(_ entry: Entry, into existing: Agency?) -> Agency {
        var agency = existing ?? Agency(id: UUID(), name: entry.name, country: entry.country, kind: entry.kind)
        agency.domains += entry.domains.filter { !agency.domains.contains($0) }
        for phone in entry.phones where !agency.phones.contains(where: { $0.number == phone.number }) {
            agency.phones.append(AgencyPhone(id: UUID(), number: phone.number, label: phone.label, source: phone.source))
        }
        return agency
    }
}

extension CustosServices {
    public enum AgencyImportOutcome: Sendable {
        case imported(created: Int, updated: Int, unchanged: Int)
        case rejected([AgencyDirectoryImport.RowError])
    }

    /// Stores the file's entries (each agency's change in one audited transaction), or nothing
    /// when a row is bad.
    public func importAgencyDirectory(csv text: String, by actor: String) async throws -> AgencyImportOutcome {
        let entries: [AgencyDirectoryImport.Entry]
        switch AgencyDirectoryImport.parse(text) {
        case .failure(let failure): return .rejected(failure.errors)
        case .success(let parsed): entries = parsed
        }
        var created = 0, updated = 0, unchanged = 0
        for entry in entries {
            let existing = try await directory.findAgency(named: entry.name)
            let agency = AgencyDirectoryImport.merged(entry, into: existing)
            if existing == nil {
                try await directory.createAgency(Agency(id: agency.id, name: agency.name, country: agency.country, kind: agency.kind))
                created += 1
            } else if existing == agency {
                unchanged += 1
                continue
            } else {
                updated += 1
            }
            try await directory.updateAgency(agency, by: actor, at: now())
        }
        return .imported(created: created, updated: updated, unchanged: unchanged)
    }
}
