import Foundation

/// An advisory lock on `<data dir>/server.lock` (flock(2)). `custos serve` holds it shared and
/// `custos keys rotate` exclusively, so a rotation refuses to run beside a server on the same
/// folder: that server would go on sealing with the key the rotation retires. The kernel drops the
/// lock when the process ends, however it ends (a SIGKILL included), so no stale lock is left.
/// Servers on other machines (PostgreSQL) do not share it: stop every server before a rotation.
public final class DataFolderLock: Sendable {
    public enum Mode: Sendable {
        case shared, exclusive
    }

    private let descriptor: Int32

    public struct Held: Error, CustomStringConvertible {
        public var description: String
    }

    /// Takes the lock without waiting; throws `Held` when a holder of the other kind has it.
    public convenience init(folder: String, mode: Mode) throws {
        try self.init(folder: folder, file: "server.lock", mode: mode) { mode in
            mode == .shared
                ? "a key rotation (custos keys rotate) is running on \(folder); start the server when it has finished"
                : "a server is running on \(folder); stop it before rotating the storage key, so that nothing is sealed with the key being retired"
        }
    }

    /// The lock a serving run holds on its instance name (issue 28): two servers on one folder
    /// under one `CUSTOS_INSTANCE` would take back each other's job leases at start, so the
    /// second refuses to start; an earlier run of the name on this host is then proven dead.
    public convenience init(folder: String, instance: String) throws {
        let safe = String(instance.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." ? $0 : "_" })
        try self.init(folder: folder, file: "instance-\(safe).lock", mode: .exclusive) { _ in
            "another server runs as instance \(instance) on \(folder); give each server its own name (CUSTOS_INSTANCE)"
        }
    }

    /// Waits for the exclusive lock on `file`: the servers and the CLI sharing one data folder
    /// reseal its packages one at a time, never the same file at once.
    public convenience init(folder: String, waitingFor file: String) throws {
        try self.init(folder: folder, file: file, mode: .exclusive, wait: true) { _ in "cannot lock \(file) in \(folder)" }
    }

    init(folder: String, file: String, mode: Mode, wait: Bool = false, held: (Mode) -> String) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let path = (folder as NSString).appendingPathComponent(file)
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw Held(description: "cannot open \(path) (errno \(errno))") }
        guard flock(descriptor, (mode == .shared ? LOCK_SH : LOCK_EX) | (wait ? 0 : LOCK_NB)) == 0 else {
            close(descriptor)
            throw Held(description: held(mode))
        }
        self.descriptor = descriptor
    }

    deinit { close(descriptor) }
}
