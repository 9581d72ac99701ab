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
    }

    public struct AgencyEntry: Sendable {
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

    public init(agencies: [(Agency, [(Principal, RequesterStatus)])], canChange: Bool) {
        self.canChange = canChange
        self.agencies = agencies.map { agency, users in
            AgencyEntry(
                name: agency.name, country: agency.country, kind: agency.kind.rawValue,
                domains: agency.domains.isEmpty ? "none listed" : agency.domains.joined(separator: ", "),
                phones: agency.phones.map { Phone(number: $0.number, label: $0.label, source: $0.source) }, hasPhones: !agency.phones.isEmpty,
                requesters: users.map { principal, status in
                    let last = status.history.last
                    return Requester(
                        id: principal.id.uuidString.lowercased(), email: principal.email, standing: status.standing.rawValue,
                        emergency: status.mayRequestEmergency ? "allowed" : "not allowed", emergencyAllowed: status.mayRequestEmergency,
                        lastChange: last.map { "\(Timestamp.format($0.at)) by \($0.by): \($0.reason)" } ?? "never changed",
                        standings: RequesterStanding.allCases.map { Option(value: $0.rawValue, label: $0.rawValue, isSelected: $0 == status.standing) },
                        actionPath: "/staff/requesters/\(principal.id.uuidString.lowercased())/standing")
                }, hasRequesters: !users.isEmpty)
        }
    }
}
