import CustosDomain
import Foundation

/// `/staff/requesters`: the agency directory and every requester's standing (issue 8). Everyone on
/// the staff may read it; only admins see the forms that change a standing.
public struct RequestersPageModel: Sendable {
    public struct Phone: Sendable {
        public var number: String
        public var label: String
        public var source: String
    }

    public struct Requester: Sendable {
        public var id: String
        public var email: String
        public var standing: String
        public var emergency: String
        public var emergencyAllowed: Bool
        /// The latest change: who, when, why.
        public var lastChange: String
        public var standings: [Option]
        public var actionPath: String
        /// For those who registered themselves in the portal: when, and whether the address is confirmed.
        public var registration: String?
        public var awaitsApproval: Bool
    }

    /// A self-registration as the page shows it.
    public struct Registration: Sendable {
        public var requestedAt: Date
        public var confirmedAt: Date?
        public var expiresAt: Date
        public init(requestedAt: Date, confirmedAt: Date?, expiresAt: Date) {
            self.requestedAt = requestedAt
            self.confirmedAt = confirmedAt
            self.expiresAt = expiresAt
        }
    }

    public struct AgencyEntry: Sendable {
        public var id: String
        public var editPath: String
        /// The edit form's fields: domains on one line, numbers one per line as `number | label | source`.
        public var domainsField: String
        public var phonesField: String
        public var name: String
        public var country: String
        public var kind: String
        public var domains: String
        public var phones: [Phone]
        public var hasPhones: Bool
        public var requesters: [Requester]
        public var hasRequesters: Bool
    }

    public var agencies: [AgencyEntry]
    public var canChange: Bool
    public var kinds: [Option]
    /// Registrations whose address is confirmed and whose standing is still pending.
    public var awaitingApproval: Int
    public var hasAwaiting: Bool

    public init(agencies: [(Agency, [(Principal, RequesterStatus)])], registrations: [UUID: Registration] = [:], canChange: Bool, now: Date = Date()) {
        self.canChange = canChange
        self.kinds = AgencyKind.allCases.map { Option(value: $0.rawValue, label: $0.rawValue, isSelected: false) }
        var awaiting = 0
        self.agencies = agencies.map { agency, users in
            AgencyEntry(
                id: agency.id.uuidString.lowercased(), editPath: "/staff/agencies/\(agency.id.uuidString.lowercased())",
                domainsField: agency.domains.joined(separator: " "),
                phonesField: agency.phones.map { "\($0.number) | \($0.label) | \($0.source)" }.joined(separator: "\n"),
                name: agency.name, country: agency.country, kind: agency.kind.rawValue,
                domains: agency.domains.isEmpty ? "none listed" : agency.domains.joined(separator: ", "),
                phones: agency.phones.map { Phone(number: $0.number, label: $0.label, source: $0.source) }, hasPhones: !agency.phones.isEmpty,
                requesters: users.map { principal, status in
                    let last = status.history.last
                    let registration = registrations[principal.id]
                    let awaits = registration?.confirmedAt != nil && status.standing == .pending
                    if awaits { awaiting += 1 }
                    return Requester(
                        id: principal.id.uuidString.lowercased(), email: principal.email, standing: status.standing.rawValue,
                        emergency: status.mayRequestEmergency ? "allowed" : "not allowed", emergencyAllowed: status.mayRequestEmergency,
                        lastChange: last.map { "\(Timestamp.format($0.at)) by \($0.by): \($0.reason)" } ?? "never changed",
                        standings: RequesterStanding.allCases.map { Option(value: $0.rawValue, label: $0.rawValue, isSelected: $0 == status.standing) },
                        actionPath: "/staff/requesters/\(principal.id.uuidString.lowercased())/standing",
                        registration: registration.map { registration in
                            "registered in the portal \(Timestamp.format(registration.requestedAt)); "
                                + (registration.confirmedAt.map { "address confirmed \(Timestamp.format($0))" }
                                    ?? (registration.expiresAt > now ? "address not confirmed yet" : "address never confirmed; the link expired"))
                        }, awaitsApproval: awaits)
                }, hasRequesters: !users.isEmpty)
        }
        self.awaitingApproval = awaiting
        self.hasAwaiting = awaiting > 0
    }
}
