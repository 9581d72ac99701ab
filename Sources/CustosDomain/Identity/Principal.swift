import Foundation

/// Who a person is to Custos: provider staff, a user of a requesting agency, or a user of a customer.
public enum PrincipalKind: String, Codable, CaseIterable, Sendable {
    case staff
    case agency
    case customer
}

/// An authenticated person. Agency and customer users are confined to their own agency or tenant.
public struct Principal: Codable, Equatable, Hashable, Sendable, Identifiable {
    public var id: UUID
    public var email: String
    public var displayName: String
    public var kind: PrincipalKind
    public var roles: Set<StaffRole>
    public var agencyID: UUID?
    public var tenantID: UUID?

    public init(
        id: UUID, email: String, displayName: String, kind: PrincipalKind,
        roles: Set<StaffRole> = [], agencyID: UUID? = nil, tenantID: UUID? = nil
    ) {
        self.id = id
        self.email = email
        self.displayName = displayName
        self.kind = kind
        self.roles = kind == .staff ? roles : []
        self.agencyID = agencyID
        self.tenantID = tenantID
    }

    public func has(_ role: StaffRole) -> Bool { kind == .staff && roles.contains(role) }

    public var actor: Actor { .person(self) }
}

/// Whoever sends a workflow event: a person, or Custos itself (jobs, automatic steps).
public enum Actor: Equatable, Sendable {
    case person(Principal)
    case system

    /// Stable text for audit entries: `staff:alice@provider.example`, `agency:…`, `system`.
    public var auditName: String {
        switch self {
        case .person(let principal): "\(principal.kind.rawValue):\(principal.email)"
        case .system: "system"
        }
    }

    public var principal: Principal? {
        if case .person(let principal) = self { return principal }
        return nil
    }
}
