import Foundation

/// The agency directory's e-mail domains, prepared once for the look-alike check of every demand
/// (issue 8's `lookalike_domain` flag). A real directory holds thousands of agencies; folding each
/// domain to its skeleton and flattening it on every intake cost about a quarter of a second per
/// demand at 5 000 agencies, so this keeps the folded forms and `CustosServices` keeps one instance
/// until the directory changes.
public struct DomainDirectory: Sendable, Equatable, ExpressibleByArrayLiteral {
    struct Entry: Sendable, Equatable {
        /// The directory's spelling, lower-cased: what the flag names.
        var domain: String
        var skeleton: String
        var skeletonCharacters: [Character]
        /// The skeleton without its dots: `fbi.gov` → `fbigov`, found inside `fbi-gov.com`.
        var flattened: String
    }

    /// Sorted by the directory's spelling, so the first match is the same on every run.
    let entries: [Entry]
    /// Every domain, lower-cased: a sender at one of them, or below one, imitates nothing.
    let exact: Set<String>
    /// The domains as given, to tell whether the directory changed.
    public let source: [String]

    public init(_ domains: some Sequence<String>) {
        source = Array(domains)
        let sorted = Set(source).sorted()
        entries = sorted.map { domain in
            let lower = domain.lowercased()
            let skeleton = RedFlags.skeleton(lower)
            return Entry(domain: lower, skeleton: skeleton, skeletonCharacters: Array(skeleton), flattened: skeleton.replacingOccurrences(of: ".", with: ""))
        }
        exact = Set(sorted.map { $0.lowercased() })
    }

    public init(arrayLiteral domains: String...) { self.init(domains) }

    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.source == rhs.source }

    /// The directory domain `domain` imitates, if any: not the domain itself or one of its
    /// subdomains, but equal once look-alike characters are folded, or at most two edits away
    /// (on the folded form, for directory domains of six characters or more), or the directory
    /// domain with its dots dropped inside another name (`fbi.gov` → `fbi-gov.com`, `fbigov.net`).
    public func imitated(by domain: String) -> String? {
        // `domain` or any domain it sits below (every suffix after a dot) in the directory: genuine.
        var suffix = Substring(domain)
        while true {
            if exact.contains(String(suffix)) { return nil }
            guard let dot = suffix.firstIndex(of: ".") else { break }
            suffix = suffix[suffix.index(after: dot)...]
        }
        let folded = RedFlags.skeleton(domain)
        let foldedCharacters = Array(folded)
        let foldedFlat = folded.replacingOccurrences(of: "-", with: "").replacingOccurrences(of: ".", with: "")
        for entry in entries {
            if folded == entry.skeleton { return entry.domain }
            if entry.domain.count >= 6, abs(foldedCharacters.count - entry.skeletonCharacters.count) <= 2,
                RedFlags.editDistance(foldedCharacters, entry.skeletonCharacters, limit: 2) <= 2
            {
                return entry.domain
            }
            if entry.flattened.count >= 5 && foldedFlat.contains(entry.flattened) { return entry.domain }
        }
        return nil
    }
}
