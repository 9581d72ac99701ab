import Foundation

/// The two Merkle logs Custos keeps (tlog.md §6.1): the audit log, whose entries stay private and
/// whose checkpoints are public, and the public legal-process log.
public enum TransparencyLog: String, CaseIterable, Codable, Sendable {
    case audit
    case legalProcess = "legal-process"

    /// The small integer storage keys rows by.
    public var storageID: Int {
        switch self {
        case .audit: 1
        case .legalProcess: 2
        }
    }

    /// The checkpoint origin and key name: the scheme-less URL prefix the log is served under
    /// (c2sp.org/tlog-tiles recommends exactly this).
    public func origin(publicURL: String) -> String {
        var host = publicURL
        for scheme in ["https://", "http://"] where host.hasPrefix(scheme) { host.removeFirst(scheme.count) }
        while host.hasSuffix("/") { host.removeLast() }
        return "\(host)/log/\(rawValue)"
    }
}
