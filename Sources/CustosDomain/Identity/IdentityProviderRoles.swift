import Foundation

/// Which Custos staff roles a person signing in through the provider's identity provider gets,
/// from one claim of their ID token (OpenID Connect Core 1.0 §5.1; usually `groups`): the
/// provider's directory stays the one place where people are given access (issue 28, part 4).
/// Deny by default: a person none of whose values is mapped gets no role and is not signed in.
///
/// The mapping file (`CUSTOS_OIDC_ROLE_MAP`):
///
///     {"claim": "groups",
///      "roles": {"legal-intake": ["intake"], "legal-counsel": ["reviewer"], "legal-approvers": ["approver"]}}
public struct IdentityProviderRoles: Sendable, Equatable {
    /// The ID-token claim that carries the person's groups (a string or an array of strings).
    public var claim: String
    public var roles: [String: Set<StaffRole>]

    public init(claim: String, roles: [String: Set<StaffRole>]) {
        self.claim = claim
        self.roles = roles
    }

    public struct Problem: Error, CustomStringConvertible, Equatable {
        public var description: String
    }

    private struct File: Decodable {
        var claim: String?
        var roles: [String: [String]]
    }

    /// Reads a mapping file; every problem is named (an unknown role, an empty claim).
    public static func parse(_ data: Data) throws -> IdentityProviderRoles {
        let file: File
        do {
            file = try JSONDecoder().decode(File.self, from: data)
        } catch {
            throw Problem(description: "the role mapping is not JSON of the form {\"claim\": \"groups\", \"roles\": {\"group\": [\"reviewer\"]}}: \(error)")
        }
        let claim = (file.claim ?? "groups").trimmingCharacters(in: .whitespaces)
        guard !claim.isEmpty else { throw Problem(description: "the role mapping names an empty claim") }
        var roles: [String: Set<StaffRole>] = [:]
        for (group, names) in file.roles {
            for name in names {
                guard let role = StaffRole(rawValue: name) else {
                    throw Problem(description: "the role mapping gives \(group) the role \(name), which is not one of \(StaffRole.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                roles[group, default: []].insert(role)
            }
        }
        return IdentityProviderRoles(claim: claim, roles: roles)
    }

    /// The claim's values, from what the ID token holds under `claim` (a string, or strings).
    public static func values(_ claimValue: Any?) -> [String] {
        switch claimValue {
        case let one as String: [one]
        case let many as [Any]: many.compactMap { $0 as? String }
        default: []
        }
    }

    /// The roles the values give together.
    public func roles(for values: [String]) -> Set<StaffRole> {
        values.reduce(into: Set<StaffRole>()) { $0.formUnion(roles[$1] ?? []) }
    }
}
