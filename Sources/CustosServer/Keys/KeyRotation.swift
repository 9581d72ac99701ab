import CustosDomain
import CustosStorage
import Foundation

/// `custos keys rotate` with servers running (issue 28). A new storage key is added to the
/// keyring; the rotation waits until every live server has loaded it, makes it current, waits
/// until every live server seals with it, reseals what is stored, and only then retires the old
/// keys. A server that cannot follow (its master key no longer opens the keyring, or it stopped
/// answering) makes the rotation stop with its name before anything is retired: nothing is lost,
/// and running it again continues.
public struct KeyRotation: Sendable {
    let services: CustosServices
    /// How long to wait for the live servers at each step.
    let wait: TimeInterval
    let poll: Duration

    public init(services: CustosServices, wait: TimeInterval = 120, poll: Duration = .milliseconds(250)) {
        self.services = services
        self.wait = wait
        self.poll = poll
    }

    public struct Outcome: Sendable {
        public var key: String
        public var resealed: StorageKeyRotation.Result
        public var retired: Int
        /// The servers that followed the rotation.
        public var servers: [String]
    }

    public func rotateStorageKey(actor: String) async throws -> Outcome {
        let keyring = services.keys.keyring
        let id = try await keyring.addStorageKey(at: services.now())
        let knowing = try await waitForServers("load the new storage key \(id)") { $0.storageKnown.contains(id) }
        try await keyring.set(Keyring.currentStorageKey, id)
        services.database.use(services.database.sealer.merging(try await keyring.storageSealer(at: services.now(), create: false)))
        _ = try await waitForServers("seal with the new storage key \(id)") { $0.storageCurrent == id }
        // A request that read the old key just before its server switched seals within moments.
        try await Task.sleep(for: .seconds(1))
        let packages = try await services.resealPackages()
        let resealed = try await StorageKeyRotation.reseal(services.database, actor: actor, at: services.now(), packagesResealed: packages)
        let retired = try await keyring.retireStorageKeys(keeping: id)
        return Outcome(key: id, resealed: resealed, retired: retired, servers: knowing)
    }

    /// Waits until every live server satisfies `done`; returns their names. Throws, naming the
    /// servers still behind, when `wait` runs out.
    func waitForServers(_ step: String, _ done: (InstanceRuns.Run) -> Bool) async throws -> [String] {
        let deadline = Date().addingTimeInterval(wait)
        while true {
            let live = try await services.instanceRuns.live(at: services.now(), staleAfter: services.staleAfter)
            let behind = live.filter { !done($0) }
            if behind.isEmpty { return live.map(\.id) }
            guard Date() < deadline else {
                let master = services.keys.keyring.master.id
                let names = behind.map { $0.masterKeyID == master ? $0.id : "\($0.id) (runs with master key \($0.masterKeyID))" }
                throw KeyringError(
                    "the rotation stopped: \(names.joined(separator: ", ")) did not \(step) within \(Int(wait)) s. Nothing was retired and everything stays readable; restart those servers with the installation's master key (or wait until they are gone) and run `custos keys rotate` again")
            }
            try await Task.sleep(for: poll)
        }
    }

    /// Seals every key in the keyring with `next` instead of the current master key, in one
    /// transaction, with an audit entry. Servers keep running on the keys they hold; each is
    /// then restarted with the new master key (one at a time), and until then cannot load keys
    /// added later.
    public func rotateMasterKey(to next: MasterKey, actor: String) async throws -> Int {
        let previous = services.keys.keyring.master.id
        guard next.id != previous else { throw KeyringError("the new master key is the one in use (\(previous))") }
        return try await services.keys.keyring.reseal(
            with: next,
            audit: AuditRecord(
                caseID: nil, subject: "storage", action: "storage.master_key_rotated", actor: actor, at: services.now(),
                details: ["from": previous, "to": next.id]))
    }
}
