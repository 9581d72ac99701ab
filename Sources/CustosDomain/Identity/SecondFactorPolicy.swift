import Foundation

/// Who must sign in with a second factor (issue 8). A forged emergency request usually comes from a
/// police mailbox whose password was stolen (anchors.md §c), so agency users always need one; staff
/// need one unless the provider turns it off (`CUSTOS_STAFF_SECOND_FACTOR=optional`); customers may
/// add one.
public struct SecondFactorPolicy: Sendable, Equatable {
    public enum Requirement: String, Sendable, CaseIterable {
        case required
        case optional
    }

    public var staff: Requirement

    public init(staff: Requirement = .required) { self.staff = staff }

    public func isRequired(for kind: PrincipalKind) -> Bool {
        switch kind {
        case .agency: true
        case .staff: staff == .required
        case .customer: false
        }
    }

    /// What a correct password leads to.
    public enum NextStep: Equatable, Sendable {
        /// Signed in: no second factor is set up and none is required.
        case signedIn
        /// The code from the authenticator (or a recovery code) comes next.
        case code
        /// A second factor is required but not set up: it is set up now, before any page opens.
        case enrol
    }

    public func afterPassword(kind: PrincipalKind, enrolled: Bool) -> NextStep {
        if enrolled { return .code }
        return isRequired(for: kind) ? .enrol : .signedIn
    }

    /// Wrong codes allowed in one sign-in before it has to start again with the password: with a
    /// window of three codes, guessing stays at 5 × 3 in a million per password entry.
    public static let attemptsPerSignIn = 5
    /// How long the step between the password and the code may take.
    public static let challengeLifetime: TimeInterval = 10 * 60
}

/// How the requester was signed in when a demand arrived: the verification checklist's first line
/// (issue 8: "portal account with second factor").
public enum SubmissionCredential: String, Codable, Sendable {
    /// Portal session that began with a password and a second factor.
    case secondFactor = "second_factor"
    /// Portal session with a password only (possible only where the policy allows it).
    case passwordOnly = "password_only"
    /// An API token an admin issued to the agency's system.
    case apiToken = "api_token"

    public var label: String {
        switch self {
        case .secondFactor: "portal sign-in with password and second factor"
        case .passwordOnly: "portal sign-in with password only"
        case .apiToken: "API token issued by the provider's admins"
        }
    }
}
