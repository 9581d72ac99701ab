import Foundation

/// Who may register in the agency portal by themselves (issue 8): only a person with an address on
/// one of the agency's official directory domains, and only after confirming that address; staff
/// then approve the registration (its standing starts `pending`). Forged requests come from look-
/// alike and free-mail domains (legal-rules.md §6.2), so those never get an account this way.
public enum AgencyRegistration {
    /// How long the confirmation link in the e-mail works.
    public static let confirmationLifetime: TimeInterval = 48 * 3600

    /// Why `email` may not register as a requester of `agency`, or nil when it may.
    public static func refusal(email: String, for agency: Agency) -> String? {
        let parts = email.lowercased().split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[1].contains("."), !parts[1].hasPrefix("."), !parts[1].hasSuffix("."),
            email.allSatisfy({ $0.isASCII && !$0.isWhitespace })
        else { return "\(email) is not an e-mail address" }
        let domain = String(parts[1])
        let official = agency.domains.map { $0.lowercased() }
        guard !official.isEmpty else {
            return "the directory lists no official domain for \(agency.name) yet, so nobody can register for it; ask the provider's legal team"
        }
        if RedFlags.freeMailDomains.contains(domain) { return "\(domain) is a free-mail provider; register with your address on \(official.joined(separator: " or "))" }
        guard official.contains(where: { domain == $0 || domain.hasSuffix("." + $0) }) else {
            return "\(domain) is not an official domain of \(agency.name); register with your address on \(official.joined(separator: " or "))"
        }
        return nil
    }

    /// Why a self-registered requester may not be given `standing` yet: one whose address is not
    /// confirmed can be suspended or blocklisted, never approved (`active`, `unverified`).
    public static func approvalRefusal(_ standing: RequesterStanding, addressConfirmed: Bool) -> String? {
        guard !addressConfirmed, [.active, .unverified].contains(standing) else { return nil }
        return "the requester has not confirmed the address yet; a registration is approved only after that"
    }
}
