import Crypto
import Foundation

/// Time-based one-time passwords (RFC 6238 over RFC 4226's HOTP), the second factor agency users
/// must and staff should use (issue 8). HMAC comes from swift-crypto; the truncation and the
/// base32 secrets are written here because no package available to Custos provides them.
public struct TOTP: Sendable {
    public enum Algorithm: String, Sendable {
        case sha1 = "SHA1"
        case sha256 = "SHA256"
        case sha512 = "SHA512"
    }

    public let secret: Data
    public let digits: Int
    public let period: Int64
    public let algorithm: Algorithm

    /// Authenticator apps' defaults: 6 digits, 30 seconds, HMAC-SHA1.
    public init(secret: Data, digits: Int = 6, period: Int64 = 30, algorithm: Algorithm = .sha1) {
        precondition((6...10).contains(digits) && period > 0)
        self.secret = secret
        self.digits = digits
        self.period = period
        self.algorithm = algorithm
    }

    /// The time step a moment falls in (T = floor(unix time / period), RFC 6238 §4.2).
    public func step(at time: Date) -> Int64 { Int64(floor(time.timeIntervalSince1970)) / period }

    /// The code for a time step (RFC 4226 §5.3: HMAC of the big-endian counter, dynamic truncation).
    public func code(step: Int64) -> String {
        var counter = UInt64(bitPattern: step).bigEndian
        let message = withUnsafeBytes(of: &counter) { Data($0) }
        let key = SymmetricKey(data: secret)
        let mac: [UInt8] =
            switch algorithm {
            case .sha1: Array(HMAC<Insecure.SHA1>.authenticationCode(for: message, using: key))
            case .sha256: Array(HMAC<SHA256>.authenticationCode(for: message, using: key))
            case .sha512: Array(HMAC<SHA512>.authenticationCode(for: message, using: key))
            }
        let offset = Int(mac[mac.count - 1] & 0x0f)
        let binary = (UInt64(mac[offset] & 0x7f) << 24) | (UInt64(mac[offset + 1]) << 16) | (UInt64(mac[offset + 2]) << 8) | UInt64(mac[offset + 3])
        var modulus: UInt64 = 1
        for _ in 0..<digits { modulus *= 10 }
        let value = String(binary % modulus)
        return String(repeating: "0", count: digits - value.count) + value
    }

    public func code(at time: Date) -> String { code(step: step(at: time)) }

    /// The step a code matches within `window` steps either side of now (clock drift), or nil. A
    /// step at or before `lastUsedStep` never matches again, so a code cannot be replayed
    /// (RFC 6238 §5.2).
    public func verify(_ code: String, at time: Date, window: Int64 = 1, lastUsedStep: Int64? = nil) -> Int64? {
        let typed = code.filter { !$0.isWhitespace }
        guard typed.count == digits, typed.allSatisfy(\.isASCII), typed.allSatisfy(\.isNumber) else { return nil }
        let now = step(at: time)
        for candidate in (now - window)...(now + window) where candidate > (lastUsedStep ?? Int64.min) {
            if constantTimeEquals(self.code(step: candidate), typed) { return candidate }
        }
        return nil
    }

    func constantTimeEquals(_ a: String, _ b: String) -> Bool {
        let a = Array(a.utf8), b = Array(b.utf8)
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }

    /// The `otpauth://` URI authenticator apps read (from a QR code or pasted).
    public func uri(issuer: String, account: String) -> String {
        func escape(_ text: String) -> String { text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(["-", ".", "_", "@"])) ?? text }
        return "otpauth://totp/\(escape(issuer)):\(escape(account))?secret=\(Base32.encode(secret))&issuer=\(escape(issuer))"
            + "&algorithm=\(algorithm.rawValue)&digits=\(digits)&period=\(period)"
    }
}

/// RFC 4648 base32 without padding: how TOTP secrets are shown and typed.
public enum Base32 {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")

    public static func encode(_ data: Data) -> String {
        var output = ""
        var buffer: UInt32 = 0
        var bits = 0
        for byte in data {
            buffer = (buffer << 8) | UInt32(byte)
            bits += 8
            while bits >= 5 {
                output.append(alphabet[Int((buffer >> UInt32(bits - 5)) & 31)])
                bits -= 5
            }
        }
        if bits > 0 { output.append(alphabet[Int((buffer << UInt32(5 - bits)) & 31)]) }
        return output
    }

    /// Decodes, ignoring case, spaces and padding; nil for any other character.
    public static func decode(_ text: String) -> Data? {
        var output = Data()
        var buffer: UInt32 = 0
        var bits = 0
        for character in text.uppercased() where character != " " && character != "=" {
            guard let value = alphabet.firstIndex(of: character) else { return nil }
            buffer = (buffer << 5) | UInt32(value)
            bits += 5
            if bits >= 8 {
                output.append(UInt8((buffer >> UInt32(bits - 8)) & 0xff))
                bits -= 8
            }
        }
        return output
    }
}

/// One-time recovery codes for a lost second factor: shown once, kept only as SHA-256 hashes.
public enum RecoveryCodes {
    /// Ten codes like `7K3M-Q9TD-2XWB` from the caller's random bytes (10 × 12 base32 characters).
    public static func make(from randomBytes: Data) -> [String] {
        precondition(randomBytes.count >= 80, "ten codes need 80 random bytes")
        return (0..<10).map { index in
            let chunk = randomBytes.subdata(in: (index * 8)..<(index * 8 + 8))
            let text = String(Base32.encode(chunk).prefix(12))
            return [text.prefix(4), text.dropFirst(4).prefix(4), text.dropFirst(8).prefix(4)].joined(separator: "-")
        }
    }

    /// What is stored: the hash of the code as typed, normalised (case and dashes ignored).
    public static func hash(_ code: String) -> String {
        Hex.encode(SHA256.hash(data: Data(code.uppercased().filter { $0 != "-" && !$0.isWhitespace }.utf8)))
    }
}
