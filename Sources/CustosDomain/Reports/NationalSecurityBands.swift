import Foundation

/// National-security process in the report: only ever in the bands of one 50 U.S.C. § 1874(a)
/// structure, for the periods § 1874(b) allows (report-formats.md §4). Never an exact count.
public enum NationalSecurityStructure: Int, Codable, CaseIterable, Sendable, CustomStringConvertible {
    /// § 1874(a)(1): NSLs, FISA content and FISA non-content orders apart, bands of 1,000.
    case separateByThousand = 1
    /// § 1874(a)(2): the same categories, bands of 500 (Microsoft's choice, §1.6).
    case separateByFiveHundred = 2
    /// § 1874(a)(3): all national-security process combined, bands of 250, no delay.
    case combinedByTwoHundredFifty = 3
    /// § 1874(a)(4): all combined, bands of 100, a year's figures published a year late.
    case combinedByHundred = 4

    public var bandWidth: Int {
        switch self {
        case .separateByThousand: 1000
        case .separateByFiveHundred: 500
        case .combinedByTwoHundredFifty: 250
        case .combinedByHundred: 100
        }
    }

    public var isCombined: Bool { rawValue >= 3 }

    /// `50 U.S.C. § 1874(a)(2)`.
    public var description: String { "50 U.S.C. § 1874(a)(\(rawValue))" }

    /// The periods a report for `period` may cover (§ 1874(b)): NSLs the period itself; FISA
    /// orders (options 1 and 2) the half-year ending at least 180 days before publication (the
    /// one before `period`, published when `period` ends); option 3 the period itself; option 4
    /// the calendar year ending at least a year before `period` ends.
    public func coveredPeriods(for period: ReportPeriod) -> (nsl: ReportPeriod, fisa: ReportPeriod) {
        switch self {
        case .separateByThousand, .separateByFiveHundred:
            let half = ReportPeriod.halfYear(containing: period.end.addingTimeInterval(-1))
            return (period, ReportPeriod.halfYear(containing: half.start.addingTimeInterval(-1)))
        case .combinedByTwoHundredFifty:
            return (period, period)
        case .combinedByHundred:
            let yearAgo = Calendar(identifier: .gregorian).date(byAdding: .year, value: -1, to: period.end) ?? period.end
            // The latest calendar year that had ended a year before: the one before yearAgo's.
            let year = (Int(Timestamp.formatDay(yearAgo).prefix(4)) ?? 1971) - 1
            let whole = (try? ReportPeriod(parsing: String(format: "%04d-01-01..%04d-12-31", year, year))) ?? period
            return (whole, whole)
        }
    }
}

/// What national-security process the report counts, exactly: held privately, only ever
/// published as `NationalSecurityFigures` bands.
public struct NationalSecurityCounts: Equatable, Sendable {
    public var letters = 0
    public var letterSelectors = 0
    public var contentOrders = 0
    public var contentSelectors = 0
    public var nonContentOrders = 0
    public var nonContentSelectors = 0

    public init() {}

    /// Adds a group of facts by its instrument: NSLs (18 U.S.C. § 2709), FISA orders for contents
    /// (Title I electronic surveillance, § 702 directives). FISA non-content orders (pen registers,
    /// business records) have no instrument id yet, so that category counts none.
    public mutating func add(instrument: String, orders: Int, selectors: Int) {
        switch LegalInstrument(rawValue: instrument) {
        case .usNSL:
            letters += orders
            letterSelectors += selectors
        case .usFISATitle1, .usFISA702:
            contentOrders += orders
            contentSelectors += selectors
        default:
            break
        }
    }
}

/// One published band: `0 - 499`, `14,000 - 14,499`.
public struct NationalSecurityBand: Codable, Equatable, Sendable {
    /// § 1874(a) category letter (A–F), or `total` / `total-selectors` for the combined options.
    public var category: String
    public var label: String
    public var low: Int
    public var high: Int
    /// The period the band covers, as written (`2025-H2`).
    public var covers: String

    /// The band holding `count`: low = ⌊n / w⌋·w, high = low + w − 1; zero is in the first band,
    /// never an exact 0 (report-formats.md §4).
    public init(category: String, label: String, count: Int, width: Int, covers: ReportPeriod) {
        self.category = category
        self.label = label
        self.low = (max(0, count) / width) * width
        self.high = low + width - 1
        self.covers = covers.description
    }

    /// As the reports print it: thousands separated by commas, spaces around the hyphen.
    public var text: String { "\(Self.grouped(low)) - \(Self.grouped(high))" }

    static func grouped(_ value: Int) -> String {
        var digits = String(value)
        var groups: [String] = []
        while digits.count > 3 {
            groups.insert(String(digits.suffix(3)), at: 0)
            digits.removeLast(3)
        }
        groups.insert(digits, at: 0)
        return groups.joined(separator: ",")
    }
}

/// The report's national-security part: the configured structure and its bands.
public struct NationalSecurityFigures: Codable, Equatable, Sendable {
    public var structure: Int
    public var citation: String
    public var bands: [NationalSecurityBand]

    /// `letters` are counted in `nsl`'s period and `orders` in `fisa`'s (`coveredPeriods`); for
    /// the combined options the two are the same period and the same counts.
    public init(structure: NationalSecurityStructure, letters: NationalSecurityCounts, orders: NationalSecurityCounts, nsl: ReportPeriod, fisa: ReportPeriod) {
        self.structure = structure.rawValue
        self.citation = structure.description
        let width = structure.bandWidth
        if structure.isCombined {
            let requests = orders.letters + orders.contentOrders + orders.nonContentOrders
            let selectors = orders.letterSelectors + orders.contentSelectors + orders.nonContentSelectors
            bands = [
                NationalSecurityBand(category: "total", label: "National security process received (NSLs and FISA orders combined)", count: requests, width: width, covers: fisa),
                NationalSecurityBand(category: "total-selectors", label: "Customer selectors targeted, combined", count: selectors, width: width, covers: fisa),
            ]
        } else {
            bands = [
                NationalSecurityBand(category: "A", label: "National security letters received", count: letters.letters, width: width, covers: nsl),
                NationalSecurityBand(category: "B", label: "Customer selectors targeted by NSLs", count: letters.letterSelectors, width: width, covers: nsl),
                NationalSecurityBand(category: "C", label: "FISA orders seeking content", count: orders.contentOrders, width: width, covers: fisa),
                NationalSecurityBand(category: "D", label: "Customer selectors targeted under content orders", count: orders.contentSelectors, width: width, covers: fisa),
                NationalSecurityBand(category: "E", label: "FISA orders seeking only non-content", count: orders.nonContentOrders, width: width, covers: fisa),
                NationalSecurityBand(category: "F", label: "Customer selectors targeted under non-content orders", count: orders.nonContentSelectors, width: width, covers: fisa),
            ]
        }
    }

    /// The report entry's lines (tlog.md §6.5): `<structure> <category> <low>-<high>`.
    public var entryLines: [String] { bands.map { "\(structure) \($0.category) \($0.low)-\($0.high)" } }

    /// How many leaves the national-security commitment holds (tlog.md §6.7): every order band
    /// padded to its upper bound + 1, so the size says no more than the published bands.
    public var commitmentSize: Int {
        bands.filter { ["A", "C", "E", "total"].contains($0.category) }.reduce(0) { $0 + $1.high + 1 }
    }
}

extension NationalSecurityFigures {
    /// C_ns (tlog.md §6.7): a record commitment to the exact list of national-security process
    /// counted (their ids, sorted), padded with dummy fields to `commitmentSize`. `key` is the
    /// period's secret (derived from the provider's ns key), so a cleared auditor can be given
    /// every opening later, and nothing leaks before.
    public func commitment(ids: [String], key: Data) -> RecordCommitment {
        let sorted = ids.sorted()
        var fields = sorted.enumerated().map { RecordCommitment.Field(name: "item-\($0.offset)", value: $0.element) }
        let size = max(commitmentSize, fields.count)
        while fields.count < size { fields.append(RecordCommitment.Field(name: "item-\(fields.count)", value: "")) }
        return RecordCommitment(key: key, fields: fields)
    }
}
