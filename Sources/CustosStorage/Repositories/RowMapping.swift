import CustosDomain
import FluentKit
import Foundation

extension CaseRow {
    convenience init(_ value: Case) throws {
        self.init()
        self.id = value.id
        self.demandID = value.demandID
        self.agencyID = value.agencyID
        self.openedAt = value.openedAt
        try self.copy(from: value)
    }

    func copy(from value: Case) throws {
        number = value.number
        tenantID = value.customer?.tenantID
        state = value.state.rawValue
        outcome = value.outcome?.rawValue
        isEmergency = value.isEmergency
        dueAt = value.dueAt
        country = value.country
        instrument = value.instrument.rawValue
        updatedAt = value.updatedAt
        version = value.version
        body = try CustosJSON.string(value)
    }

    func domain() throws -> Case { try CustosJSON.decode(Case.self, from: body) }
}

extension DemandRow {
    func domain() throws -> Demand { try CustosJSON.decode(Demand.self, from: body) }
}

extension AuditRow {
    /// The entry as its hashed body says, refused when a column beside the body says otherwise:
    /// the columns are copies for filtering (the timeline selects by `case_id`), and only the body
    /// and the chain are hashed. `custos log verify` finds the same rows (`AuditColumnCheck`).
    func domain() throws -> AuditEntry {
        let sequence = try requireID()
        let record = try CustosJSON.decode(AuditRecord.self, from: body)
        var differing: [String] = []
        if record.caseID != caseID { differing.append("case_id") }
        if record.subject != subject { differing.append("subject") }
        if record.action != action { differing.append("action") }
        if record.outcome.rawValue != outcome { differing.append("outcome") }
        if record.actor != actor { differing.append("actor") }
        // The body keeps the time to the millisecond, the column as the database rounds it.
        if abs(record.at.timeIntervalSince(at)) >= 0.001 { differing.append("at") }
        if AuditChain.hash(of: AuditChain.canonicalBytes(sequence: sequence, previousHash: previousHash, recordJSON: Data(body.utf8))) != hash {
            differing.append("hash")
        }
        guard differing.isEmpty else {
            throw StorageError.corrupted("audit entry \(sequence): the stored \(differing.joined(separator: ", ")) disagree with its hashed body")
        }
        return AuditEntry(sequence: sequence, record: record, previousHash: previousHash, hash: hash)
    }
}

extension PrincipalRow {
    func domain() throws -> Principal {
        guard let id, let kind = PrincipalKind(rawValue: kind) else { throw StorageError.corrupted("principal row \(email)") }
        let roles = Set(roles.split(separator: ",").compactMap { StaffRole(rawValue: String($0)) })
        return Principal(
            id: id, email: email, displayName: displayName, kind: kind, roles: roles, agencyID: agencyID, tenantID: tenantID)
    }
}

extension AgencyRow {
    func copy(from agency: Agency) throws {
        name = agency.name
        country = agency.country
        kind = agency.kind.rawValue
        domains = agency.domains.map { $0.lowercased() }.joined(separator: " ")
        phones = try CustosJSON.string(agency.phones)
    }

    func domain() throws -> Agency {
        guard let id, let kind = AgencyKind(rawValue: kind) else { throw StorageError.corrupted("agency row \(name)") }
        return Agency(
            id: id, name: name, country: country, kind: kind, domains: domains.split(separator: " ").map(String.init),
            phones: try CustosJSON.decode([AgencyPhone].self, from: phones))
    }
}

extension TenantRow {
    func domain() throws -> Tenant {
        guard let id, let kind = TenantKind(rawValue: kind) else { throw StorageError.corrupted("tenant row \(name)") }
        return Tenant(id: id, name: name, kind: kind, country: country, residence: residence, dataLocation: dataLocation)
    }
}

extension BlocklistRow {
    func entry() -> BlocklistEntry? {
        BlocklistEntry.Kind(rawValue: kind).map { BlocklistEntry(kind: $0, value: value, isHashed: hashed) }
    }
}
