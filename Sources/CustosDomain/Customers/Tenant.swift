import Foundation

/// Enterprise tenants can answer for themselves, so C4 requires redirecting the requester to them
/// first; consumer tenants cannot be redirected to.
public enum TenantKind: String, Codable, CaseIterable, Sendable {
    case enterprise
    case consumer
}

/// A customer of the provider.
public struct Tenant: Codable, Equatable, Hashable, Sendable, Identifiable {
    public var id: UUID
    public var name: String
    public var kind: TenantKind
    /// Country of nationality or incorporation.
    public var country: String?
    /// Country of residence, when it differs from `country`.
    public var residence: String?
    /// Where the tenant's data is stored (GDPR Art. 48 and CLOUD Act checks look at it).
    public var dataLocation: String?

    public init(id: UUID, name: String, kind: TenantKind, country: String? = nil, residence: String? = nil, dataLocation: String? = nil) {
        self.id = id
        self.name = name
        self.kind = kind
        self.country = country
        self.residence = residence
        self.dataLocation = dataLocation
    }
}

/// One account of a tenant, the thing a demand's targets usually name.
public struct CustomerAccount: Codable, Equatable, Hashable, Sendable, Identifiable {
    public var id: UUID
    public var tenantID: UUID
    public var accountID: String
    public var email: String?
    public var username: String?
    public var serviceID: UUID?

    public init(id: UUID, tenantID: UUID, accountID: String, email: String? = nil, username: String? = nil, serviceID: UUID? = nil) {
        self.id = id
        self.tenantID = tenantID
        self.accountID = accountID
        self.email = email
        self.username = username
        self.serviceID = serviceID
    }
}

/// Someone at the tenant who receives notices (C5) and redirected requests (C4).
public struct CustomerContact: Codable, Equatable, Hashable, Sendable, Identifiable {
    public var id: UUID
    public var tenantID: UUID
    public var name: String
    public var email: String

    public init(id: UUID, tenantID: UUID, name: String, email: String) {
        self.id = id
        self.tenantID = tenantID
        self.name = name
        self.email = email
    }
}

/// A product the tenant uses. An `isUnlinked` service keeps data that is not tied to a customer
/// identity, so no customer notice is possible for it (C5's stated exception).
public struct CustomerService: Codable, Equatable, Hashable, Sendable, Identifiable {
    public var id: UUID
    public var tenantID: UUID
    public var name: String
    public var isUnlinked: Bool

    public init(id: UUID, tenantID: UUID, name: String, isUnlinked: Bool) {
        self.id = id
        self.tenantID = tenantID
        self.name = name
        self.isUnlinked = isUnlinked
    }
}

/// What a case needs to know about the customer whose data is demanded.
public struct CustomerLink: Codable, Equatable, Hashable, Sendable {
    public var tenantID: UUID
    public var tenantName: String
    public var kind: TenantKind
    /// True when every matched account sits on an unlinked service: no notice can be sent.
    public var isUnlinkedService: Bool
    public var country: String?
    public var residence: String?
    public var dataLocation: String?

    public init(
        tenantID: UUID, tenantName: String, kind: TenantKind, isUnlinkedService: Bool, country: String? = nil,
        residence: String? = nil, dataLocation: String? = nil
    ) {
        self.tenantID = tenantID
        self.tenantName = tenantName
        self.kind = kind
        self.isUnlinkedService = isUnlinkedService
        self.country = country
        self.residence = residence
        self.dataLocation = dataLocation
    }
}
