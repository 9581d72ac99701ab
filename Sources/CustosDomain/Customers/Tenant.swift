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

/// Where a tenant's own systems receive its customer notices (C5), signed per Standard Webhooks
/// with the tenant's secret. Set by the provider's admin, never by tenant users.
public struct TenantWebhook: Equatable, Sendable {
    public var tenantID: UUID
    public var url: String
    public var secret: String
    public var createdAt: Date

    public init(tenantID: UUID, url: String, secret: String, createdAt: Date) {
        self.tenantID = tenantID
        self.url = url
        self.secret = secret
        self.createdAt = createdAt
    }

    /// Why `url` cannot receive notices, or nil when it can: an absolute `https` URL, or `http`
    /// to this machine only (a relay or a test receiver), so notices never cross a network in clear.
    public static func problem(with url: String) -> String? {
        guard let parts = URLComponents(string: url), let scheme = parts.scheme?.lowercased(), let host = parts.host, !host.isEmpty else {
            return "must be an absolute URL such as https://hooks.customer.example/custos"
        }
        if parts.user != nil || parts.password != nil { return "must not carry credentials; the signature authenticates Custos" }
        switch scheme {
        case "https": return nil
        case "http" where ["localhost", "127.0.0.1", "::1", "[::1]"].contains(host.lowercased()): return nil
        case "http": return "must use https (http is accepted for localhost only)"
        default: return "must use https"
        }
    }
}
