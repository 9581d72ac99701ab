import Crypto
import CustosDomain
import Foundation
import Hummingbird
import MerkleLog
import NIOCore

/// A minimal c2sp.org/tlog-witness (`custos witness serve`): it cosigns a checkpoint only as a
/// consistent extension of the last one it cosigned for that log, persists its state before it
/// answers, and serves the latest cosigned checkpoint for monitoring. Two Custos installations can
/// witness each other, and the tests run one.
public actor Witness {
    public let signer: CosignatureV1Signer
    let logs: [String: Ed25519NoteVerifier]
    let stateDirectory: String
    let clock: @Sendable () -> Date

    public init(signer: CosignatureV1Signer, logVerifierKeys: [String], stateDirectory: String, clock: @escaping @Sendable () -> Date = { Date() }) throws {
        var logs: [String: Ed25519NoteVerifier] = [:]
        for vkey in logVerifierKeys {
            guard let verifier = try NoteKey.verifier(vkey) as? Ed25519NoteVerifier else {
                throw ConfigurationProblem("\(vkey) is not an Ed25519 (type 0x01) log key")
            }
            logs[verifier.name] = verifier
        }
        self.signer = signer
        self.logs = logs
        self.stateDirectory = stateDirectory
        self.clock = clock
        try FileManager.default.createDirectory(atPath: stateDirectory, withIntermediateDirectories: true)
    }

    /// Loads the witness key from `path` (a 32-byte seed), creating it on first use.
    public static func loadKey(path: String) throws -> Curve25519.Signing.PrivateKey {
        if let raw = FileManager.default.contents(atPath: path) {
            guard raw.count == 32 else { throw ConfigurationProblem("\(path) is not a 32-byte Ed25519 seed") }
            return try Curve25519.Signing.PrivateKey(rawRepresentation: raw)
        }
        let key = Curve25519.Signing.PrivateKey()
        guard FileManager.default.createFile(atPath: path, contents: key.rawRepresentation, attributes: [.posixPermissions: 0o600]) else {
            throw ConfigurationProblem("cannot write \(path)")
        }
        return key
    }

    struct State: Codable {
        var head: WitnessedHead
        /// The cosigned checkpoint, as served to monitors.
        var note: String
    }

    func statePath(origin: String) -> String {
        (stateDirectory as NSString).appendingPathComponent(Hex.encode(SHA256.hash(data: Data(origin.utf8))) + ".json")
    }

    func state(origin: String) -> State? {
        guard let data = FileManager.default.contents(atPath: statePath(origin: origin)) else { return nil }
        return try? JSONDecoder().decode(State.self, from: data)
    }

    /// `POST add-checkpoint`: status and body. The actor serialises requests, and the new state is
    /// on disk (written to a temporary file, then renamed) before the cosignature leaves.
    public func addCheckpoint(_ body: String) -> (status: Int, body: String, contentType: String) {
        do {
            let request = try AddCheckpointRequest(parsing: body)
            let origin = (try? Checkpoint(text: request.checkpoint.text))?.origin ?? ""
            let current = state(origin: origin)
            let (checkpoint, head) = try WitnessDecision.evaluate(request, logs: logs, latest: current?.head)
            let time = UInt64(clock().timeIntervalSince1970)
            let cosignature = try signer.cosign(text: checkpoint.text, time: time)
            var cosigned = request.checkpoint
            cosigned.signatures.append(cosignature)
            let data = try JSONEncoder().encode(State(head: head, note: cosigned.serialized))
            let path = statePath(origin: origin)
            let temporary = path + ".tmp"
            guard FileManager.default.createFile(atPath: temporary, contents: nil) else { throw ConfigurationProblem("cannot write \(temporary)") }
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: temporary))
            try handle.write(contentsOf: data)
            try handle.synchronize()
            try handle.close()
            guard rename(temporary, path) == 0 else { throw ConfigurationProblem("cannot replace \(path)") }
            return (200, cosignature.line, "text/plain; charset=utf-8")
        } catch let refusal as WitnessRefusal {
            if case .staleOldSize(let latest) = refusal { return (409, "\(latest)\n", "text/x.tlog.size") }
            return (refusal.status, refusal.description + "\n", "text/plain; charset=utf-8")
        } catch {
            return (500, "\(error)\n", "text/plain; charset=utf-8")
        }
    }

    /// The latest checkpoint cosigned for the log whose origin hashes to `originHash`.
    public func latest(originHash: String) -> String? {
        for origin in logs.keys where Hex.encode(SHA256.hash(data: Data(origin.utf8))) == originHash {
            return state(origin: origin)?.note
        }
        return nil
    }
}

/// The witness's HTTP face: `POST /add-checkpoint` and `GET /<hex SHA-256(origin)>/checkpoint`.
public func buildWitnessApplication(witness: Witness, host: String, port: Int) -> some ApplicationProtocol {
    let router = Router()
    router.post("/add-checkpoint") { request, _ -> Response in
        let body = try await request.body.collect(upTo: 64 * 1024)
        let answer = await witness.addCheckpoint(String(buffer: body))
        return Response(
            status: .init(code: answer.status), headers: [.contentType: answer.contentType], body: .init(byteBuffer: ByteBuffer(string: answer.body)))
    }
    router.get("/:origin/checkpoint") { _, context -> Response in
        guard let hash = context.parameters.get("origin"), let note = await witness.latest(originHash: hash) else {
            return Response(status: .notFound, body: .init(byteBuffer: ByteBuffer(string: "unknown log\n")))
        }
        return Response(status: .ok, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: note)))
    }
    return Application(router: router, configuration: .init(address: .hostname(host, port: port), serverName: "Custos witness"))
}
