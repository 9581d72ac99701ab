import CustosDomain
import FluentKit
import Foundation
import SQLKit
import Synchronization

/// Agencies, tenants, their accounts and services; resolves a demand's targets to a customer.
public struct SQLDirectoryRepository: DirectoryRepository {
    let store: CustosDatabase
    /// The directory's domains as last read, prepared for the look-alike check, with the
    /// directory's version they were read at (`domainDirectory()`).
    private let preparedDomains = PreparedDomains()

    final class PreparedDomains: Sendable {
        let last = Mutex<(version: Int, directory: DomainDirectory)?>(nil)
    }

    /// The counter every write to the agency directory bumps in its own transaction.
    static let directoryVersionCounter = "agency_directory"

    public init(store: CustosDatabase) { self.store = store }

    /// Every agency's e-mail domains, prepared for the look-alike check of an incoming demand.
    /// Every intake asks and a directory may hold thousands of agencies, so the prepared form is
    /// kept while the directory's version counter stays the same (one row read); a write through
    /// `createAgency` or `updateAgency`, from this process or another (a CLI import), bumps it.
    public func domainDirectory() async throws -> DomainDirectory {
        let version = try await store.sql.raw("SELECT value FROM counters WHERE name = \(bind: Self.directoryVersionCounter)").first()?
            .decode(column: "value", as: Int.self) ?? 0
        if let last = preparedDomains.last.withLock({ $0 }), last.version == version { return last.directory }
        let rows = try await store.sql.raw("SELECT domains FROM \(ident: AgencyRow.schema) ORDER BY id").all()
        var domains: [String] = []
        for row in rows {
            domains += try row.decode(column: "domains", as: String.self).split(separator: " ").map(String.init)
        }
        let prepared = DomainDirectory(domains)
        preparedDomains.last.withLock { $0 = (version, prepared) }
        return prepared
    }

    /// Marks the directory changed, inside the writer's transaction.
    static func bumpDirectoryVersion(on database: any Database, isPostgres: Bool) async throws {
        let counter = try await Counters.lock(directoryVersionCounter, on: database, isPostgres: isPostgres)
        counter.value += 1
        try await counter.update(on: database)
    }

    public func agencies() async throws -> [Agency] {
        try await AgencyRow.query(on: store.database).sort(\.$name).all().map { try $0.domain() }
    }

    public func tenants() async throws -> [Tenant] {
        try await TenantRow.query(on: store.database).sort(\.$name).all().map { try $0.domain() }
    }

    public func findAgency(id: UUID) async throws -> Agency? {
        try await ModelStatements.find(AgencyRow.self, id: id, on: store.database)?.domain()
    }

    public func findAgency(named name: String) async throws -> Agency? {
        try await AgencyRow.query(on: store.database).filter(\.$name == name).first()?.domain()
    }

    /// A tenant's designated legal and notice contacts.
    public func contacts(tenantID: UUID) async throws -> [CustomerContact] {
        try await ContactRow.query(on: store.database).filter(\.$tenantID == tenantID).sort(\.$name).all().map { row in
            CustomerContact(id: row.id!, tenantID: row.tenantID, name: row.name, email: row.email)
        }
    }

    /// The tenant's own notice endpoint, if the provider set one.
    public func webhook(tenantID: UUID) async throws -> TenantWebhook? {
        try await TenantWebhookRow.query(on: store.database).filter(\.$tenantID == tenantID).first().map {
            TenantWebhook(tenantID: $0.tenantID, url: $0.url, secret: $0.secret, createdAt: $0.createdAt)
        }
    }

    /// Whether any tenant has its own endpoint (the notice runner then works even without a global channel).
    public func hasTenantWebhooks() async throws -> Bool {
        try await TenantWebhookRow.query(on: store.database).first() != nil
    }

    /// Sets (or replaces) the tenant's notice endpoint, audited in the same transaction: where a
    /// customer's notices go is a fact the record must show.
    public func setWebhook(_ webhook: TenantWebhook, by actor: String) async throws {
        let isPostgres = store.location.isPostgres
        try await store.database.transaction { tx in
            let existing = try await TenantWebhookRow.query(on: tx).filter(\.$tenantID == webhook.tenantID).first()
            let row = existing ?? TenantWebhookRow()
            if existing == nil { row.id = UUID() }
            row.tenantID = webhook.tenantID
            row.url = webhook.url
            row.secret = webhook.secret
            row.createdAt = webhook.createdAt
            try await row.save(on: tx)
            try await AuditWriter.append([AuditRecord(
                caseID: nil, subject: "tenant:\(webhook.tenantID.uuidString.lowercased())", action: "tenant.webhook_set", actor: actor,
                at: webhook.createdAt, details: ["url": webhook.url, "replaced": existing?.url ?? ""])], on: tx, isPostgres: isPostgres)
        }
    }

    /// Removes the tenant's notice endpoint; false when it had none.
    @discardableResult
    public func removeWebhook(tenantID: UUID, at time: Date, by actor: String) async throws -> Bool {
        let isPostgres = store.location.isPostgres
        return try await store.database.transaction { tx in
            guard let row = try await TenantWebhookRow.query(on: tx).filter(\.$tenantID == tenantID).first() else { return false }
            try await row.delete(on: tx)
            try await AuditWriter.append([AuditRecord(
                caseID: nil, subject: "tenant:\(tenantID.uuidString.lowercased())", action: "tenant.webhook_removed", actor: actor,
                at: time, details: ["url": row.url])], on: tx, isPostgres: isPostgres)
            return true
        }
    }

    public func findTenant(named name: String) async throws -> Tenant? {
        try await TenantRow.query(on: store.database).filter(\.$name == name).first()?.domain()
    }

    /// The provider's account ids that the demand's targets name (C6: only these are collected).
    /// A target naming a tenant names all of its accounts; phone numbers, IP addresses and free
    /// text name no account by themselves.
    public func accountIDs(for targets: [Target]) async throws -> [String] {
        let db = store.database
        var ids: Set<String> = []
        for target in targets {
            switch target.type {
            case .accountID:
                if let row = try await AccountRow.query(on: db).filter(\.$accountID == target.value).first() { ids.insert(row.accountID) }
            case .email:
                for row in try await AccountRow.query(on: db).filter(\.$email == target.value.lowercased()).all() { ids.insert(row.accountID) }
            case .username:
                for row in try await AccountRow.query(on: db).filter(\.$username == target.value).all() { ids.insert(row.accountID) }
            case .tenantID:
                var tenantID = UUID(uuidString: target.value)
                if tenantID == nil { tenantID = try await TenantRow.query(on: db).filter(\.$name == target.value).first()?.id }
                if let tenantID {
                    for row in try await AccountRow.query(on: db).filter(\.$tenantID == tenantID).all() { ids.insert(row.accountID) }
                }
            case .phone, .ipAddress, .other:
                continue
            }
        }
        return ids.sorted()
    }

    public func resolveCustomer(for targets: [Target]) async throws -> CustomerLink? {
        let db = store.database
        for target in targets {
            var tenantID: UUID?
            var account: AccountRow?
            switch target.type {
            // Plain statements (`ModelStatements`): every demand resolves its customer.
            case .tenantID:
                if let id = UUID(uuidString: target.value), try await ModelStatements.find(TenantRow.self, id: id, on: db) != nil {
                    tenantID = id
                } else {
                    tenantID = try await ModelStatements.first(TenantRow.self, where: [(TenantRow.column(\.$name), .text(target.value))], on: db)?.id
                }
            case .accountID:
                account = try await ModelStatements.first(AccountRow.self, where: [(AccountRow.column(\.$accountID), .text(target.value))], on: db)
            case .email:
                account = try await ModelStatements.first(
                    AccountRow.self, where: [(AccountRow.column(\.$email), .text(target.value.lowercased()))], on: db)
            case .username:
                account = try await ModelStatements.first(AccountRow.self, where: [(AccountRow.column(\.$username), .text(target.value))], on: db)
            case .phone, .ipAddress, .other:
                continue
            }
            if let account { tenantID = account.tenantID }
            guard let tenantID, let tenant = try await ModelStatements.find(TenantRow.self, id: tenantID, on: db)?.domain() else { continue }
            var isUnlinked = false
            if let serviceID = account?.serviceID, let service = try await ModelStatements.find(ServiceRow.self, id: serviceID, on: db) {
                isUnlinked = service.isUnlinked
            }
            return CustomerLink(
                tenantID: tenant.id, tenantName: tenant.name, kind: tenant.kind, isUnlinkedService: isUnlinked,
                country: tenant.country, residence: tenant.residence, dataLocation: tenant.dataLocation)
        }
        return nil
    }

    // MARK: Writes used by the CLI and the demo set

    public func createAgency(_ agency: Agency) async throws {
        let isPostgres = store.location.isPostgres
        try await store.database.transaction { tx in
            let row = AgencyRow()
            row.id = agency.id
            try row.copy(from: agency)
            try await row.create(on: tx)
            try await Self.bumpDirectoryVersion(on: tx, isPostgres: isPostgres)
        }
    }

    /// Replaces an agency's directory entry (domains and numbers) with an audit entry naming the
    /// change, in one transaction (issue 8).
    public func updateAgency(_ agency: Agency, by actor: String, at time: Date) async throws {
        let isPostgres = store.location.isPostgres
        try await store.database.transaction { tx in
            guard let row = try await AgencyRow.find(agency.id, on: tx) else { throw StorageError.notFound("agency \(agency.id)") }
            let before = try row.domain()
            try row.copy(from: agency)
            try await row.update(on: tx)
            try await Self.bumpDirectoryVersion(on: tx, isPostgres: isPostgres)
            try await AuditWriter.append([AuditRecord(
                caseID: nil, subject: "agency:\(agency.id.uuidString.lowercased())", action: "agency.directory_updated", actor: actor, at: time,
                details: [
                    "domains": agency.domains.joined(separator: " "), "previousDomains": before.domains.joined(separator: " "),
                    "phones": agency.phones.map { "\($0.number) (\($0.source))" }.joined(separator: "; "),
                    "previousPhones": before.phones.map { "\($0.number) (\($0.source))" }.joined(separator: "; "),
                ])], on: tx, isPostgres: isPostgres)
        }
    }

    public func createTenant(
        _ tenant: Tenant, services: [CustomerService] = [], accounts: [CustomerAccount] = [], contacts: [CustomerContact] = []
    ) async throws {
        try await store.database.transaction { tx in
            let row = TenantRow()
            row.id = tenant.id
            row.name = tenant.name
            row.kind = tenant.kind.rawValue
            row.country = tenant.country
            row.residence = tenant.residence
            row.dataLocation = tenant.dataLocation
            try await row.create(on: tx)
            for service in services {
                let serviceRow = ServiceRow()
                serviceRow.id = service.id
                serviceRow.tenantID = tenant.id
                serviceRow.name = service.name
                serviceRow.isUnlinked = service.isUnlinked
                try await serviceRow.create(on: tx)
            }
            for account in accounts {
                let accountRow = AccountRow()
                accountRow.id = account.id
                accountRow.tenantID = tenant.id
                accountRow.accountID = account.accountID
                accountRow.email = account.email?.lowercased()
                accountRow.username = account.username
                accountRow.serviceID = account.serviceID
                try await accountRow.create(on: tx)
            }
            for contact in contacts {
                let contactRow = ContactRow()
                contactRow.id = contact.id
                contactRow.tenantID = tenant.id
                contactRow.name = contact.name
                contactRow.email = contact.email
                try await contactRow.create(on: tx)
            }
        }
    }
}
