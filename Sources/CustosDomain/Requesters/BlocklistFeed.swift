import Crypto
import Foundation

/// A compromised requester address or domain, shared between Custos installations without a
/// central vendor (issue 8; legal-rules.md §6.3 E10: feed confirmed fraud back and block it).
public struct BlocklistEntry: Codable, Equatable, Hashable, Sendable {
    public enum Kind: String, Codable, CaseIterable, Sendable {
        case address
        case domain
    }

    public var kind: Kind
    /// The lower-case address or domain, or its SHA-256 in hex when `isHashed`.
    public var value: String
    public var isHashed: Bool

    public init(kind: Kind, value: String, isHashed: Bool = false) {
        self.kind = kind
        self.value = isHashed ? value.lowercased() : value.lowercased().trimmingCharacters(in: .whitespaces)
        self.isHashed = isHashed
    }

    /// The same entry as a hash: receivers can match a sender against it without learning the list.
    public var hashed: BlocklistEntry {
        isHashed ? self : BlocklistEntry(kind: kind, value: BlocklistFeed.hash(value), isHashed: true)
    }
}

/// The feed is a C2SP signed note (c2sp.org/signed-note) signed with the installation's blocklist
/// key, so a receiver that holds the sender's verifier key knows who vouches for every line:
///
///     custos-blocklist/v1
///     origin custos.example.org/transparency/blocklist
///     issued 2026-11-29T19:00:00Z
///     address forger@agency-example.com          (or: address-sha256 <hex>)
///     domain fbi-gov.com                         (or: domain-sha256 <hex>)
///
/// Entries are sorted and unique, so the same list always gives the same text.
public enum BlocklistFeed {
    public static let header = "custos-blocklist/v1"

    public static func hash(_ value: String) -> String {
        Hex.encode(SHA256.hash(data: Data(value.lowercased().utf8)))
    }

    public static func noteText(origin: String, issuedAt: Date, entries: some Sequence<BlocklistEntry>, hashed: Bool) -> String {
        let lines = Set(entries.map { hashed ? $0.hashed : $0 }).map { entry in
            "\(entry.kind.rawValue)\(entry.isHashed ? "-sha256" : "") \(entry.value)"
        }.sorted()
        return ([header, "origin \(origin)", "issued \(Timestamp.format(issuedAt))"] + lines).joined(separator: "\n") + "\n"
    }

    public struct ParseError: Error, Equatable, CustomStringConvertible {
        public var description: String
    }

    /// The feed's origin, issue time and entries; strict, so a feed that is not exactly in the
    /// format is refused rather than half read.
    public static func parse(_ text: String) throws(ParseError) -> (origin: String, issuedAt: Date, entries: [BlocklistEntry]) {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard lines.last == "" else { throw ParseError(description: "the feed does not end with a newline") }
        lines.removeLast()
        guard lines.count >= 3, lines[0] == header, lines[1].hasPrefix("origin "), lines[2].hasPrefix("issued "),
            let issued = Timestamp.parse(String(lines[2].dropFirst("issued ".count)))
        else { throw ParseError(description: "not a \(header) feed (header, origin and issued lines first)") }
        var entries: [BlocklistEntry] = []
        for (index, line) in lines.dropFirst(3).enumerated() {
            let parts = line.split(separator: " ", omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[1].isEmpty else { throw ParseError(description: "line \(index + 4) is not \"kind value\"") }
            let kindText = parts[0].hasSuffix("-sha256") ? parts[0].dropLast("-sha256".count) : parts[0]
            guard let kind = BlocklistEntry.Kind(rawValue: String(kindText)) else {
                throw ParseError(description: "line \(index + 4): unknown kind \(parts[0])")
            }
            let isHashed = parts[0].hasSuffix("-sha256")
            let value = String(parts[1])
            if isHashed {
                guard value.count == 64, value.allSatisfy(\.isHexDigit), value == value.lowercased() else {
                    throw ParseError(description: "line \(index + 4): not a SHA-256 in lower-case hex")
                }
            } else if value != value.lowercased() || (kind == .address) != value.contains("@") {
                throw ParseError(description: "line \(index + 4): \(kind.rawValue) \"\(value)\" is not a lower-case \(kind.rawValue)")
            }
            entries.append(BlocklistEntry(kind: kind, value: value, isHashed: isHashed))
        }
        return (String(lines[1].dropFirst("origin ".count)), issued, entries)
    }

    /// The entry an e-mail address matches: the address itself, its domain, or a parent domain
    /// (a blocked `example-gov.com` also blocks `mail.example-gov.com`), plain or hashed.
    public static func match(_ email: String, in entries: some Sequence<BlocklistEntry>) -> BlocklistEntry? {
        let listed = Set(entries)
        return plainCandidates(for: email).first { listed.contains($0) || listed.contains($0.hashed) }
    }

    /// Every entry that would block `email`, plain and hashed: the only ones a store needs to look
    /// up for it (`match` over them gives the same answer as over the whole list).
    public static func candidates(for email: String) -> [BlocklistEntry] {
        plainCandidates(for: email).flatMap { [$0, $0.hashed] }
    }

    /// The address, its domain and every parent domain with at least two labels.
    static func plainCandidates(for email: String) -> [BlocklistEntry] {
        let address = email.lowercased()
        let labels = address.split(separator: "@").last.map { $0.split(separator: ".").map(String.init) } ?? []
        var candidates = [BlocklistEntry(kind: .address, value: address)]
        for start in 0..<max(0, labels.count - 1) {
            candidates.append(BlocklistEntry(kind: .domain, value: labels[start...].joined(separator: ".")))
        }
        return candidates
    }
}
