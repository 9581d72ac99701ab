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
    public init(folder: String, mode: Mode) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let path = (folder as NSString).appendingPathComponent("server.lock")
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw Held(description: "cannot open \(path) (errno \(errno))") }
        guard flock(descriptor, (mode == .shared ? LOCK_SH : LOCK_EX) | LOCK_NB) == 0 else {
            close(descriptor)
            throw Held(description: mode == .shared
                ? "a key rotation (custos keys rotate) is running on \(folder); start the server when it has finished"
                : "a server is running on \(folder); stop it before rotating the storage key, so that nothing is sealed with the key being retired")
        }
        self.descriptor = descriptor
    }

    deinit { close(descriptor) }
}
