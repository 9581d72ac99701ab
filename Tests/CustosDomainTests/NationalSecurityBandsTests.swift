import CustosDomain
import Foundation
import MerkleLog
import Testing

/// Issue 7: national-security process only in 50 U.S.C. § 1874 bands, for the periods § 1874(b)
/// allows, and a commitment whose size says no more than the bands (report-formats.md §4, tlog.md §6.7).
@Suite struct NationalSecurityBandsTests {
    static let h1 = try! ReportPeriod(parsing: "2026-H1")

    @Test func bandsFollowTheStatutesArithmeticAndPrinting() {
        let p = Self.h1
        #expect(NationalSecurityBand(category: "A", label: "", count: 0, width: 500, covers: p).text == "0 - 499")
        #expect(NationalSecurityBand(category: "A", label: "", count: 499, width: 500, covers: p).text == "0 - 499")
        #expect(NationalSecurityBand(category: "A", label: "", count: 500, width: 500, covers: p).text == "500 - 999")
        #expect(NationalSecurityBand(category: "D", label: "", count: 24_321, width: 500, covers: p).text == "24,000 - 24,499")
        #expect(NationalSecurityBand(category: "D", label: "", count: 24_321, width: 250, covers: p).text == "24,250 - 24,499")
        #expect(NationalSecurityBand(category: "D", label: "", count: 14_999, width: 1000, covers: p).text == "14,000 - 14,999")
        #expect(NationalSecurityBand(category: "total", label: "", count: 251, width: 250, covers: p).text == "250 - 499")
        #expect(NationalSecurityBand(category: "total", label: "", count: 1_234_567, width: 100, covers: p).text == "1,234,500 - 1,234,599")
    }

    /// § 1874(b): NSLs current, FISA six months late (options 1, 2); option 3 current; option 4 a year late, a calendar year.
    @Test func eachStructureCoversItsPeriods() throws {
        let separate = NationalSecurityStructure.separateByFiveHundred.coveredPeriods(for: Self.h1)
        #expect(separate.nsl.description == "2026-H1" && separate.fisa.description == "2025-H2")
        #expect(NationalSecurityStructure.separateByThousand.coveredPeriods(for: try ReportPeriod(parsing: "2026-H2")).fisa.description == "2026-H1")
        #expect(NationalSecurityStructure.combinedByTwoHundredFifty.coveredPeriods(for: Self.h1).fisa.description == "2026-H1")
        let annual = NationalSecurityStructure.combinedByHundred.coveredPeriods(for: Self.h1).fisa
        #expect(annual.description == "2024-01-01..2024-12-31")
        #expect(NationalSecurityStructure.combinedByHundred.coveredPeriods(for: try ReportPeriod(parsing: "2026-H2")).fisa.description == "2025-01-01..2025-12-31")
        #expect(NationalSecurityStructure.allCases.map(\.bandWidth) == [1000, 500, 250, 100])
    }

    @Test func separateAndCombinedStructuresPublishTheirCategoriesOnly() {
        var letters = NationalSecurityCounts()
        letters.add(instrument: "us.nsl", orders: 3, selectors: 700)
        letters.add(instrument: "us.subpoena", orders: 50, selectors: 50)  // not national security: ignored
        var orders = NationalSecurityCounts()
        orders.add(instrument: "us.fisa_702", orders: 2, selectors: 24_310)
        orders.add(instrument: "us.fisa_title1", orders: 1, selectors: 1)
        orders.add(instrument: "us.nsl", orders: 300, selectors: 300)
        let previous = NationalSecurityStructure.separateByFiveHundred.coveredPeriods(for: Self.h1).fisa
        let separate = NationalSecurityFigures(structure: .separateByFiveHundred, letters: letters, orders: orders, nsl: Self.h1, fisa: previous)
        #expect(separate.bands.map(\.category) == ["A", "B", "C", "D", "E", "F"])
        #expect(separate.bands.map(\.text) == ["0 - 499", "500 - 999", "0 - 499", "24,000 - 24,499", "0 - 499", "0 - 499"])
        #expect(separate.bands[0].covers == "2026-H1" && separate.bands[2].covers == "2025-H2")
        #expect(separate.entryLines[3] == "2 D 24000-24499")
        #expect(separate.commitmentSize == 1500)
        let combined = NationalSecurityFigures(structure: .combinedByTwoHundredFifty, letters: orders, orders: orders, nsl: Self.h1, fisa: Self.h1)
        // 300 NSLs + 3 FISA orders = 303, selectors 300 + 24,311.
        #expect(combined.bands.map(\.text) == ["250 - 499", "24,500 - 24,749"])
        #expect(combined.entryLines == ["3 total 250-499", "3 total-selectors 24500-24749"])
        #expect(combined.commitmentSize == 500)
    }

    /// The commitment always has the padded size, its openings verify, and a dummy looks like an item.
    @Test func commitmentSizeSaysNoMoreThanTheBands() {
        let figures = NationalSecurityFigures(
            structure: .combinedByTwoHundredFifty, letters: NationalSecurityCounts(), orders: NationalSecurityCounts(), nsl: Self.h1, fisa: Self.h1)
        let key = Data(repeating: 7, count: 32)
        let three = figures.commitment(ids: ["c", "a", "b"], key: key)
        let thirty = figures.commitment(ids: (0..<30).map { "id-\($0)" }, key: key)
        #expect(three.fields.count == 250 && thirty.fields.count == 250)
        #expect(three.fields[0].value == "a" && three.fields[3].value == "" && three.fields[3].name == "item-3")
        #expect(three.root != thirty.root)
        #expect(three.root == figures.commitment(ids: ["b", "c", "a"], key: key).root, "the same list commits the same way")
        #expect(three.root != figures.commitment(ids: ["a", "b", "c"], key: Data(repeating: 8, count: 32)).root)
        let opening = three.opening(1)
        #expect(opening.value == "b" && opening.verifies(root: three.root, fieldCount: 250))
    }
}
