import Crypto
import CustosDomain
import Foundation
import MerkleLog

/// The Ed25519 keys that sign the two logs' checkpoints, the canary and closed reports, kept in
/// the installation's keyring (`InstallationKeys`) and made on first start. Their key names are the logs' origins, so
/// the verifier keys (`custos log key`) are what C2SP verifiers and witnesses expect.
public struct TransparencyKeys: Sendable {
    public let audit: Ed25519NoteSigner
    public let legalProcess: Ed25519NoteSigner
    public let canary: Ed25519NoteSigner
    /// Signs each closed transparency-report period (issue 7).
    public let report: Ed25519NoteSigner
    /// Signs this installation's requester blocklist feed (issue 8).
    public let blocklist: Ed25519NoteSigner
    /// 32 secret bytes from which each period's national-security commitment key is derived
    /// (tlog.md §6.7); given only to a cleared auditor, never published.
    public let nationalSecuritySecret: Data

    /// The commitment key for one period: HMAC-SHA256(secret, "custos ns-commitment\n" || period).
    public func nationalSecurityKey(for period: ReportPeriod) -> Data {
        Data(HMAC<SHA256>.authenticationCode(for: Data("custos ns-commitment\n\(period.description)".utf8), using: SymmetricKey(data: nationalSecuritySecret)))
    }

    public func signer(for log: TransparencyLog) -> Ed25519NoteSigner {
        switch log {
        case .audit: audit
        case .legalProcess: legalProcess
        }
    }

    public static func canaryName(publicURL: String) -> String { transparencyName("canary", publicURL: publicURL) }

    /// `<host>/transparency/<what>`: key names beside the logs' origins.
    static func transparencyName(_ what: String, publicURL: String) -> String {
        TransparencyLog.audit.origin(publicURL: publicURL).replacingOccurrences(of: "/log/audit", with: "/transparency/\(what)")
    }

    /// Keys for this process only, named after `publicURL` (tests, the witness's own checks).
    public static func random(publicURL: String) -> TransparencyKeys {
        func fresh() -> Data { Curve25519.Signing.PrivateKey().rawRepresentation }
        return try! TransparencyKeys(address: publicURL, secret: { _ in fresh() })
    }

    /// The keys from their 32 secret bytes each, named after the pinned `address` (the one the logs
    /// were created with: a log's origin must never change, or every witness and every saved
    /// checkpoint stops matching it). `secret` gives the bytes for a keyring name (`InstallationKeys.names`).
    public init(address publicURL: String, secret: (String) throws -> Data) throws {
        func key(_ name: String) throws -> Curve25519.Signing.PrivateKey {
            try Curve25519.Signing.PrivateKey(rawRepresentation: try secret(name))
        }
        audit = Ed25519NoteSigner(name: TransparencyLog.audit.origin(publicURL: publicURL), privateKey: try key("log-audit"))
        legalProcess = Ed25519NoteSigner(name: TransparencyLog.legalProcess.origin(publicURL: publicURL), privateKey: try key("log-legal-process"))
        canary = Ed25519NoteSigner(name: Self.canaryName(publicURL: publicURL), privateKey: try key("canary"))
        report = Ed25519NoteSigner(name: Self.transparencyName("report", publicURL: publicURL), privateKey: try key("report"))
        blocklist = Ed25519NoteSigner(name: Self.transparencyName("blocklist", publicURL: publicURL), privateKey: try key("blocklist"))
        // Any 32 random bytes serve; an Ed25519 private key is exactly that, made and kept the same way.
        nationalSecuritySecret = try secret("ns-commitment")
    }

    /// Every public key with what it verifies (`custos keys export-public`).
    public var verifierKeys: [(what: String, key: String)] {
        [("audit log checkpoints", audit.verifierKey), ("legal-process log checkpoints", legalProcess.verifierKey),
         ("canary", canary.verifierKey), ("closed report periods", report.verifierKey), ("requester blocklist feed", blocklist.verifierKey)]
    }
}
