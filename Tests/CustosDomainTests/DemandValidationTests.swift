import CustosDomain
import Foundation
import Testing

@Suite struct DemandValidationTests {
    static let pdf = DocumentUpload(filename: "warrant.pdf", mediaType: "application/pdf", bytes: Data("%PDF-1.4".utf8), field: "documents[0]")

    static func valid() -> DemandDraft {
        DemandDraft(
            instrument: "us.search_warrant", jurisdiction: "US", subdivision: "US-WA",
            issuingAuthority: .init(name: "U.S. District Court, W.D. Wash.", role: "judge"), caseReference: "2:26-mj-00412",
            receivedAt: "2026-05-04T09:00:00Z", targets: [.init(type: "email", value: "alice@example.com")],
            categories: ["subscriber_info", "content"], window: .init(from: "2026-01-01T00:00:00Z", to: "2026-02-01T00:00:00Z"),
            nonDisclosureOrder: .init(basis: "18 U.S.C. § 2705(b)", until: "2027-05-04"))
    }

    func issues(_ draft: DemandDraft, uploads: [DocumentUpload] = [pdf], limits: DemandLimits = DemandLimits()) -> [String] {
        do {
            _ = try Demand.validate(draft, uploads: uploads, limits: limits, agencyID: UUID(), submittedBy: UUID(), now: Fixture.t0.addingTimeInterval(3600), makeID: { UUID() })
            return []
        } catch { return error.issues.map(\.field) }
    }

    @Test func validDraftBecomesDemandWithDocumentHash() throws {
        let accepted = try Demand.validate(Self.valid(), uploads: [Self.pdf], limits: DemandLimits(), agencyID: UUID(), submittedBy: UUID(), now: Fixture.t0.addingTimeInterval(60), makeID: { UUID() })
        #expect(accepted.demand.instrument == .usSearchWarrant)
        #expect(accepted.demand.jurisdiction.subdivision == "US-WA")
        // SHA-256 of "%PDF-1.4", computed independently with sha256sum.
        #expect(accepted.demand.documents.first?.sha256 == "e16fa5d9b51928755db85b917f0297babaf22c7a47e97d9212adab56e61ba04e")
        #expect(accepted.demand.nonDisclosureOrder?.isInForce(at: Timestamp.parse("2027-05-04T23:00:00Z")!) == true)
        #expect(accepted.demand.nonDisclosureOrder?.isInForce(at: Timestamp.parse("2027-05-05T00:00:00Z")!) == false)
    }

    /// The DSA category an EU order cites is kept on the demand; anything but a category code is named.
    @Test func dsaCategoryIsACategoryCode() throws {
        var draft = Self.valid()
        draft.dsaCategory = "STATEMENT_CATEGORY_PROTECTION_OF_MINORS"
        let accepted = try Demand.validate(draft, uploads: [Self.pdf], limits: DemandLimits(), agencyID: UUID(), submittedBy: UUID(), now: Fixture.t0.addingTimeInterval(60), makeID: { UUID() })
        #expect(accepted.demand.dsaCategory == "STATEMENT_CATEGORY_PROTECTION_OF_MINORS")
        draft.dsaCategory = "fraud"
        #expect(issues(draft) == ["dsaCategory"])
    }

    /// The statement's bound counts code points, as the API's JSON Schema `maxLength` does, not
    /// the fewer characters that combining marks make.
    @Test func emergencyStatementIsBoundedInCodePoints() {
        var draft = Self.valid()
        draft.emergencyStatement = String(repeating: "a\u{308}", count: 5000)
        #expect(issues(draft).isEmpty)
        draft.emergencyStatement = String(repeating: "a\u{308}", count: 5001)
        #expect(issues(draft) == ["emergencyStatement"])
    }

    @Test func windowEndingBeforeItStartsIsNamed() {
        var draft = Self.valid()
        draft.window = .init(from: "2026-02-01T00:00:00Z", to: "2026-01-01T00:00:00Z")
        #expect(issues(draft) == ["window.to"])
    }

    @Test func missingAndUnknownFieldsAreNamed() {
        var draft = Self.valid()
        draft.instrument = "us.telepathy"
        draft.targets = [.init(type: "email", value: nil)]
        draft.categories = ["content", "dna"]
        draft.jurisdiction = "XX"
        #expect(Set(issues(draft)) == ["instrument", "targets[0].value", "categories[1]", "jurisdiction"])
        #expect(issues(DemandDraft(), uploads: []).contains("caseReference"))
    }

    @Test func uploadsAreChecked() {
        let empty = DocumentUpload(filename: "x.pdf", mediaType: "application/pdf", bytes: Data(), field: "documents[0]")
        #expect(issues(Self.valid(), uploads: [empty]) == ["documents[0]"])
        let big = DocumentUpload(filename: "x.pdf", mediaType: "application/pdf", bytes: Data(count: 11), field: "documents[0]")
        #expect(issues(Self.valid(), uploads: [big], limits: DemandLimits(maxDocumentBytes: 10)) == ["documents[0]"])
        let exe = DocumentUpload(filename: "x.exe", mediaType: "application/x-msdownload", bytes: Data([1]), field: "documents[0]")
        #expect(issues(Self.valid(), uploads: [exe]) == ["documents[0].mediaType"])
        #expect(issues(Self.valid(), uploads: []) == ["documents"])
    }

    @Test func gagOrderNeedsEndDateOrIndefinite() {
        var draft = Self.valid()
        draft.nonDisclosureOrder = .init(basis: "18 U.S.C. § 2705(b)")
        #expect(issues(draft) == ["nonDisclosureOrder.until"])
        draft.nonDisclosureOrder = .init(basis: "18 U.S.C. § 2705(b)", indefinite: true)
        #expect(issues(draft).isEmpty)
    }

    @Test func ipAddressTargetsNeedATimeRange() {
        var draft = Self.valid()
        draft.targets = [.init(type: "ip_address", value: "203.0.113.7")]
        #expect(issues(draft) == ["targets[0].range"])
    }
}
