import HummingbirdBcrypt
import NIOPosix

/// Password hashing with bcrypt (hummingbird-auth's HummingbirdBcrypt), run off the event loop.
public enum Passwords {
    public static let cost: UInt8 = 11

    public static func hash(_ password: String) async throws -> String {
        try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash(password, cost: cost) }
    }

    public static func verify(_ password: String, hash: String) async throws -> Bool {
        try await NIOThreadPool.singleton.runIfActive { Bcrypt.verify(password, hash: hash) }
    }

    /// A bcrypt hash (same cost) of a throw-away value, checked when the email is unknown so a
    /// failed login takes as long either way and does not reveal which emails have accounts.
    static let decoyHash = "$2b$11$X6gNPwta7HLlGvrebC0nY.3YtDpLDJQr0Nk/hPULgZz68KfmUNT52"

    /// Verifies a login attempt; `hash` is nil when no such user exists.
    public static func authenticate(_ password: String, against hash: String?) async throws -> Bool {
        // No hash, or an empty one (an account that signs in through the identity provider only):
        // the decoy is checked, so the answer takes as long, and it is no.
        let usable = hash.flatMap { $0.isEmpty ? nil : $0 }
        let matches = try await verify(password, hash: usable ?? decoyHash)
        return usable != nil && matches
    }

    /// Minimum length only: NIST SP 800-63B advises length over composition rules.
    public static func isAcceptable(_ password: String) -> Bool { password.count >= 12 }
}
