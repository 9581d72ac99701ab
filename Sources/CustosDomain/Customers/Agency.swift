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

/// A requesting body (police force, prosecutor's office, court, …) whose users may submit demands.
public struct Agency: Codable, Equatable, Hashable, Sendable, Identifiable {
    public var id: UUID
    public var name: String
    public var country: String
    public var kind: AgencyKind

    public init(id: UUID, name: String, country: String, kind: AgencyKind) {
        self.id = id
        self.name = name
        self.country = country
        self.kind = kind
    }
}
