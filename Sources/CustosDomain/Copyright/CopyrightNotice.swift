import Foundation

/// A notice of claimed infringement as a rights holder sends it (17 U.S.C. § 512(c)(3)(A)), and the
/// counter-notice a customer may answer with (§ 512(g)(3)). Commitment C10: the customer hosting
/// the material hears of it and answers; repeat infringers lose the service by policy.
public struct CopyrightWork: Codable, Equatable, Sendable {
    /// What the copyrighted work is ("the photograph 'Harbour at Dawn' (2024)").
    public var description: String
    /// Where the original can be seen, if online.
    public var copyrightedURLs: [String]
    /// Where the allegedly infringing copy is on the provider's service.
    public var infringingURLs: [String]

    public init(description: String, copyrightedURLs: [String] = [], infringingURLs: [String]) {
        self.description = description
        self.copyrightedURLs = copyrightedURLs
        self.infringingURLs = infringingURLs
    }

    /// The original's URLs may be left out (§ 512(c)(3)(A)(ii) asks to identify the work, not to link it).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        description = try container.decode(String.self, forKey: .description)
        copyrightedURLs = try container.decodeIfPresent([String].self, forKey: .copyrightedURLs) ?? []
        infringingURLs = try container.decode([String].self, forKey: .infringingURLs)
    }
}

/// The person who sends a notice: the owner of the right or its agent.
public struct Complainant: Codable, Equatable, Sendable {
    public var name: String
    public var organisation: String?
    public var email: String
    public var address: String?
    public var phone: String?
    public var country: String?

    public init(name: String, organisation: String? = nil, email: String, address: String? = nil, phone: String? = nil, country: String? = nil) {
        self.name = name
        self.organisation = organisation
        self.email = email
        self.address = address
        self.phone = phone
        self.country = country
    }
}

/// What the sender wrote, unchanged: the check reads it, it is never edited.
public struct CopyrightNoticeText: Codable, Equatable, Sendable {
    public var complainant: Complainant
    /// The owner of the exclusive right, when the complainant is its agent.
    public var rightsOwner: String?
    public var works: [CopyrightWork]
    /// "/s/ Jane Doe" or a scanned signature's name (§ 512(c)(3)(A)(i)).
    public var signature: String
    /// § 512(c)(3)(A)(v): good-faith belief that the use is not authorised.
    public var goodFaithStatement: Bool
    /// § 512(c)(3)(A)(vi): the notice is accurate and, under penalty of perjury, the complainant is authorised.
    public var accuracyUnderPenaltyOfPerjury: Bool

    public init(
        complainant: Complainant, rightsOwner: String? = nil, works: [CopyrightWork], signature: String, goodFaithStatement: Bool,
        accuracyUnderPenaltyOfPerjury: Bool
    ) {
        self.complainant = complainant
        self.rightsOwner = rightsOwner
        self.works = works
        self.signature = signature
        self.goodFaithStatement = goodFaithStatement
        self.accuracyUnderPenaltyOfPerjury = accuracyUnderPenaltyOfPerjury
    }

    /// Every infringing URL of every work.
    public var infringingURLs: [String] { works.flatMap(\.infringingURLs) }
}

/// A customer's counter-notice (§ 512(g)(3)).
public struct CounterNoticeText: Codable, Equatable, Sendable {
    public var signature: String
    /// The material removed and where it appeared.
    public var material: String
    /// § 512(g)(3)(C): good-faith belief, under penalty of perjury, that removal was a mistake or misidentification.
    public var mistakeUnderPenaltyOfPerjury: Bool
    public var name: String
    public var address: String
    public var phone: String
    /// § 512(g)(3)(D): consent to the federal district court's jurisdiction and acceptance of service.
    public var consentsToJurisdiction: Bool
    public var acceptsService: Bool

    public init(
        signature: String, material: String, mistakeUnderPenaltyOfPerjury: Bool, name: String, address: String, phone: String,
        consentsToJurisdiction: Bool, acceptsService: Bool
    ) {
        self.signature = signature
        self.material = material
        self.mistakeUnderPenaltyOfPerjury = mistakeUnderPenaltyOfPerjury
        self.name = name
        self.address = address
        self.phone = phone
        self.consentsToJurisdiction = consentsToJurisdiction
        self.acceptsService = acceptsService
    }
}

/// One element of a notice or counter-notice: present or missing, with why and its citation.
public struct ElementFinding: Codable, Equatable, Sendable {
    public var id: String
    public var requirement: String
    public var citation: String
    public var present: Bool
    public var reason: String
}

/// How a notice stands against § 512(c)(3).
public enum NoticeValidity: String, Codable, Sendable {
    /// Every element substantially present: takedown follows (§ 512(c)(1)(C)).
    case valid
    /// (ii), (iii) and (iv) present but not the rest: the provider must promptly contact the
    /// sender to obtain a compliant notice (§ 512(c)(3)(B)(ii)).
    case substantiallyCompliant = "substantially_compliant"
    /// Neither: it does not count as notice (§ 512(c)(3)(B)(i)); the sender is told why.
    case invalid
}

/// The element checks, from the rulebook's element list (legal-rules.md §4.2 and §4.4).
public enum CopyrightChecks {
    public static func check(_ notice: CopyrightNoticeText, elements: [DMCARules.Element]) -> (NoticeValidity, [ElementFinding]) {
        let findings = elements.map { element -> ElementFinding in
            let (present, reason) = noticeElement(element.id, notice)
            return ElementFinding(id: element.id, requirement: element.requirement, citation: element.citation, present: present, reason: reason)
        }
        if findings.allSatisfy(\.present) { return (.valid, findings) }
        // § 512(c)(3)(B)(ii): the elements a notice cannot lack and still be curable.
        let core = elements.filter { $0.curableWithout == false }.map(\.id)
        let coreFindings = findings.filter { core.contains($0.id) }
        if !coreFindings.isEmpty && coreFindings.allSatisfy(\.present) { return (.substantiallyCompliant, findings) }
        return (.invalid, findings)
    }

    public static func check(_ counter: CounterNoticeText, elements: [DMCARules.Element]) -> (valid: Bool, [ElementFinding]) {
        let findings = elements.map { element -> ElementFinding in
            let (present, reason) = counterElement(element.id, counter)
            return ElementFinding(id: element.id, requirement: element.requirement, citation: element.citation, present: present, reason: reason)
        }
        return (findings.allSatisfy(\.present), findings)
    }

    static func filled(_ text: String?) -> Bool { (text ?? "").trimmingCharacters(in: .whitespacesAndNewlines).count >= 2 }

    /// An absolute http(s) URL with a host: information "reasonably sufficient to locate" it.
    public static func isLocatable(_ text: String) -> Bool {
        guard let url = URL(string: text.trimmingCharacters(in: .whitespaces)), let scheme = url.scheme?.lowercased(),
            scheme == "http" || scheme == "https", let host = url.host, host.contains(".")
        else { return false }
        return true
    }

    static func noticeElement(_ id: String, _ notice: CopyrightNoticeText) -> (Bool, String) {
        switch id {
        case "N-i":
            return filled(notice.signature) ? (true, "signed \"\(notice.signature)\"") : (false, "the notice is not signed")
        case "N-ii":
            let described = notice.works.filter { filled($0.description) }
            return !notice.works.isEmpty && described.count == notice.works.count
                ? (true, "\(notice.works.count) work(s) identified") : (false, "no copyrighted work is identified")
        case "N-iii":
            let urls = notice.infringingURLs
            let bad = urls.filter { !isLocatable($0) }
            if urls.isEmpty || notice.works.contains(where: { $0.infringingURLs.isEmpty }) {
                return (false, "no infringing material is located: give the URL of each copy")
            }
            return bad.isEmpty ? (true, "\(urls.count) URL(s) locate the material") : (false, "these do not locate anything: \(bad.joined(separator: ", "))")
        case "N-iv":
            let email = notice.complainant.email
            let hasMail = email.contains("@") && email.split(separator: "@").last?.contains(".") == true
            let reachable = hasMail && (filled(notice.complainant.address) || filled(notice.complainant.phone)) && filled(notice.complainant.name)
            return reachable ? (true, "name, e-mail and \(filled(notice.complainant.address) ? "address" : "telephone")")
                : (false, "give a name, an e-mail address and a postal address or telephone number")
        case "N-v":
            return notice.goodFaithStatement ? (true, "good-faith statement made") : (false, "no statement of good-faith belief that the use is not authorised")
        case "N-vi":
            return notice.accuracyUnderPenaltyOfPerjury ? (true, "accuracy and authority stated under penalty of perjury")
                : (false, "no statement, under penalty of perjury, that the notice is accurate and the sender is authorised")
        default:
            return (false, "unknown element \(id) in the rulebook")
        }
    }

    static func counterElement(_ id: String, _ counter: CounterNoticeText) -> (Bool, String) {
        switch id {
        case "C-A": return filled(counter.signature) ? (true, "signed \"\(counter.signature)\"") : (false, "the counter-notice is not signed")
        case "C-B": return filled(counter.material) ? (true, "material identified") : (false, "say which material was removed and where it appeared")
        case "C-C":
            return counter.mistakeUnderPenaltyOfPerjury ? (true, "mistake or misidentification stated under penalty of perjury")
                : (false, "no statement under penalty of perjury that the removal was a mistake or misidentification")
        case "C-D":
            var missing: [String] = []
            if !filled(counter.name) { missing.append("name") }
            if !filled(counter.address) { missing.append("address") }
            if !filled(counter.phone) { missing.append("telephone number") }
            if !counter.consentsToJurisdiction { missing.append("consent to the federal district court's jurisdiction") }
            if !counter.acceptsService { missing.append("acceptance of service of process") }
            return missing.isEmpty ? (true, "contact, consent to jurisdiction and acceptance of service given") : (false, "missing: " + missing.joined(separator: ", "))
        default:
            return (false, "unknown element \(id) in the rulebook")
        }
    }
}
