@testable import CustosDomain
import Foundation
import Testing

/// Issue 8: every red flag, on its own, from the signs forged emergency requests showed
/// (legal-rules.md §6.2–6.3 E3–E5); and a clean request raises none.
@Suite struct RedFlagsTests {
    static let now = Fixture.t0
    static let fbi = Agency(
        id: Fixture.agencyID, name: "FBI Seattle Field Office", country: "US", kind: .lawEnforcement, domains: ["fbi.gov"], phones: [Fixture.switchboard])
    static let directory: Set<String> = ["fbi.gov", "polizei.bwl.de", "justice.gouv.fr", "met.police.uk"]
    static let statement = "A 14-year-old reported missing on 3 May 2026 at 21:40 posted a suicide note from this account; we need the login IP of the last 24 hours to find her."

    static func flags(
        email: String = "agent.smith@fbi.gov", replyTo: String? = nil, emergency: Bool = false, statement: String? = statement,
        country: String = "US", registered: TimeInterval = 400 * 86_400, reset: TimeInterval? = nil
    ) -> Set<RedFlag.Code> {
        var demand = Fixture.demand(emergency: emergency)
        demand.jurisdiction = Jurisdiction(country: country)
        let requester = RequesterContext(
            senderEmail: email, replyTo: replyTo, agency: fbi, directoryDomains: DomainDirectory(directory), registeredAt: now.addingTimeInterval(-registered),
            lastCredentialResetAt: reset.map { now.addingTimeInterval(-$0) })
        return Set(RedFlags.assess(demand, statement: statement, requester: requester, at: now).map(\.code))
    }

    @Test func aCleanRequestRaisesNone() {
        #expect(Self.flags().isEmpty)
        #expect(Self.flags(email: "duty@seattle.fbi.gov", emergency: true).isEmpty, "a subdomain of the agency's domain is the agency's")
    }

    @Test func freeMail() {
        #expect(Self.flags(email: "fbi.seattle.agent@gmail.com") == [.freeMailDomain, .domainNotInDirectory])
        #expect(Self.flags(email: "x@PROTON.ME").contains(.freeMailDomain))
    }

    @Test func lookalikeDomains() {
        // Edits, confusable characters, the real name inside another domain.
        for fake in ["fbi.gob", "fbl.gov", "fb1.gov", "fbi-gov.com", "fbigov.net", "f\u{0431}i.gov", "po1izei.bwl.de", "justlce.gouv.fr", "met-police-uk.org"] {
            #expect(Self.flags(email: "agent@\(fake)").contains(.lookalikeDomain), "\(fake)")
        }
        #expect(RedFlags.imitatedDomain("fb1.gov", among: Self.directory) == "fbi.gov")
        #expect(RedFlags.imitatedDomain("p\u{043E}lizei.bwl.de", among: Self.directory) == "polizei.bwl.de", "Cyrillic o")
        // Real directory domains and unrelated ones are not imitations.
        #expect(RedFlags.imitatedDomain("met.police.uk", among: Self.directory) == nil)
        #expect(RedFlags.imitatedDomain("example.org", among: Self.directory) == nil)
        #expect(RedFlags.skeleton("rnicrosoft.corn") == RedFlags.skeleton("microsoft.com"))
    }

    /// The prepared directory gives the verdict of the check as written plainly (every directory
    /// domain folded on the spot, as it was before the directory was prepared once), on a
    /// directory of 500 domains and imitations made by every trick the check knows.
    @Test func thePreparedDirectoryJudgesAsThePlainCheck() {
        func plain(_ domain: String, _ directory: Set<String>) -> String? {
            let folded = RedFlags.skeleton(domain)
            for real in directory.sorted() where domain == real.lowercased() || domain.hasSuffix("." + real.lowercased()) { return nil }
            for real in directory.sorted() {
                let real = real.lowercased(), realSkeleton = RedFlags.skeleton(real)
                if folded == realSkeleton { return real }
                if real.count >= 6 && RedFlags.editDistance(folded, realSkeleton, limit: 2) <= 2 { return real }
                let flattened = realSkeleton.replacingOccurrences(of: ".", with: "")
                if flattened.count >= 5 && folded.replacingOccurrences(of: "-", with: "").replacingOccurrences(of: ".", with: "").contains(flattened) { return real }
            }
            return nil
        }
        var rng = SystemRandomNumberGenerator()
        let words = ["police", "sheriff", "justice", "county", "state", "bureau", "polizei", "gendarmerie", "court", "marshal"]
        let tlds = ["gov", "de", "fr", "us", "org", "gouv.fr", "police.uk"]
        var directory = Self.directory
        while directory.count < 500 {
            directory.insert("\(words.randomElement(using: &rng)!)\(Int.random(in: 1...999, using: &rng)).\(tlds.randomElement(using: &rng)!)")
        }
        let prepared = DomainDirectory(directory)
        var probes = ["example.org", "gmail.com", "sub.fbi.gov"]
        for real in directory.shuffled(using: &rng).prefix(40) {
            probes.append(real)  // genuine
            probes.append("mail." + real)  // genuine subdomain
            probes.append(real.replacingOccurrences(of: "o", with: "0"))  // folded look-alike
            probes.append(real.replacingOccurrences(of: ".", with: "-") + ".com")  // flattened inside another name
            probes.append(String(real.dropFirst()))  // one edit
            probes.append("x" + real.replacingOccurrences(of: "i", with: "\u{0456}"))  // Cyrillic i, one insertion
        }
        var found = 0
        for probe in probes {
            let expected = plain(probe, directory)
            #expect(prepared.imitated(by: probe) == expected, "\(probe)")
            #expect(RedFlags.imitatedDomain(probe, among: directory) == expected, "\(probe)")
            if expected != nil { found += 1 }
        }
        #expect(found > 60, "the probes include many imitations (\(found))")
    }

    @Test func aDomainOutsideTheAgencysDirectoryEntry() {
        // Another agency's real domain: not a look-alike, but not this agency's.
        #expect(Self.flags(email: "someone@met.police.uk") == [.domainNotInDirectory])
    }

    @Test func replyToMismatch() {
        #expect(Self.flags(replyTo: "agent.smith@fbi.gov") == [])
        #expect(Self.flags(replyTo: "Agent.Smith@FBI.gov") == [], "case does not matter")
        #expect(Self.flags(replyTo: "drop@proton.me") == [.replyToMismatch])
    }

    @Test func urgencyWithoutSpecifics() {
        #expect(Self.flags(emergency: true, statement: nil) == [.urgencyWithoutSpecifics])
        #expect(Self.flags(emergency: true, statement: "Urgent. Life at risk.") == [.urgencyWithoutSpecifics])
        let pressure = "This is urgent and life-threatening. Failure to comply could result in loss of life, so respond immediately and without any further delay please."
        #expect(Self.flags(emergency: true, statement: pressure) == [.urgencyWithoutSpecifics])
        // The same words with the facts (a date, a time) are specific enough; a non-emergency needs no statement.
        #expect(Self.flags(emergency: true, statement: pressure + " The girl went missing on 3 May at 21:40.") == [])
        #expect(Self.flags(emergency: false, statement: nil) == [])
    }

    @Test func outsideJurisdiction() {
        #expect(Self.flags(country: "DE") == [.outsideJurisdiction])
    }

    @Test func newRequesterAndRecentReset() {
        #expect(Self.flags(registered: 3 * 86_400) == [.newRequester])
        #expect(Self.flags(registered: RedFlags.newRequesterAge + 60) == [])
        #expect(Self.flags(reset: 2 * 86_400) == [.recentCredentialReset])
        #expect(Self.flags(reset: RedFlags.recentResetAge + 60) == [])
    }

    /// Each flag says what it saw, so staff can judge it.
    @Test func flagsExplainThemselves() {
        var demand = Fixture.demand(emergency: true)
        demand.jurisdiction = Jurisdiction(country: "US")
        let found = RedFlags.assess(
            demand, statement: nil,
            requester: RequesterContext(senderEmail: "agent@fb1.gov", agency: Self.fbi, directoryDomains: DomainDirectory(Self.directory), registeredAt: Self.now),
            at: Self.now)
        #expect(found.first { $0.code == .lookalikeDomain }?.detail == "fb1.gov imitates fbi.gov")
        #expect(found.first { $0.code == .domainNotInDirectory }?.detail.contains("fbi.gov") == true)
        #expect(found.first { $0.code == .newRequester }?.detail == "registered 2026-05-04")
    }
}

/// Issue 8: who may submit what, by standing and the emergency permission.
@Suite struct RequesterStandingTests {
    @Test func standingDecidesWhoMaySubmit() {
        for standing in [RequesterStanding.pending, .suspended, .blocklisted] {
            #expect(standing.refusal(emergency: false, mayRequestEmergency: true) != nil, "\(standing)")
        }
        #expect(RequesterStanding.active.refusal(emergency: false, mayRequestEmergency: false) == nil)
        #expect(RequesterStanding.unverified.refusal(emergency: false, mayRequestEmergency: false) == nil)
        // Emergencies: only active requesters with the permission (E1).
        #expect(RequesterStanding.active.refusal(emergency: true, mayRequestEmergency: true) == nil)
        #expect(RequesterStanding.active.refusal(emergency: true, mayRequestEmergency: false)?.contains("not permitted") == true)
        #expect(RequesterStanding.unverified.refusal(emergency: true, mayRequestEmergency: true)?.contains("verified") == true)
    }

    @Test func anUnverifiedRequesterIsFlagged() {
        let agency = Agency(id: Fixture.agencyID, name: "FBI", country: "US", kind: .lawEnforcement, domains: ["fbi.gov"])
        let flags = RedFlags.assess(
            Fixture.demand(), statement: nil,
            requester: RequesterContext(
                senderEmail: "a@fbi.gov", agency: agency, directoryDomains: ["fbi.gov"], registeredAt: .distantPast, standing: .unverified),
            at: Fixture.t0)
        #expect(flags.map(\.code) == [.unverifiedRequester])
    }
}

/// Issue 8: the blocklist feed's text is deterministic and strictly parsed, and matching works on
/// addresses, domains, parent domains, plain or hashed.
@Suite struct BlocklistFeedTests {
    static let entries = [
        BlocklistEntry(kind: .domain, value: "fbi-gov.com"), BlocklistEntry(kind: .address, value: "Forger@Agency-Example.com"),
        BlocklistEntry(kind: .domain, value: "fbi-gov.com"),
    ]

    @Test func theFeedTextIsSortedUniqueAndRoundTrips() throws {
        let text = BlocklistFeed.noteText(origin: "a.example/transparency/blocklist", issuedAt: Fixture.t0, entries: Self.entries, hashed: false)
        #expect(text == """
            custos-blocklist/v1
            origin a.example/transparency/blocklist
            issued 2026-05-04T09:00:00.000Z
            address forger@agency-example.com
            domain fbi-gov.com

            """)
        let parsed = try BlocklistFeed.parse(text)
        #expect(parsed.origin == "a.example/transparency/blocklist" && parsed.issuedAt == Fixture.t0 && Set(parsed.entries) == Set(Self.entries))
        let hashed = try BlocklistFeed.parse(BlocklistFeed.noteText(origin: "a", issuedAt: Fixture.t0, entries: Self.entries, hashed: true))
        #expect(hashed.entries.allSatisfy(\.isHashed) && !BlocklistFeed.noteText(origin: "a", issuedAt: Fixture.t0, entries: Self.entries, hashed: true).contains("fbi-gov"))
        #expect(hashed.entries.contains(BlocklistEntry(kind: .domain, value: BlocklistFeed.hash("fbi-gov.com"), isHashed: true)))
    }

    @Test func aFeedNotExactlyInTheFormatIsRefused() {
        let good = BlocklistFeed.noteText(origin: "a", issuedAt: Fixture.t0, entries: Self.entries, hashed: false)
        for bad in [
            good.replacingOccurrences(of: "custos-blocklist/v1", with: "custos-blocklist/v2"), String(good.dropLast()),
            good + "domain\n", good + "url http://x\n", good + "domain FBI.gov\n", good + "address no-at-sign\n", good + "domain-sha256 abc\n",
        ] {
            #expect(throws: BlocklistFeed.ParseError.self) { try BlocklistFeed.parse(bad) }
        }
    }

    @Test func matchingCoversAddressesDomainsAndParents() {
        let plain = Self.entries
        let hashed = Self.entries.map(\.hashed)
        for list in [plain, hashed] {
            #expect(BlocklistFeed.match("forger@agency-example.com", in: list)?.kind == .address)
            #expect(BlocklistFeed.match("anyone@fbi-gov.com", in: list)?.kind == .domain)
            #expect(BlocklistFeed.match("anyone@mail.fbi-gov.com", in: list)?.value == "fbi-gov.com")
            #expect(BlocklistFeed.match("other@agency-example.com", in: list) == nil)
            #expect(BlocklistFeed.match("agent@fbi.gov", in: list) == nil)
        }
        let flags = RedFlags.assess(
            Fixture.demand(), statement: nil,
            requester: RequesterContext(
                senderEmail: "x@mail.fbi-gov.com", agency: Agency(id: Fixture.agencyID, name: "FBI", country: "US", kind: .lawEnforcement),
                directoryDomains: [], registeredAt: .distantPast, blocklist: hashed),
            at: Fixture.t0)
        #expect(flags.map(\.code) == [.blocklistedSender])
    }
}
