import CustosDomain
import Foundation
import MerkleLog
import Testing

/// The record commitment and the lplog/v1 encoding, against tlog.md §7's vectors.
@Suite struct LegalProcessLogTests {
    static let key = Data((0x40...0x5f).map { UInt8($0) })
    static let values = [
        ("authority", "US District Court, N.D. Example"), ("jurisdiction", "us"), ("process-type", "search-warrant"),
        ("legal-basis", "18 USC 2703(a)"), ("case-ref", "1:26-mj-00042"), ("requester", "FBI Example Field Office"),
        ("received-at", "2026-07-14T15:04:05Z"), ("data-requested", "subscriber,content"), ("nondisclosure-basis", "18 USC 2705(b)"),
        ("nondisclosure-until", "2027-01-14"), ("subject/0", "acct:7f3a9c21"),
    ]
    static var commitment: RecordCommitment {
        RecordCommitment(key: key, fields: values.map { RecordCommitment.Field(name: $0.0, value: $0.1) })
    }

    @Test func theRecordCommitmentMatchesTheVector() {
        let c = Self.commitment
        #expect(Hex.encode(RecordCommitment.salt(key: Self.key, name: "authority")) == "5bec50a5cfd6b62bd7730f347b7978f045ca2feb7a21823e6facd60e0928ac62")
        #expect(Hex.encode(RecordCommitment.salt(key: Self.key, name: "subject/0")) == "15d8787d55f6e64c5dc517c29ec11e463bf2fcaf7267a77fe93522319aed8374")
        #expect(c.root.base64EncodedString() == "i+4NWEw06cPEgxoadjjSvqjn6mKBCQdR5FsmK48IqOI=")
        let processType = c.opening(2)
        #expect(processType.salt.base64EncodedString() == "YJn2PXIVND65vpLA3gHPkrxGQIu+4sRpLofnVHSOktA=")
        #expect(processType.path.map { $0.base64EncodedString() } == [
            "Bi1Z6u6NJSNG9+P7xP7GpnqZX3KYM0po+qJMsKV/J4Y=", "P7ltMG+GblEZiY/UgyKAtF/tEruNLyWMYeiG2doTws0=",
            "udWlSAR67whCeChXn0mx05KKFk62gn7QV6Nh1Wwv8pM=", "UBsEmtX7DkkYo9eESrZkKRksBkOP6ApQHsQfr21nIc4=",
        ])
        let subject = c.opening(10)
        #expect(subject.path.map { $0.base64EncodedString() } == [
            "CxEA5is+uvD9JN86PD+mRCR/s40AlC3GL1GHAgCb5mU=", "FW/4pcoEnrxZBcSU9ABajLoFwz51PcAjJDm6bqPpThY=",
        ])
        #expect(subject.verifies(root: c.root, fieldCount: 11))
        var forged = subject
        forged.value = "acct:00000000"
        #expect(!forged.verifies(root: c.root, fieldCount: 11))
        #expect(!subject.verifies(root: c.root, fieldCount: 12))
    }

    /// Opening one field reveals nothing about the others: the other fields' salts are not
    /// derivable from the revealed one, so even a low-entropy value (`us`) cannot be confirmed by
    /// hashing guesses against the path; and two records that differ only in another field open
    /// the same field to the same salt and value.
    @Test func openingAFieldRevealsNothingAboutTheOthers() {
        let c = Self.commitment
        let opened = c.opening(10)
        let rendered = LegalProcessLog.noticeBundle(entry: Data("x\n".utf8), openings: [opened])
        for (name, value) in Self.values where name != "subject/0" {
            #expect(!String(decoding: rendered, as: UTF8.self).contains(Data(value.utf8).base64EncodedString()))
            #expect(!String(decoding: rendered, as: UTF8.self).contains(RecordCommitment.salt(key: Self.key, name: name).base64EncodedString()))
        }
        // A dictionary attack on the jurisdiction with the revealed salt, or no salt, finds nothing in the path.
        let siblings = Set(opened.path)
        for guess in ["us", "de", "gb", "fr", "br", "in"] {
            for salt in [opened.salt, Data(repeating: 0, count: 32), Data()] {
                let leaf = MerkleHash.leaf(RecordCommitment.fieldLeaf(salt: salt, name: "jurisdiction", value: guess))
                #expect(!siblings.contains(leaf))
                #expect(!siblings.contains(MerkleHash.node(leaf, leaf)))
            }
        }
        var otherFields = Self.values
        otherFields[1].1 = "de"
        let other = RecordCommitment(key: Self.key, fields: otherFields.map { RecordCommitment.Field(name: $0.0, value: $0.1) })
        #expect(other.opening(10).salt == opened.salt && other.opening(10).value == opened.value)
        #expect(other.root != c.root)
    }

    @Test func theDemandEntryMatchesTheVectorByteForByte() throws {
        let entry = LegalProcessLog.demandEntry(
            ref: "9f86d081884c7d659a2feaa0c55ad015", period: "2026-07", classPath: "us/criminal/search-warrant", reviewBy: "2027-01-14",
            subjects: 1, fields: 11, record: Self.commitment.root,
            intake: .init(
                index: 2, leafHash: Data(base64Encoded: "xQQWB396B3/gIJ12eXInOem1jlliYZ/Pjb3UNrPJVrk=")!, size: 3,
                path: [Data(base64Encoded: "UMFeh0Z1gCHLHL/bvON5uPFXoFwpFHYg0GIPwhM8FS4=")!]))
        let expected = """
            lplog/v1 demand
            ref 9f86d081884c7d659a2feaa0c55ad015
            period 2026-07
            class us/criminal/search-warrant
            nondisclosure sealed
            review-by 2027-01-14
            subjects 1
            fields 11
            record i+4NWEw06cPEgxoadjjSvqjn6mKBCQdR5FsmK48IqOI=
            intake 2 xQQWB396B3/gIJ12eXInOem1jlliYZ/Pjb3UNrPJVrk=
            intake-proof 3 UMFeh0Z1gCHLHL/bvON5uPFXoFwpFHYg0GIPwhM8FS4=

            """
        #expect(String(decoding: entry.bytes, as: UTF8.self) == expected)
        #expect(Hex.encode(MerkleHash.leaf(entry.bytes)) == "e28148873b277f777bad9e18e3bfcf386f6b1749b79aa572cc5c6f3410fb407e")
        #expect(try LegalProcessLog.parse(entry.bytes) == entry)
        // The IAL intake proof in the entry leads to the vector's IAL root of size 3.
        try ProofVerification.verifyInclusion(
            index: 2, size: 3, leafHash: Data(base64Encoded: "xQQWB396B3/gIJ12eXInOem1jlliYZ/Pjb3UNrPJVrk=")!,
            proof: [Data(base64Encoded: "UMFeh0Z1gCHLHL/bvON5uPFXoFwpFHYg0GIPwhM8FS4=")!],
            root: Data(base64Encoded: "WAN1zSQqguYwxOX0wX21ga2mWbkDxPUVY0T9aIPSiOw=")!)
    }

    @Test func nonCanonicalOrMisorderedEntriesAreRefused() {
        for text in [
            "lplog/v1 demand\nref a\n", "lplog/v1 statement\ntext x\ndate 2026-01-01\n", "lplog/v1 statement\ndate  2026\ntext x\n",
            "lplog/v1 statement\ndate 2026\ntext x", "lplog/v1 unknown\n", "lplog/v1 statement\ndate 2026\ntext \u{e9}\n",
            "lplog/v1 opening\ndemand 1\nreason court-order\npath a\nfield b\n",
        ] {
            #expect(throws: LogEntry.ParseError.self, "\(text)") { try LegalProcessLog.parse(Data(text.utf8)) }
        }
    }

    @Test func aNoticeBundleVerifiesAndRefusesAForgedField() throws {
        let c = Self.commitment
        let entry = LegalProcessLog.demandEntry(
            ref: "ab", period: "2026-07", classPath: "us/criminal/search-warrant", reviewBy: nil, subjects: 1, fields: 11, record: c.root,
            intake: .init(index: 0, leafHash: Data(repeating: 1, count: 32), size: 1, path: []))
        let bundle = LegalProcessLog.noticeBundle(entry: entry.bytes, openings: [c.opening(10), c.opening(2)])
        let checked = try LegalProcessLog.verifyBundle(bundle)
        #expect(checked.entry == entry.bytes)
        #expect(checked.fields.map(\.value) == ["acct:7f3a9c21", "search-warrant"])
        var forged = c.opening(10)
        forged.value = "acct:someone-else"
        #expect(throws: LegalProcessLog.BundleFailure.self) {
            try LegalProcessLog.verifyBundle(LegalProcessLog.noticeBundle(entry: entry.bytes, openings: [forged]))
        }
    }
}

/// The rules of openings and canary statements, decided in the domain.
@Suite struct TransparencyRuleTests {
    @Test func anOpeningWaitsForTheBarAndNamesWhyItEnded() {
        let t0 = Fixture.t0
        let dated = Fixture.demand(order: NonDisclosureOrder(basis: "18 U.S.C. § 2705(b)", until: t0.addingTimeInterval(30 * 86_400), isIndefinite: false))
        #expect(LegalProcessLog.openingReason(dated, wasSealed: true, noticeHeld: true, at: t0) == nil)
        #expect(LegalProcessLog.openingReason(dated, wasSealed: true, noticeHeld: false, at: t0) == .nondisclosureLifted)
        #expect(LegalProcessLog.openingReason(dated, wasSealed: true, noticeHeld: false, at: t0.addingTimeInterval(40 * 86_400)) == .nondisclosureExpired)
        #expect(LegalProcessLog.openingReason(Fixture.demand(), wasSealed: false, noticeHeld: false, at: t0) == .neverSealed)
        #expect(LegalProcessLog.reviewBy(dated) == "2026-06-03")
        #expect(LegalProcessLog.reviewBy(Fixture.demand()) == nil)
    }

    @Test func canaryStatementsFollowTheCases() {
        var released = Fixture.newCase()
        released.state = .released
        released.releaseApprovals = [Approval(principalID: UUID(), by: "a", at: Fixture.t0, categories: [.subscriberInfo])]
        let statements = Canary.statements(cases: [released], checkpointsConsistent: true, includeNationalSecurity: false)
        #expect(statements.map(\.id) == ["no-keys-disclosed", "two-person-release", "logs-consistent"])
        #expect(statements.first { $0.id == "two-person-release" }?.holds == false)
        #expect(statements.first { $0.id == "no-keys-disclosed" }?.holds == true)
        released.approvedScope = [.encryptionKeys]
        #expect(Canary.statements(cases: [released], checkpointsConsistent: false, includeNationalSecurity: false).first { $0.id == "no-keys-disclosed" }?.holds == false)
        var nslCase = Fixture.newCase()
        nslCase.instrument = .usNSL
        let withNS = Canary.statements(cases: [nslCase], checkpointsConsistent: true, includeNationalSecurity: true)
        #expect(withNS.last?.id == "no-national-security-process" && withNS.last?.holds == false)
    }
}
