import CustosDomain
import Foundation

/// The step after the password: the authenticator's code, or a recovery code (issue 8).
public struct SecondFactorCodeModel: Sendable {
    public var heading: String
    public var action: String
    public var email: String
    /// Only on a demo server, for the demo accounts' shared secret.
    public var demoCode: String?

    public init(heading: String, action: String, email: String, demoCode: String?) {
        self.heading = heading
        self.action = action
        self.email = email
        self.demoCode = demoCode
    }
}

/// Setting up the authenticator: the secret to type in (or the link to open), then the first code.
public struct EnrolModel: Sendable {
    public var heading: String
    public var action: String
    public var email: String
    /// The base32 secret in groups of four, easier to type.
    public var secret: String
    public var uri: String
    public var isRequired: Bool
    public var demoCode: String?

    public init(heading: String, action: String, email: String, secret: String, uri: String, isRequired: Bool, demoCode: String?) {
        self.heading = heading
        self.action = action
        self.email = email
        self.secret = stride(from: 0, to: secret.count, by: 4).map { offset in
            let start = secret.index(secret.startIndex, offsetBy: offset)
            return String(secret[start..<(secret.index(start, offsetBy: 4, limitedBy: secret.endIndex) ?? secret.endIndex)])
        }.joined(separator: " ")
        self.uri = uri
        self.isRequired = isRequired
        self.demoCode = demoCode
    }
}

/// New recovery codes, shown once.
public struct RecoveryCodesModel: Sendable {
    public var codes: [String]
    public var continuePath: String

    public init(codes: [String], continuePath: String) {
        self.codes = codes
        self.continuePath = continuePath
    }
}

/// A signed-in person's own page.
public struct AccountModel: Sendable {
    public var email: String
    public var kind: String
    public var isEnrolled: Bool
    public var enrolledAt: String?
    public var recoveryCodesLeft: Int
    public var fewCodesLeft: Bool
    public var isRequired: Bool
    public var enrolPath: String
    public var recoveryPath: String

    public init(email: String, kind: PrincipalKind, enrolledAt: Date?, recoveryCodesLeft: Int, isRequired: Bool) {
        self.email = email
        self.kind = kind.rawValue
        self.isEnrolled = enrolledAt != nil
        self.enrolledAt = enrolledAt.map(Timestamp.format)
        self.recoveryCodesLeft = recoveryCodesLeft
        self.fewCodesLeft = enrolledAt != nil && recoveryCodesLeft <= 3
        self.isRequired = isRequired
        self.enrolPath = "/\(kind.rawValue)/account/second-factor"
        self.recoveryPath = "/\(kind.rawValue)/account/recovery-codes"
    }
}

/// The agency portal's registration form (issue 8).
public struct RegistrationModel: Sendable {
    /// Only agencies with an official domain in the directory can be chosen.
    public var agencies: [Option]
    public var name: String
    public var email: String

    public init(agencies: [Option], name: String, email: String) {
        self.agencies = agencies
        self.name = name
        self.email = email
    }
}

/// The page a confirmation link opens.
public struct ConfirmationModel: Sendable {
    public var token: String
    public init(token: String) { self.token = token }
}
