import Foundation

/// The kind of body that sends demands; it decides which portal features and rules apply.
public enum AgencyKind: String, Codable, CaseIterable, Sendable {
    case lawEnforcement = "law_enforcement"
    case court
    case prosecutor
    case nationalSecurity = "national_security"
    case regulator
    case civilParty = "civil_party"
    case rightsHolder = "rights_holder"
}

/// A telephone number for an agency found independently of any request (its official website, a
/// government directory): the only numbers a verification callback may use (legal-rules.md §6.3 E2).
public struct AgencyPhone: Codable, Equatable, Hashable, Sendable, Identifiable {
    public var id: UUID
    public var number: String
    /// What the number reaches: "main switchboard", "duty officer".
    public var label: String
    /// Where the number was found, so a reviewer can check it again: a URL or a document.
    public var source: String

    public init(id: UUID, number: String, label: String, source: String) {
        self.id = id
        self.number = number
        self.label = label
        self.source = source
    }
}

/// A requesting body (police force, prosecutor's office, court, …) whose users may submit demands.
/// Its directory entry (official domains, independently sourced numbers) is what requesters and
/// callbacks are checked against (issue 8).
public struct Agency: Codable, Equatable, Hashable, Sendable, Identifiable {
    public var id: UUID
    public var name: String
    public var country: String
    public var kind: AgencyKind
    /// The agency's official e-mail domains, lower-case (`fbi.gov`, `polizei.bwl.de`).
    public var domains: [String]
    public var phones: [AgencyPhone]

    public init(id: UUID, name: String, country: String, kind: AgencyKind, domains: [String] = [], phones: [AgencyPhone] = []) {
        self.id = id
        self.name = name
        self.country = country
        self.kind = kind
        self.domains = domains
        self.phones = phones
    }
}
