import Foundation

/// A warning sign about who sent a demand, shown on the case and counted in the report (issue 8).
/// The signs are the ones forged emergency requests showed (legal-rules.md §6.2–6.3 E3, E5; FBI PIN
/// of 4 Nov 2024). A flag never decides anything by itself; it tells staff where to look.
public struct RedFlag: Codable, Equatable, Hashable, Sendable {
    public enum Code: String, Codable, CaseIterable, Sendable {
        /// The requester writes from a free-mail provider, never an agency's own domain.
        case freeMailDomain = "free_mail_domain"
        /// The sender's domain imitates a directory domain (a few edits away, or the same once
        /// look-alike characters are folded: `fbi-gov.com`, `po1izei.de`, Cyrillic `а`).
        case lookalikeDomain = "lookalike_domain"
        /// The sender's domain is not one of the requesting agency's directory domains.
        case domainNotInDirectory = "domain_not_in_directory"
        /// Replies would go to another address than the sender's.
        case replyToMismatch = "reply_to_mismatch"
        /// An emergency without the facts § 2702(b)(8) / (c)(4) needs (E4): no statement, or too thin.
        case urgencyWithoutSpecifics = "urgency_without_specifics"
        /// The instrument's jurisdiction is not the agency's country.
        case outsideJurisdiction = "outside_jurisdiction"
        /// The requester's account is new.
        case newRequester = "new_requester"
        /// The requester's password or second factor was reset recently (a taken-over account).
        case recentCredentialReset = "recent_credential_reset"
        /// Staff have not verified the requester yet (standing `unverified`).
        case unverifiedRequester = "unverified_requester"
        /// The sender's address or domain is on a blocklist: this installation's or a feed from
        /// another (`BlocklistFeed`).
        case blocklistedSender = "blocklisted_sender"

        public var label: String {
            switch self {
            case .freeMailDomain: "Free-mail sender"
            case .lookalikeDomain: "Look-alike domain"
            case .domainNotInDirectory: "Domain not in the agency directory"
            case .replyToMismatch: "Reply-to differs from sender"
            case .urgencyWithoutSpecifics: "Urgency without specifics"
            case .outsideJurisdiction: "Outside the agency's jurisdiction"
            case .newRequester: "Newly registered requester"
            case .recentCredentialReset: "Recent password or second-factor reset"
            case .unverifiedRequester: "Requester not verified"
            case .blocklistedSender: "Sender on a blocklist"
            }
        }
    }

    public var code: Code
    public var detail: String

    public init(_ code: Code, _ detail: String) {
        self.code = code
        self.detail = detail
    }
}

/// What is known about the requester when a demand arrives.
public struct RequesterContext: Sendable {
    /// The address the demand came from (the portal account's e-mail, or the mail's sender).
    public var senderEmail: String
    /// A Reply-To address, when the demand came by mail with one.
    public var replyTo: String?
    public var agency: Agency
    /// Every agency domain in the directory, to recognise imitations of any of them.
    public var directoryDomains: DomainDirectory
    public var registeredAt: Date
    public var lastCredentialResetAt: Date?
    public var standing: RequesterStanding
    /// Compromised addresses and domains: this installation's and those other installations share.
    public var blocklist: [BlocklistEntry]

    public init(
        senderEmail: String, replyTo: String? = nil, agency: Agency, directoryDomains: DomainDirectory, registeredAt: Date,
        lastCredentialResetAt: Date? = nil, standing: RequesterStanding = .active, blocklist: [BlocklistEntry] = []
    ) {
        self.standing = standing
        self.blocklist = blocklist
        self.senderEmail = senderEmail
        self.replyTo = replyTo
        self.agency = agency
        self.directoryDomains = directoryDomains
        self.registeredAt = registeredAt
        self.lastCredentialResetAt = lastCredentialResetAt
    }
}

public enum RedFlags {
    /// A requester registered less than this long ago is new.
    public static let newRequesterAge: TimeInterval = 30 * 86_400
    /// A password or second-factor reset less than this long ago is recent.
    public static let recentResetAge: TimeInterval = 14 * 86_400
    /// An emergency statement shorter than this many words cannot carry the facts E4 asks for.
    public static let minimumStatementWords = 12

    /// Free-mail providers: no agency writes from them (legal-rules.md §6.3 E5).
    public static let freeMailDomains: Set<String> = [
        "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com", "msn.com", "yahoo.com", "ymail.com", "aol.com", "icloud.com",
        "me.com", "proton.me", "protonmail.com", "gmx.de", "gmx.net", "gmx.com", "web.de", "t-online.de", "mail.ru", "yandex.ru", "yandex.com",
        "zoho.com", "tutanota.com", "tuta.io", "mail.com", "qq.com", "163.com", "orange.fr", "laposte.net", "libero.it", "uol.com.br",
        "bol.com.br", "rediffmail.com",
    ]

    /// Boilerplate that forged emergency requests lean on instead of facts (FBI PIN, 4 Nov 2024).
    static let pressurePhrases = ["loss of life", "failure to comply", "immediately", "urgent", "life-threatening", "without delay"]

    public static func assess(_ demand: Demand, statement: String?, requester: RequesterContext, at time: Date) -> [RedFlag] {
        var flags: [RedFlag] = []
        let domain = Self.domain(of: requester.senderEmail)
        let agencyDomains = Set(requester.agency.domains.map { $0.lowercased() })
        if freeMailDomains.contains(domain) {
            flags.append(RedFlag(.freeMailDomain, "\(domain) is a free-mail provider"))
        } else if let imitated = requester.directoryDomains.imitated(by: domain) {
            flags.append(RedFlag(.lookalikeDomain, "\(domain) imitates \(imitated)"))
        }
        if !agencyDomains.isEmpty && !agencyDomains.contains(where: { domain == $0 || domain.hasSuffix("." + $0) }) {
            flags.append(RedFlag(.domainNotInDirectory, "\(domain) is not among \(requester.agency.name)'s domains (\(agencyDomains.sorted().joined(separator: ", ")))"))
        }
        if let replyTo = requester.replyTo, replyTo.lowercased() != requester.senderEmail.lowercased() {
            flags.append(RedFlag(.replyToMismatch, "replies would go to \(replyTo), not \(requester.senderEmail)"))
        }
        if demand.isEmergency {
            let words = (statement ?? "").split(whereSeparator: { $0.isWhitespace || $0.isPunctuation }).count
            let lower = (statement ?? "").lowercased()
            if words < minimumStatementWords {
                flags.append(RedFlag(.urgencyWithoutSpecifics, words == 0 ? "an emergency with no statement of the threat" : "an emergency statement of \(words) words"))
            } else if pressurePhrases.filter({ lower.contains($0) }).count >= 2 && !lower.contains(where: \.isNumber) {
                flags.append(RedFlag(.urgencyWithoutSpecifics, "pressure phrases without a date, time, place or number"))
            }
        }
        if demand.jurisdiction.country.uppercased() != requester.agency.country.uppercased() {
            flags.append(RedFlag(.outsideJurisdiction, "a \(demand.jurisdiction.country.uppercased()) instrument from an agency in \(requester.agency.country.uppercased())"))
        }
        if time.timeIntervalSince(requester.registeredAt) < newRequesterAge {
            flags.append(RedFlag(.newRequester, "registered \(Timestamp.formatDay(requester.registeredAt))"))
        }
        if let listed = BlocklistFeed.match(requester.senderEmail, in: requester.blocklist) {
            flags.append(RedFlag(.blocklistedSender, "the \(listed.kind.rawValue) \(listed.value) is on a blocklist"))
        }
        if let replyTo = requester.replyTo, let listed = BlocklistFeed.match(replyTo, in: requester.blocklist) {
            flags.append(RedFlag(.blocklistedSender, "the reply-to \(listed.kind.rawValue) \(listed.value) is on a blocklist"))
        }
        if requester.standing == .unverified {
            flags.append(RedFlag(.unverifiedRequester, "staff have not verified this requester yet"))
        }
        if let reset = requester.lastCredentialResetAt, time.timeIntervalSince(reset) < recentResetAge {
            flags.append(RedFlag(.recentCredentialReset, "reset \(Timestamp.formatDay(reset))"))
        }
        return flags
    }

    static func domain(of email: String) -> String {
        String(email.lowercased().split(separator: "@").last ?? "")
    }

    /// The directory domain `domain` imitates, if any (see `DomainDirectory.imitated(by:)`).
    public static func imitatedDomain(_ domain: String, among directory: Set<String>) -> String? {
        DomainDirectory(directory).imitated(by: domain)
    }

    /// Folds characters that look alike (Unicode's confusables idea, UTS #39, for the cases seen in
    /// phishing domains; written by hand because no package here carries the confusables table):
    /// Cyrillic and Greek look-alikes to Latin, digits to letters, `rn` to `m`, `vv` to `w`.
    public static func skeleton(_ text: String) -> String {
        var folded = String(text.lowercased().map { lookAlikes[$0] ?? $0 })
        folded = folded.replacingOccurrences(of: "rn", with: "m").replacingOccurrences(of: "vv", with: "w")
        return folded
    }

    static let lookAlikes: [Character: Character] = [
        "а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "у": "y", "х": "x", "і": "i", "ј": "j", "ѕ": "s", "һ": "h", "ԁ": "d", "ɡ": "g",
        "ο": "o", "α": "a", "ε": "e", "ι": "i", "κ": "k", "ν": "v", "τ": "t", "ρ": "p",
        "0": "o", "1": "l", "3": "e", "5": "s", "7": "t", "|": "l", "i": "l",
    ]

    /// Levenshtein distance, stopping early once it exceeds `limit`.
    static func editDistance(_ a: String, _ b: String, limit: Int) -> Int {
        editDistance(Array(a), Array(b), limit: limit)
    }

    static func editDistance(_ a: [Character], _ b: [Character], limit: Int) -> Int {
        if abs(a.count - b.count) > limit { return limit + 1 }
        var previous = Array(0...b.count)
        for i in 1...max(a.count, 1) where !a.isEmpty {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...max(b.count, 1) where !b.isEmpty {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            if current.min()! > limit { return limit + 1 }
            previous = current
        }
        return previous[b.count]
    }
}
