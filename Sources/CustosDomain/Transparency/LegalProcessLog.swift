import Foundation
import MerkleLog

/// The public legal-process transparency log (tlog.md §6.5): what goes into it, in its exact
/// encoding. Demands appear as commitments (sealed ones with a public review-by date), then their
/// disposition, and openings once a non-disclosure order lapses or is lifted. National-security
/// process never appears per item (§6.7, *Twitter v. Garland*).
public enum LegalProcessLog {
    public static let namespace = "lplog/v1"

    /// The demand record's fixed schema (§6.4), in order; subjects follow as `subject/<i>`.
    public static let demandFields = [
        "authority", "jurisdiction", "process-type", "legal-basis", "case-ref", "requester", "received-at",
        "data-requested", "nondisclosure-basis", "nondisclosure-until",
    ]

    /// Fields a public opening reveals; `case-ref`, `requester` and the subjects go only to the
    /// customer (their own subject) or an auditor.
    public static let publicFields: Set<String> = [
        "authority", "jurisdiction", "process-type", "legal-basis", "received-at", "data-requested", "nondisclosure-basis",
        "nondisclosure-until",
    ]

    /// Whether a demand is logged per item at all (§6.7).
    public static func isLogged(_ demand: Demand) -> Bool { !demand.instrument.isNationalSecurity }

    /// The public coarse class, e.g. `us/criminal/search-warrant`, `eu/criminal/epoc`, `emergency`.
    public static func classPath(of demand: Demand) -> String {
        if demand.isEmergency || demand.instrument == .usEmergency2702 { return "emergency" }
        let id = demand.instrument.rawValue
        let parts = id.split(separator: ".", maxSplits: 1)
        guard parts.count == 2 else { return "other/criminal/\(id)" }
        let civil = demand.instrument == .usCivilSubpoena || demand.issuingAuthority.role == .civilParty
        let name = String(parts[1]).replacingOccurrences(of: "_", with: "-").replacingOccurrences(of: "civil-", with: "")
        return "\(parts[0])/\(civil ? "civil" : "criminal")/\(name)"
    }

    /// The demand record's fields (§6.4 schema) as received.
    public static func demandRecord(_ demand: Demand, requester: String, legalBasis: String) -> [RecordCommitment.Field] {
        let order = demand.nonDisclosureOrder
        let until: String =
            if let order { order.isIndefinite ? "indefinite" : order.until.map(Timestamp.formatDay) ?? "none" } else { "none" }
        var fields = [
            ("authority", demand.issuingAuthority.name),
            ("jurisdiction", [demand.jurisdiction.country, demand.jurisdiction.subdivision].compactMap { $0 }.joined(separator: "-")),
            ("process-type", demand.instrument.rawValue),
            ("legal-basis", legalBasis),
            ("case-ref", demand.caseReference),
            ("requester", requester),
            ("received-at", Timestamp.format(demand.receivedAt)),
            ("data-requested", demand.categories.map(\.rawValue).sorted().joined(separator: ",")),
            ("nondisclosure-basis", order?.basis ?? "none"),
            ("nondisclosure-until", until),
        ].map { RecordCommitment.Field(name: $0.0, value: $0.1) }
        for (index, target) in demand.targets.enumerated() {
            fields.append(RecordCommitment.Field(name: "subject/\(index)", value: "\(target.type.rawValue):\(target.value)"))
        }
        return fields
    }

    /// The review-by date of a sealed demand (§6.5): the order's last day, capped at a year after
    /// receipt (the Rosenstein memo's default for § 2705(b) orders); a year for indefinite orders.
    public static func reviewBy(_ demand: Demand) -> String? {
        guard let order = demand.nonDisclosureOrder else { return nil }
        let cap = demand.receivedAt.addingTimeInterval(365 * 86_400)
        let date = order.isIndefinite ? cap : min(order.until ?? cap, cap)
        return Timestamp.formatDay(date)
    }

    /// Where the intake was recorded in the audit log: its index, leaf hash and an inclusion proof
    /// against a published audit checkpoint of `size`.
    public struct IntakeProof: Sendable {
        public var index: UInt64
        public var leafHash: Data
        public var size: UInt64
        public var path: [Data]
        public init(index: UInt64, leafHash: Data, size: UInt64, path: [Data]) {
            self.index = index
            self.leafHash = leafHash
            self.size = size
            self.path = path
        }
    }

    public static func demandEntry(
        ref: String, period: String, classPath: String, reviewBy: String?, subjects: Int, fields: Int, record: Data, intake: IntakeProof
    ) -> LogEntry {
        var lines: [(String, String)] = [
            ("ref", ref), ("period", period), ("class", classPath), ("nondisclosure", reviewBy == nil ? "none" : "sealed"),
        ]
        if let reviewBy { lines.append(("review-by", reviewBy)) }
        lines += [
            ("subjects", String(subjects)), ("fields", String(fields)), ("record", record.base64EncodedString()),
            ("intake", "\(intake.index) \(intake.leafHash.base64EncodedString())"),
            ("intake-proof", ([String(intake.size)] + intake.path.map { $0.base64EncodedString() }).joined(separator: " ")),
        ]
        return LogEntry(header: "\(namespace) demand", lines: lines)
    }

    /// Outcomes a disposition may state.
    public enum Outcome: String, Sendable, CaseIterable {
        case complied
        case compliedPartially = "complied-partially"
        case rejected
        case challenged
        case withdrawn
        case noData = "no-data"
    }

    /// What the disposition entry says about a closed case: content disclosed in full is
    /// `complied`, anything narrower `complied-partially`; a rejection that went to court is
    /// `challenged`; a redirect or withdrawal ends the demand on us as `withdrawn`.
    public static func outcome(of closed: Case) -> Outcome {
        switch closed.outcome {
        case .content: closed.approvedScope.map { Set($0) == Set(closed.requestedCategories) } == false ? .compliedPartially : .complied
        case .nonContent: .compliedPartially
        case .noData: .noData
        case .rejected: closed.challenge != nil ? .challenged : .rejected
        case .redirected, .withdrawn, nil: .withdrawn
        case .preserved: .complied
        }
    }

    /// Whether a disposed demand may be opened now, and why: never sealed, or its bar has lapsed
    /// (expired) or was lifted before its date. A notice still held keeps it sealed.
    public static func openingReason(_ demand: Demand, wasSealed: Bool, noticeHeld: Bool, at time: Date) -> OpeningReason? {
        guard !noticeHeld else { return nil }
        guard let order = demand.nonDisclosureOrder, wasSealed else { return .neverSealed }
        return order.isInForce(at: time) ? .nondisclosureLifted : .nondisclosureExpired
    }

    public static func dispositionEntry(demandIndex: UInt64, outcome: Outcome, producedPackage: Data?) -> LogEntry {
        LogEntry(header: "\(namespace) disposition", lines: [
            ("demand", String(demandIndex)), ("outcome", outcome.rawValue),
            ("produced", producedPackage?.base64EncodedString() ?? "none"), ("fields", "0"), ("record", "none"),
        ])
    }

    public enum OpeningReason: String, Sendable {
        case nondisclosureExpired = "nondisclosure-expired"
        case nondisclosureLifted = "nondisclosure-lifted"
        case neverSealed = "never-sealed"
        case courtOrder = "court-order"
    }

    public static func openingEntry(demandIndex: UInt64, reason: OpeningReason, openings: [RecordCommitment.Opening]) -> LogEntry {
        var lines: [(String, String)] = [("demand", String(demandIndex)), ("reason", reason.rawValue)]
        for opening in openings {
            lines.append(("field", "\(opening.index) \(opening.name) \(opening.salt.base64EncodedString()) \(Data(opening.value.utf8).base64EncodedString())"))
            lines.append(("path", opening.path.map { $0.base64EncodedString() }.joined(separator: " ")))
        }
        return LogEntry(header: "\(namespace) opening", lines: lines)
    }

    public static func statementEntry(date: String, text: String) -> LogEntry {
        LogEntry(header: "\(namespace) statement", lines: [("date", date), ("text", Data(text.utf8).base64EncodedString())])
    }

    /// tlog.md §6.5 `report`: the counts of the log's own entries in `[start, end)`, so anyone can
    /// recompute them from the tiles (V1.4). Demands count by class, with their subjects and how
    /// many are sealed; dispositions by outcome. Lines of each kind are sorted. `nationalSecurity`
    /// adds the `ns-band` lines and the `ns-commitment` (§6.7); national-security process never
    /// has entries of its own.
    public static func reportEntry(
        period: ReportPeriod, start: UInt64, end: UInt64, previous: UInt64?, entries: [LogEntry],
        nationalSecurity: (bands: [String], commitment: Data)? = nil
    ) -> LogEntry {
        var counts: [String: Int] = [:]
        var subjects: [String: Int] = [:]
        var outcomes: [String: Int] = [:]
        var sealed = 0
        for entry in entries {
            switch entry.header {
            case "\(namespace) demand":
                let kind = entry.value("class") ?? "undisclosed"
                counts[kind, default: 0] += 1
                subjects[kind, default: 0] += Int(entry.value("subjects") ?? "") ?? 0
                if entry.value("nondisclosure") == "sealed" { sealed += 1 }
            case "\(namespace) disposition":
                outcomes[entry.value("outcome") ?? "", default: 0] += 1
            default:
                continue
            }
        }
        var lines: [(key: String, value: String)] = [
            ("period", "\(Timestamp.formatDay(period.start)) \(period.lastDay)"), ("range", "\(start) \(end)"),
            ("previous", previous.map(String.init) ?? "none"),
        ]
        lines += counts.keys.sorted().map { ("count", "\($0) \(counts[$0]!)") }
        lines += subjects.keys.sorted().map { ("subjects", "\($0) \(subjects[$0]!)") }
        lines += outcomes.keys.sorted().map { ("outcome", "\($0) \(outcomes[$0]!)") }
        lines.append(("sealed", "\(sealed)"))
        if let nationalSecurity {
            lines += nationalSecurity.bands.map { ("ns-band", $0) }
            lines.append(("ns-commitment", nationalSecurity.commitment.base64EncodedString()))
        }
        return LogEntry(header: "\(namespace) report", lines: lines)
    }

    /// The fixed key order of each entry type; `*` marks a repeatable key.
    static let schemas: [String: [String]] = [
        "demand": ["ref", "period", "class", "nondisclosure", "review-by?", "subjects", "fields", "record", "intake", "intake-proof"],
        "disposition": ["demand", "outcome", "produced", "fields", "record"],
        "opening": ["demand", "reason", "field*", "path*"],
        "nondisclosure-extended": ["demand", "review-by", "fields", "record"],
        "report": ["period", "range", "previous", "count*", "subjects*", "outcome*", "sealed", "ns-band*", "ns-commitment?"],
        "statement": ["date", "text"],
    ]

    /// Parses an entry canonically and checks its type's key order (openings alternate field/path).
    public static func parse(_ data: Data) throws(LogEntry.ParseError) -> LogEntry {
        let entry = try LogEntry(parsing: data)
        let header = entry.header.split(separator: " ")
        guard header.count == 2, header[0] == Substring(namespace), let schema = schemas[String(header[1])] else {
            throw .malformed("unknown entry type \(entry.header)")
        }
        if header[1] == "opening" {
            guard entry.keys.prefix(2) == ["demand", "reason"], entry.keys.count % 2 == 0,
                entry.keys.dropFirst(2).enumerated().allSatisfy({ $0.element == ($0.offset % 2 == 0 ? "field" : "path") })
            else { throw .malformed("opening lines out of order") }
            return entry
        }
        var keys = entry.keys[...]
        for slot in schema {
            let name = slot.trimmingCharacters(in: CharacterSet(charactersIn: "*?"))
            if slot.hasSuffix("*") {
                while keys.first == name { keys.removeFirst() }
            } else if slot.hasSuffix("?") {
                if keys.first == name { keys.removeFirst() }
            } else {
                guard keys.popFirst() == name else { throw .malformed("expected \(name) in a \(header[1]) entry") }
            }
        }
        guard keys.isEmpty else { throw .malformed("unexpected \(keys.first!) in a \(header[1]) entry") }
        return entry
    }

    /// The bundle a customer's `.tlog-proof` carries as `extra` (§6.8 V2): the exact demand entry
    /// and the openings of the customer's own fields.
    public static func noticeBundle(entry: Data, openings: [RecordCommitment.Opening]) -> Data {
        var lines: [(String, String)] = [("entry", entry.base64EncodedString())]
        for opening in openings {
            lines.append(("field", "\(opening.index) \(opening.name) \(opening.salt.base64EncodedString()) \(Data(opening.value.utf8).base64EncodedString())"))
            lines.append(("path", opening.path.map { $0.base64EncodedString() }.joined(separator: " ")))
        }
        return LogEntry(header: "\(namespace) notice-bundle", lines: lines).bytes
    }

    public struct BundleFailure: Error, Equatable, Sendable, CustomStringConvertible {
        public var description: String
        public init(_ description: String) { self.description = description }
    }

    /// Checks a notice bundle: every opened field belongs to the entry's record. Returns the entry
    /// bytes (whose leaf hash the tlog-proof must include) and the opened fields.
    public static func verifyBundle(_ data: Data) throws(BundleFailure) -> (entry: Data, fields: [RecordCommitment.Opening]) {
        guard let bundle = try? LogEntry(parsing: data), bundle.header == "\(namespace) notice-bundle",
            let entryText = bundle.value("entry"), let entryBytes = StrictBase64.decode(entryText)
        else { throw BundleFailure("not a notice bundle") }
        guard let entry = try? parse(entryBytes), entry.header == "\(namespace) demand",
            let record = entry.value("record").flatMap(StrictBase64.hash), let fields = entry.value("fields").flatMap(Int.init)
        else { throw BundleFailure("the bundle's entry is not a demand entry") }
        let openings = try parseOpenings(bundle.lines.dropFirst())
        for opening in openings where !opening.verifies(root: record, fieldCount: fields) {
            throw BundleFailure("field \(opening.name) does not open the demand's record")
        }
        return (entryBytes, openings)
    }

    /// Reads alternating `field` / `path` lines.
    public static func parseOpenings(_ lines: ArraySlice<(key: String, value: String)>) throws(BundleFailure) -> [RecordCommitment.Opening] {
        var openings: [RecordCommitment.Opening] = []
        var rest = lines
        while let field = rest.popFirst() {
            guard field.key == "field", let path = rest.popFirst(), path.key == "path" else { throw BundleFailure("field lines must each be followed by a path") }
            let parts = field.value.split(separator: " ")
            guard parts.count == 4, let index = Int(parts[0]), let salt = StrictBase64.hash(parts[2]),
                let valueBytes = StrictBase64.decode(parts[3]), let value = String(data: valueBytes, encoding: .utf8)
            else { throw BundleFailure("bad field line") }
            var hashes: [Data] = []
            for hash in path.value.split(separator: " ") {
                guard let decoded = StrictBase64.hash(hash) else { throw BundleFailure("bad path line") }
                hashes.append(decoded)
            }
            openings.append(RecordCommitment.Opening(index: index, name: String(parts[1]), salt: salt, value: value, path: hashes))
        }
        return openings
    }
}
