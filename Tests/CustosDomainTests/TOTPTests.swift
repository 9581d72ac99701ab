import CustosDomain
import Foundation
import Testing

/// Issue 8's second factor, at its core: RFC 6238 Appendix B's test vectors, the replay and drift
/// rules, base32 (RFC 4648 §10 vectors) and recovery codes kept as hashes.
@Suite struct TOTPTests {
    static let sha1 = TOTP(secret: Data("12345678901234567890".utf8), digits: 8, algorithm: .sha1)
    static let sha256 = TOTP(secret: Data("12345678901234567890123456789012".utf8), digits: 8, algorithm: .sha256)
    static let sha512 = TOTP(secret: Data("1234567890123456789012345678901234567890123456789012345678901234".utf8), digits: 8, algorithm: .sha512)

    @Test(arguments: [
        (59.0, "94287082", "46119246", "90693936"), (1_111_111_109, "07081804", "68084774", "25091201"),
        (1_111_111_111, "14050471", "67062674", "99943326"), (1_234_567_890, "89005924", "91819424", "93441116"),
        (2_000_000_000, "69279037", "90698825", "38618901"), (20_000_000_000, "65353130", "77737706", "47863826"),
    ])
    func rfc6238Vectors(time: Double, sha1: String, sha256: String, sha512: String) {
        let at = Date(timeIntervalSince1970: time)
        #expect(Self.sha1.code(at: at) == sha1)
        #expect(Self.sha256.code(at: at) == sha256)
        #expect(Self.sha512.code(at: at) == sha512)
    }

    @Test func verifyAllowsDriftButNeverAReplay() {
        let totp = TOTP(secret: Data("12345678901234567890".utf8))
        let now = Date(timeIntervalSince1970: 1_111_111_111)
        let step = totp.step(at: now)
        #expect(totp.verify(totp.code(at: now), at: now) == step)
        #expect(totp.verify(totp.code(step: step - 1), at: now) == step - 1, "one step of drift")
        #expect(totp.verify(totp.code(step: step - 2), at: now) == nil)
        #expect(totp.verify(totp.code(at: now), at: now, lastUsedStep: step) == nil, "the same code twice")
        #expect(totp.verify("12345", at: now) == nil && totp.verify("abcdef", at: now) == nil)
        let spaced = totp.code(at: now).prefix(3) + " " + totp.code(at: now).dropFirst(3)
        #expect(totp.verify(String(spaced), at: now) == step)
    }

    @Test func base32AndTheURI() {
        // RFC 4648 §10.
        for (plain, encoded) in [("", ""), ("f", "MY"), ("fo", "MZXQ"), ("foo", "MZXW6"), ("foob", "MZXW6YQ"), ("fooba", "MZXW6YTB"), ("foobar", "MZXW6YTBOI")] {
            #expect(Base32.encode(Data(plain.utf8)) == encoded)
            #expect(Base32.decode(encoded) == Data(plain.utf8))
        }
        #expect(Base32.decode("mzxw 6ytb oi======") == Data("foobar".utf8))
        #expect(Base32.decode("MZXW1") == nil)
        let uri = TOTP(secret: Data("foobar".utf8)).uri(issuer: "Custos (provider.example)", account: "officer@fbi.gov")
        #expect(uri == "otpauth://totp/Custos%20%28provider.example%29:officer@fbi.gov?secret=MZXW6YTBOI&issuer=Custos%20%28provider.example%29&algorithm=SHA1&digits=6&period=30")
    }

    @Test func recoveryCodesAreShownOnceAndKeptAsHashes() {
        let codes = RecoveryCodes.make(from: Data((0..<80).map { UInt8($0 * 7 % 256) }))
        #expect(codes.count == 10 && Set(codes).count == 10)
        #expect(codes.allSatisfy { $0.count == 14 && $0.split(separator: "-").count == 3 })
        #expect(RecoveryCodes.hash(codes[0]) == RecoveryCodes.hash(codes[0].lowercased().replacingOccurrences(of: "-", with: "")))
        #expect(RecoveryCodes.hash(codes[0]) != RecoveryCodes.hash(codes[1]) && RecoveryCodes.hash(codes[0]).count == 64)
    }
}
