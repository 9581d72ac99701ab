import Foundation

/// DSA Art. 15(1)(a) figures (Reg. (EU) 2022/2065) for the orders Custos handles, in the
/// harmonised template's Part 3 `member_states_orders` (report-formats.md §6).
///
/// Custos handles orders to *provide information* (Art. 10 and other orders about specific
/// recipients): every demand from a Member State authority that asks for data. Orders to *act
/// against illegal content* (Art. 9) are removal orders; they reach the provider's content
/// moderation, not Custos, so those columns are left blank ("does not apply") with a note.
public enum DSAOrders {
    /// Member States by ISO 3166-1 code, with the code the templates use (Eurostat's glossary:
    /// `EL` for Greece; every other code is the ISO one).
    public static let memberStates: [String: String] = {
        var codes: [String: String] = [:]
        for code in ["AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "HU", "IE", "IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO",
                     "SK", "SI", "ES", "SE"] {
            codes[code] = code
        }
        codes["GR"] = "EL"
        return codes
    }()

    /// The high-level categories of illegal content (the DSA Transparency Database's
    /// `STATEMENT_CATEGORY_*` codes, Annex II of the implementing regulation).
    public static let categories = [
        "STATEMENT_CATEGORY_ANIMAL_WELFARE", "STATEMENT_CATEGORY_CONSUMER_INFORMATION", "STATEMENT_CATEGORY_CYBER_VIOLENCE",
        "STATEMENT_CATEGORY_CYBER_VIOLENCE_AGAINST_WOMEN", "STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS",
        "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH", "STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS",
        "STATEMENT_CATEGORY_NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS", "STATEMENT_CATEGORY_PROTECTION_OF_MINORS",
        "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY", "STATEMENT_CATEGORY_SCAMS_AND_FRAUD", "STATEMENT_CATEGORY_SELF_HARM",
        "STATEMENT_CATEGORY_UNSAFE_AND_PROHIBITED_PRODUCTS", "STATEMENT_CATEGORY_VIOLENCE", "STATEMENT_CATEGORY_OTHER_VIOLATION_TC",
        "STATEMENT_CATEGORY_NOT_SPECIFIED_ORDER", "STATEMENT_CATEGORY_NOT_SPECIFIED_NOTICE",
    ]

    /// An order with no recorded legal ground for its category: Annex II reserves this code for
    /// orders that give none; a case handled in Custos records no category yet (a named gap).
    public static let unspecified = "STATEMENT_CATEGORY_NOT_SPECIFIED_ORDER"

    /// Whether a fact is an order to provide information from a Member State authority: issued in
    /// the EU, asking for data (not preservation only), not a civil party's, not national security.
    public static func isOrderToProvideInformation(country: String, section: ReportSection, isPreservation: Bool, isNationalSecurity: Bool) -> Bool {
        memberStates[country] != nil && section != .civil && !isPreservation && !isNationalSecurity
    }

    /// Whole hours from delivery (report-formats.md §6: "measured from when the order was
    /// successfully transmitted or delivered"). An automated confirmation within one hour counts
    /// as 0; otherwise the time is rounded to the nearest hour, halves up.
    public static func receiptHours(milliseconds: Int64) -> Int64 {
        milliseconds <= 3_600_000 ? 0 : effectHours(milliseconds: milliseconds)
    }

    public static func effectHours(milliseconds: Int64) -> Int64 {
        (max(0, milliseconds) + 1_800_000) / 3_600_000
    }

    /// Orders sharing a Member State, a category and the two times in whole hours (storage
    /// counts them with one GROUP BY, so medians need no per-order rows). -1: not (yet) given.
    public struct Timing: Codable, Equatable, Hashable, Sendable {
        public var country: String
        public var category: String
        public var receiptHours: Int64
        public var effectHours: Int64
        public var orders: Int

        public init(country: String, category: String, receiptHours: Int64, effectHours: Int64, orders: Int) {
            self.country = country
            self.category = category
            self.receiptHours = receiptHours
            self.effectHours = effectHours
            self.orders = orders
        }
    }

    /// The timings of the period's orders computed from facts (what storage counts).
    public static func timings(of facts: some Sequence<ReportFact>, in period: ReportPeriod) -> [Timing] {
        ReportTally.counts(of: facts, in: period).dsaTimings
    }

    /// One line of Part 3: a scope (TOTAL or a Member State's template code) and a category (or TOTAL).
    public struct Row: Codable, Equatable, Sendable {
        public var scope: String
        public var category: String
        public var ordersToProvideInformation: Int
        /// Median hours to inform the authority of receipt; nil when no order records it.
        public var medianReceiptHours: String?
        /// Median hours to give effect, over the orders given effect; nil when none was.
        public var medianEffectHours: String?
    }

    /// The Part 3 rows: TOTAL scope first, then each Member State by template code; in each
    /// block the TOTAL category first, then each category with orders. Every median is computed
    /// from the orders' own times, never from other medians (they do not add up, §6).
    public static func rows(_ timings: [Timing]) -> [Row] {
        let known = timings.compactMap { timing -> Timing? in
            guard let code = memberStates[timing.country] else { return nil }
            var mapped = timing
            mapped.country = code
            if !categories.contains(mapped.category) { mapped.category = unspecified }
            return mapped
        }
        func row(scope: String, category: String, _ part: [Timing]) -> Row {
            Row(
                scope: scope, category: category, ordersToProvideInformation: part.reduce(0) { $0 + $1.orders },
                medianReceiptHours: median(part.map { ($0.receiptHours, $0.orders) }), medianEffectHours: median(part.map { ($0.effectHours, $0.orders) }))
        }
        var rows: [Row] = []
        for scope in ["TOTAL"] + Set(known.map(\.country)).sorted() {
            let inScope = scope == "TOTAL" ? known : known.filter { $0.country == scope }
            rows.append(row(scope: scope, category: "TOTAL", inScope))
            for category in categories {
                let part = inScope.filter { $0.category == category }
                if !part.isEmpty { rows.append(row(scope: scope, category: category, part)) }
            }
        }
        return rows
    }

    /// The median of whole-hour values with multiplicities (negative values are "not given" and
    /// left out); the mean of the two middle values when their count is even, written with at
    /// most one decimal (`20`, `20.5`).
    static func median(_ values: [(hours: Int64, count: Int)]) -> String? {
        let given = values.filter { $0.hours >= 0 && $0.count > 0 }.sorted { $0.hours < $1.hours }
        let total = given.reduce(0) { $0 + $1.count }
        guard total > 0 else { return nil }
        func value(at position: Int) -> Int64 {
            var seen = 0
            for (hours, count) in given {
                seen += count
                if position < seen { return hours }
            }
            return given[given.count - 1].hours
        }
        let low = value(at: (total - 1) / 2)
        let high = value(at: total / 2)
        let doubled = low + high
        return doubled % 2 == 0 ? "\(doubled / 2)" : "\(doubled / 2).5"
    }

    /// The template's exact Part 3 header, columns A–T (report-formats.md §6).
    public static let header = [
        "Applicability", "Service", "Reporting period", "Category of illegal content", "Description of the sub-category \"Other\"", "Scope",
        "Number of orders to act against illegal content received",
        "Number of specific items of information included in the total number of orders to act against illegal content",
        "Median time to inform the authority of the receipt of the order to act against illegal content",
        "Median time to give effect to the order to act against illegal content", "Number of orders to provide information",
        "Median time to inform the authority of the receipt of the order to provide information",
        "Median time to give effect to the order to provide information",
        "Contextual information on number of orders to act against illegal content received",
        "Contextual information on number of specific items of information included in the total number of orders to act against illegal content",
        "Contextual information on Median time to inform the authority of the receipt of the order to act against illegal content",
        "Contextual information on Median time to give effect to the order to act against illegal content",
        "Contextual information on Number of orders to provide information",
        "Contextual information on Median time to inform the authority of the receipt of the order to provide information",
        "Contextual information on Median time to give effect to the order to provide information",
    ]
}

/// The report's DSA part: the service it covers and the Part 3 rows.
public struct DSAFigures: Codable, Equatable, Sendable {
    public var service: String
    public var rows: [DSAOrders.Row]

    public init(service: String, timings: [DSAOrders.Timing]) {
        self.service = service
        self.rows = DSAOrders.rows(timings)
    }
}
