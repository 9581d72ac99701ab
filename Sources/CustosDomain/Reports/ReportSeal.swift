import Foundation

/// Closing a period freezes its report: the report's canonical JSON is kept byte for byte, and a
/// signed note (c2sp.org/signed-note, the provider's report key) commits to its SHA-256, so anyone
/// holding the published JSON and the note can check both, and `custos report verify` can later
/// recompute the report from the stored facts and compare.
public enum ReportSeal {
    public static let header = "custos-report/v1"

    /// The bytes a closed report is kept and hashed as (Custos's canonical JSON).
    public static func canonicalJSON(_ report: TransparencyReport) throws -> Data {
        try CustosJSON.makeEncoder().encode(report)
    }

    /// Whether a recomputed report still says what the frozen one published. Only what the frozen
    /// JSON holds is compared: a figure a later Custos version added (the DSA part, the bands, red
    /// flags) is not a difference in a report closed before it existed, while every figure the
    /// report did publish must be recomputed exactly.
    public static func holds(frozen: Data, recomputed: TransparencyReport) throws -> Bool {
        guard let published = try JSONSerialization.jsonObject(with: frozen) as? [String: Any] else { return false }
        let fresh = try JSONSerialization.jsonObject(with: canonicalJSON(recomputed))
        return NSDictionary(dictionary: published).isEqual(projected(fresh, onto: published))
    }

    /// `value` with only the object keys `shape` has, recursively (arrays element by element).
    static func projected(_ value: Any, onto shape: Any) -> Any {
        if let object = value as? [String: Any], let keys = shape as? [String: Any] {
            var kept: [String: Any] = [:]
            for (key, inner) in keys {
                if let present = object[key] { kept[key] = projected(present, onto: inner) }
            }
            return kept
        }
        if let items = value as? [Any], let shapes = shape as? [Any], items.count == shapes.count {
            return zip(items, shapes).map { projected($0, onto: $1) }
        }
        return value
    }

    /// The note body signed when a period closes.
    public static func noteText(keyName: String, period: ReportPeriod, facts: Int, sha256: String, closedAt: Date) -> String {
        """
        \(header) \(keyName)
        period \(period.description)
        days \(Timestamp.formatDay(period.start)) \(period.lastDay)
        facts \(facts)
        sha256 \(sha256)
        closed \(Timestamp.format(closedAt))

        """
    }

    /// The period and report hash a note body commits to, or nil when it is not a report note.
    public static func parse(noteText text: String) -> (period: String, sha256: String)? {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard lines.first?.hasPrefix(header + " ") == true else { return nil }
        var fields: [String: String] = [:]
        for line in lines.dropFirst() where !line.isEmpty {
            guard let space = line.firstIndex(of: " ") else { return nil }
            fields[String(line[..<space])] = String(line[line.index(after: space)...])
        }
        guard let period = fields["period"], let sha256 = fields["sha256"], sha256.count == 64 else { return nil }
        return (period, sha256)
    }

    /// Where a recomputed report differs from the frozen one, row by row, in words.
    public static func differences(frozen: TransparencyReport, recomputed: TransparencyReport) -> [String] {
        var found: [String] = []
        for section in ReportSection.allCases {
            let old = Dictionary(frozen.section(section).rows.map { ($0.code, $0) }, uniquingKeysWith: { first, _ in first })
            let new = Dictionary(recomputed.section(section).rows.map { ($0.code, $0) }, uniquingKeysWith: { first, _ in first })
            for code in Set(old.keys).union(new.keys).sorted() where old[code] != new[code] {
                func describe(_ row: ReportRow?) -> String {
                    guard let row else { return "absent" }
                    return "\(row.requests) requests, \(row.accounts) accounts, content \(row.content), non-content \(row.nonContent), no data \(row.noData), rejected \(row.rejected)"
                }
                found.append("\(section.rawValue) \(code): frozen \(describe(old[code])); now \(describe(new[code]))")
            }
        }
        if frozen.enterprise != recomputed.enterprise { found.append("enterprise summary: frozen \(frozen.enterprise.requests) requests; now \(recomputed.enterprise.requests)") }
        if frozen.preservationRequests != recomputed.preservationRequests {
            found.append("preservation requests: frozen \(frozen.preservationRequests); now \(recomputed.preservationRequests)")
        }
        if frozen.consumerUndecided != recomputed.consumerUndecided {
            found.append("undecided consumer requests: frozen \(frozen.consumerUndecided); now \(recomputed.consumerUndecided)")
        }
        if frozen.other != recomputed.other { found.append("the figures on gag orders, notices, challenges and emergencies differ") }
        if frozen.affected != recomputed.affected {
            found.append("the share of customers affected differs (were the configured totals changed?)")
        }
        if frozen.dsa != recomputed.dsa {
            let frozenRows = Dictionary((frozen.dsa?.rows ?? []).map { ("\($0.scope) \($0.category)", $0) }, uniquingKeysWith: { first, _ in first })
            let rows = Dictionary((recomputed.dsa?.rows ?? []).map { ("\($0.scope) \($0.category)", $0) }, uniquingKeysWith: { first, _ in first })
            let changed = Set(frozenRows.keys).union(rows.keys).sorted().filter { frozenRows[$0] != rows[$0] }
            found.append(changed.isEmpty ? "the DSA figures differ (was the service name changed?)" : "DSA orders differ: \(changed.joined(separator: ", "))")
        }
        if frozen.nationalSecurity != recomputed.nationalSecurity {
            found.append("the national-security bands differ (was the § 1874 structure changed?)")
        }
        if found.isEmpty && frozen != recomputed { found.append("the report's bytes differ (period or fact count)") }
        return found
    }
}
