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

    /// Minimum length only: NIST SP 800-63B advises length over composition rules.
    public static func isAcceptable(_ password: String) -> Bool { password.count >= 12 }
}
