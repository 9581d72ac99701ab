import Configuration
import Crypto
import CustosDomain
@testable import CustosServer
import CustosStorage
import FluentSQL
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import MerkleLog
import Testing

/// Issue 6: the audit log and the public legal-process log, on SQLite and PostgreSQL. Every kind
/// of tampering is caught by `verifyLogs` (what `custos log verify` runs), proofs verify with
/// MerkleLog's verifier code paths, and the customer portal hands out working proofs.
@Suite(.serialized) struct TransparencyLogTests {
    enum Store: String, CustomTestStringConvertible, Sendable {
        case sqlite, postgres
        var testDescription: String { rawValue }
    }

    static var stores: [Store] {
        ProcessInfo.processInfo.environment["CUSTOS_TEST_POSTGRES_URL"].map { $0.isEmpty ? [.sqlite] : [.sqlite, .postgres] } ?? [.sqlite]
    }

    /// A reader for a fresh database: in-memory SQLite, or a new PostgreSQL database of its own
    /// (so these tests never touch the storage suite's schema).
    static func reader(_ store: Store, extra: [AbsoluteConfigKey: ConfigValue] = [:]) async throws -> ConfigReader {
        ConfigReader(providers: [InMemoryProvider(values: try await settings(store, extra: extra))])
    }

    /// The settings `reader` reads.
    static func settings(_ store: Store, extra: [AbsoluteConfigKey: ConfigValue] = [:]) async throws -> [AbsoluteConfigKey: ConfigValue] {
        var values: [AbsoluteConfigKey: ConfigValue] = ["custos.log.level": "error", "custos.public.url": "https://custos.example"]
        switch store {
        case .sqlite:
            values["custos.database.memory"] = true
        case .postgres:
            let base = ProcessInfo.processInfo.environment["CUSTOS_TEST_POSTGRES_URL"]!
            let name = "custos_logs_\(UUID().uuidString.prefix(8).lowercased())"
            let admin = try CustosDatabase(location: .postgres(url: base), logger: Logger(label: "test"))
            try await (admin.database as! any SQLDatabase).raw("CREATE DATABASE \(unsafeRaw: name)").run()
            await admin.shutdown()
            var components = URLComponents(string: base)!
            components.path = "/" + name
            values["custos.database.url"] = .init(.string(components.string!), isSecret: false)
            values["custos.data.dir"] = .init(.string(NSTemporaryDirectory() + name), isSecret: false)
            // Issue 28: on PostgreSQL every instance is given the installation's master key.
            values["custos.master.key"] = .init(.string(MasterKey.generate().base64), isSecret: true)
        }
        for (key, value) in extra { values[key] = value }
        return values
    }

    static func sql(_ services: CustosServices) -> any SQLDatabase { services.database.database as! any SQLDatabase }

    /// Files one warrant per reference through the API, as the demo officer.
    static func file(_ references: [String], _ client: any TestClientProtocol, _ tokens: ServerTests.Tokens) async throws {
        for reference in references {
            try await client.execute(
                uri: "/api/v1/demands", method: .post, headers: ServerTests.headers(tokens.officer),
                body: ByteBuffer(string: ServerTests.demandJSON(reference: reference))) { #expect($0.status == .created) }
        }
    }

    /// Three demands (one sealed indefinitely, one a national-security letter), one batch.
    static func populate(_ client: any TestClientProtocol, _ tokens: ServerTests.Tokens, _ services: CustosServices) async throws {
        try await file(["1:26-mj-001", "1:26-mj-002"], client, tokens)
        let nsl = ServerTests.demandJSON(reference: "NSL-1").replacingOccurrences(of: "us.search_warrant", with: "us.nsl")
            .replacingOccurrences(of: #""role": "judge""#, with: #""role": "national_security""#)
            .replacingOccurrences(of: #""categories": ["subscriber_info", "content"]"#, with: #""categories": ["subscriber_info"]"#)
        try await client.execute(uri: "/api/v1/demands", method: .post, headers: ServerTests.headers(tokens.officer), body: ByteBuffer(string: nsl)) { _ in }
        try await services.publishLegalProcessBatch()
    }

    @Test(arguments: stores)
    func auditEntriesAreLeavesAndEveryProofVerifies(store: Store) async throws {
        try await ServerTests.withApp(reader: try await Self.reader(store)) { client, tokens, services in
            try await Self.populate(client, tokens, services)
            let first = try #require(try await services.logs.latestCheckpoint(.audit, publishedOnly: true))
            let signed = try SignedCheckpoint(parsing: first.note)
            try signed.verify(log: services.transparencyKeys.audit.verifier)
            let leaves = try await services.logs.auditLeafInputs(afterSequence: 0, limit: 10_000)
            #expect(UInt64(leaves.count) == first.size)
            #expect(leaves.allSatisfy { String(decoding: $0.leaf, as: UTF8.self).hasPrefix("custos-audit/v1 entry\nnonce ") })
            for (offset, leaf) in leaves.enumerated() {
                let proof = try await services.proof(.audit, index: UInt64(offset))
                #expect(try proof.verify(leafHash: MerkleHash.leaf(leaf.leaf), log: services.transparencyKeys.audit.verifier).size == first.size)
            }
            // More activity, a second checkpoint, and a consistency proof between the two.
            try await client.execute(
                uri: "/api/v1/demands", method: .post, headers: ServerTests.headers(tokens.officer),
                body: ByteBuffer(string: ServerTests.demandJSON(reference: "1:26-mj-003"))) { _ in }
            let second = try await services.checkpoint(.audit)
            #expect(second.size > first.size)
            let consistency = try await services.logs.consistencyProof(.audit, from: first.size, to: second.size)
            try ProofVerification.verifyConsistency(oldSize: first.size, newSize: second.size, oldRoot: first.root, newRoot: second.root, proof: consistency)
            // Signing again at the same size returns the same checkpoint; a second root for a size is refused.
            #expect(try await services.checkpoint(.audit).note == second.note)
            await #expect(throws: MerkleLogStore.CheckpointConflict.self) {
                _ = try await services.logs.saveCheckpoint(.audit, size: second.size, root: Data(repeating: 9, count: 32), note: "x", at: services.now())
            }
        }
    }

    @Test(arguments: stores)
    func theLegalProcessLogCommitsToDemandsButNeverToNationalSecurityProcess(store: Store) async throws {
        try await ServerTests.withApp(reader: try await Self.reader(store)) { client, tokens, services in
            try await Self.populate(client, tokens, services)
            let entries = try await services.logs.allEntries(.legalProcess)
            #expect(entries.count == 2)  // the two warrants; the NSL has no entry (tlog.md §6.7)
            let records = try await services.legalProcess.all()
            #expect(records.count == 2)
            let audit = try #require(try await services.logs.latestCheckpoint(.audit, publishedOnly: true))
            for (entry, record) in zip(entries, records) {
                let parsed = try LegalProcessLog.parse(entry.data)
                #expect(parsed.value("class") == "us/criminal/search-warrant")
                #expect(parsed.value("nondisclosure") == "sealed")
                #expect(parsed.value("record") == record.commitment.root.base64EncodedString())
                // The intake proof leads to the published audit checkpoint, and the audit entry names the ref.
                let intake = try #require(parsed.value("intake")?.split(separator: " "))
                let proof = try #require(parsed.value("intake-proof")?.split(separator: " "))
                #expect(UInt64(proof[0]) == audit.size)
                try ProofVerification.verifyInclusion(
                    index: UInt64(intake[0])!, size: audit.size, leafHash: Data(base64Encoded: String(intake[1]))!,
                    proof: proof.dropFirst().map { Data(base64Encoded: String($0))! }, root: audit.root)
                let trail = try await services.cases.auditTrail()
                #expect(trail[Int(intake[0])!].record.details["lptl-ref"] == record.ref)
                // Nothing but commitments: no authority, case reference or account appears in the entry.
                let text = String(decoding: entry.data, as: UTF8.self)
                for secret in ["W.D. Wash", "1:26-mj", "alice@example.com"] { #expect(!text.contains(secret)) }
            }
            // The staff case page says where each demand stands in the public log.
            let first = try #require(try await services.cases.findCase(id: records[0].caseID))
            try await client.execute(uri: "/staff/cases/\(first.id.uuidString.lowercased())", method: .get, headers: ServerTests.headers(tokens.reviewer, json: false)) { response in
                let page = String(buffer: response.body)
                #expect(page.contains("id=\"public-log\"") && page.contains(records[0].ref) && page.contains("Commitment: entry 0"))
            }
            // Tiles and entry bundles serve exactly the published tree.
            try await client.execute(uri: "/log/legal-process/tile/0/000.p/2", method: .get) { response in
                #expect(response.status == .ok)
                #expect(Data(response.body.readableBytesView) == entries.map { MerkleHash.leaf($0.data) }.reduce(Data(), +))
            }
            try await client.execute(uri: "/log/legal-process/tile/entries/000.p/2", method: .get) { response in
                #expect(Tiles.unbundle(Data(response.body.readableBytesView)) == entries.map(\.data))
            }
            try await client.execute(uri: "/log/legal-process/tile/0/000.p/3", method: .get) { #expect($0.status == .notFound) }
            try await client.execute(uri: "/log/legal-process/tile/0/000", method: .get) { #expect($0.status == .notFound) }
            try await client.execute(uri: "/log/legal-process/checkpoint", method: .get) { response in
                let signed = try SignedCheckpoint(parsing: String(buffer: response.body))
                #expect(signed.checkpoint.origin == "custos.example/log/legal-process" && signed.checkpoint.size == 2)
                try signed.verify(log: try #require(try NoteKey.verifier(services.verifierKey(of: .legalProcess)) as? Ed25519NoteVerifier))
            }
            // The audit log's checkpoint is public, its tiles are for auditors only.
            try await client.execute(uri: "/log/audit/checkpoint", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/log/audit/tile/0/000.p/1", method: .get) { #expect($0.status == .unauthorized) }
            try await client.execute(uri: "/log/audit/tile/0/000.p/1", method: .get, headers: ServerTests.headers(tokens.officer)) { #expect($0.status == .forbidden) }
            try await client.execute(uri: "/log/audit/tile/0/000.p/1", method: .get, headers: ServerTests.headers(tokens.auditor)) { #expect($0.status == .ok) }
            try await client.execute(uri: "/log/audit/tile/entries/000.p/1", method: .get, headers: ServerTests.headers(tokens.auditor)) { #expect($0.status == .notFound) }
        }
    }

    enum Tampering: String, CaseIterable, CustomTestStringConvertible, Sendable {
        case auditBodyByte, auditNonceByte, legalProcessEntryByte, deletedAuditEntry, reorderedAuditEntries, rewoundAuditLog, rewoundLegalProcessLog
        var testDescription: String { rawValue }
    }

    /// Flipping one byte of any stored entry, deleting or reordering an entry, or rewinding behind
    /// a signed checkpoint is detected and names the first bad index.
    /// `custos log verify` beside a running server: entries appended while it walks the log are
    /// growth, not tampering (the crash harness found the head read after the walk and failed).
    @Test(arguments: stores)
    func verificationBesideAnAppendingServerHolds(store: Store) async throws {
        try await ServerTests.withApp(reader: try await Self.reader(store)) { client, tokens, services in
            try await Self.populate(client, tokens, services)
            async let appending: Void = {
                for number in 0..<40 {
                    let status = try await client.execute(
                        uri: "/api/v1/demands", method: .post, headers: ServerTests.headers(tokens.officer),
                        body: ByteBuffer(string: ServerTests.demandJSON(reference: "GROW-\(number)"))) { $0.status }
                    #expect(status == .created)
                }
            }()
            var rounds = 0
            while try await services.logs.head(.audit).size < 100 || rounds < 20 {
                let results = try await services.verifyLogs()
                let problems = results.flatMap(\.problems).map(\.message)
                #expect(problems.isEmpty, "\(problems)")
                rounds += 1
                if rounds > 200 { break }
            }
            try await appending
            #expect(try await services.verifyLogs().allSatisfy(\.holds))
        }
    }

    @Test(arguments: stores, Tampering.allCases)
    func verifyCatchesTampering(store: Store, tampering: Tampering) async throws {
        try await ServerTests.withApp(reader: try await Self.reader(store)) { client, tokens, services in
            try await Self.populate(client, tokens, services)
            try await services.publishLegalProcessBatch()
            #expect(try await services.verifyLogs().allSatisfy(\.holds))
            let sql = Self.sql(services)
            let auditSize = try await services.logs.head(.audit).size
            let target = 3
            let expected: (TransparencyLog, UInt64)
            switch tampering {
            case .auditBodyByte:
                try await sql.raw("UPDATE audit_entries SET body = REPLACE(body, '\"actor\":\"', '\"actor\":\"X') WHERE sequence = \(bind: target + 1)").run()
                expected = (.audit, UInt64(target))
            case .auditNonceByte:
                let nonce = try await sql.raw("SELECT nonce FROM audit_entries WHERE sequence = \(bind: target + 1)").first()!.decode(column: "nonce", as: String.self)
                var bytes = Data(base64Encoded: nonce)!
                bytes[0] ^= 1
                try await sql.raw("UPDATE audit_entries SET nonce = \(bind: bytes.base64EncodedString()) WHERE sequence = \(bind: target + 1)").run()
                expected = (.audit, UInt64(target))
            case .legalProcessEntryByte:
                var entry = try await services.logs.entries(.legalProcess, from: 1, count: 1)[0]
                entry[entry.count - 2] ^= 1
                try await sql.raw("UPDATE log_entries SET data = \(bind: entry) WHERE log = 2 AND idx = 1").run()
                expected = (.legalProcess, 1)
            case .deletedAuditEntry:
                try await sql.raw("DELETE FROM audit_entries WHERE sequence = \(bind: target + 1)").run()
                expected = (.audit, UInt64(target))
            case .reorderedAuditEntries:
                try await sql.raw("UPDATE audit_entries SET sequence = -1 WHERE sequence = \(bind: target + 1)").run()
                try await sql.raw("UPDATE audit_entries SET sequence = \(bind: target + 1) WHERE sequence = \(bind: target + 2)").run()
                try await sql.raw("UPDATE audit_entries SET sequence = \(bind: target + 2) WHERE sequence = -1").run()
                expected = (.audit, UInt64(target))
            case .rewoundAuditLog, .rewoundLegalProcessLog:
                // A thorough rewind: entries, tree and head all cut back consistently to size k;
                // only the signed checkpoint remembers the larger size.
                let log: TransparencyLog = tampering == .rewoundAuditLog ? .audit : .legalProcess
                let size = tampering == .rewoundAuditLog ? auditSize : try await services.logs.head(.legalProcess).size
                let keep = size - 2
                if log == .audit {
                    try await sql.raw("DELETE FROM audit_entries WHERE sequence > \(bind: Int(keep))").run()
                } else {
                    try await sql.raw("DELETE FROM log_entries WHERE log = 2 AND idx >= \(bind: Int64(keep))").run()
                }
                try await Self.rewindTree(log, to: keep, services)
                expected = (log, keep)
            }
            let results = try await services.verifyLogs()
            let failed = try #require(results.first { $0.log == expected.0 })
            #expect(!failed.holds)
            #expect(failed.firstBadIndex == expected.1, "\(failed.problems)")
        }
    }

    /// The copies `audit_entries` keeps beside the hashed body, one column at a time.
    enum AuditCopy: String, CaseIterable, CustomTestStringConvertible, Sendable {
        case caseID = "case_id", subject, action, outcome, actor, at
        var testDescription: String { rawValue }
    }

    /// Issue 29: a column beside the hashed body, changed in the database, is named by `log verify`
    /// (by its entry and column) and refused when the entry is read, so the case timeline never
    /// shows it; moving an entry to another case through `case_id` is caught the same way.
    @Test(arguments: stores, AuditCopy.allCases)
    func aChangedAuditColumnIsNamedByVerifyAndRefusedOnRead(store: Store, column: AuditCopy) async throws {
        try await ServerTests.withApp(reader: try await Self.reader(store)) { client, tokens, services in
            try await Self.populate(client, tokens, services)
            #expect(try await services.verifyLogs().allSatisfy(\.holds))
            let sql = Self.sql(services)
            let cases = try await services.cases.listCases(CaseFilter(limit: 10)).map(\.id)
            try #require(cases.count >= 2)
            let (victim, other) = (cases[0], cases[1])
            let entry = try #require(try await services.cases.timeline(caseID: victim).first)
            let sequence = entry.sequence
            switch column {
            case .caseID:
                // SQLite keeps a UUID as its upper-case text, PostgreSQL as a uuid.
                let moved: SQLQueryString = store == .postgres ? "\(bind: other)" : "\(bind: other.uuidString)"
                try await sql.raw("UPDATE audit_entries SET case_id = \(moved) WHERE sequence = \(bind: sequence)").run()
            case .subject, .action, .actor:
                try await sql.raw("UPDATE audit_entries SET \(ident: column.rawValue) = \(ident: column.rawValue) || 'x' WHERE sequence = \(bind: sequence)").run()
            case .outcome:
                try await sql.raw("UPDATE audit_entries SET outcome = 'refused' WHERE sequence = \(bind: sequence)").run()
            case .at:
                let later: SQLQueryString = store == .postgres ? "at + interval '2 milliseconds'" : "at + 0.002"
                try await sql.raw("UPDATE audit_entries SET at = \(later) WHERE sequence = \(bind: sequence)").run()
            }
            let audit = try #require(try await services.verifyLogs().first { $0.log == .audit })
            #expect(!audit.holds)
            #expect(audit.firstBadIndex == UInt64(sequence - 1), "\(audit.problems)")
            #expect(audit.problems.map(\.message) == ["audit entry \(sequence): the stored \(column.rawValue) differs from the hashed entry"])
            // Read back, the entry is refused wherever the column would put it.
            let shownIn = column == .caseID ? other : victim
            await #expect(throws: StorageError.self) { _ = try await services.cases.timeline(caseID: shownIn) }
            if column == .caseID { #expect(try await services.cases.timeline(caseID: victim).allSatisfy { $0.sequence != sequence }) }
        }
    }

    /// The chain hash beside an entry is checked when the entry is read: a changed hash (or a
    /// changed previous hash, which the hash covers) is refused, not shown on the timeline.
    @Test(arguments: stores)
    func aChangedChainHashIsRefusedOnRead(store: Store) async throws {
        try await ServerTests.withApp(reader: try await Self.reader(store)) { client, tokens, services in
            try await Self.populate(client, tokens, services)
            let victim = try #require(try await services.cases.listCases(CaseFilter(limit: 10)).first?.id)
            let entries = try await services.cases.timeline(caseID: victim)
            let sequence = try #require(entries.last?.sequence)
            try await Self.sql(services).raw("UPDATE audit_entries SET previous_hash = \(bind: String(repeating: "f", count: 64)) WHERE sequence = \(bind: sequence)").run()
            await #expect(throws: StorageError.self) { _ = try await services.cases.timeline(caseID: victim) }
        }
    }

    /// Verification folds each half of a page that is a whole perfect subtree at once, once its
    /// root equals the node the log stored for it, and takes the roots of checkpoints signed
    /// inside it from the subtree's levels. Every checkpoint must still be checked, and a changed
    /// entry in such a half must still be named by its own index.
    @Test(arguments: stores)
    func wholeSubtreesAreFoldedAtOnceAndABadEntryIsStillNamed(store: Store) async throws {
        try await ServerTests.withApp(reader: try await Self.reader(store)) { client, tokens, services in
            try await Self.populate(client, tokens, services)
            var size = Int(try await services.logs.head(.audit).size)
            var target = 512
            while target < size + 100 { target *= 2 }
            func grow(to end: Int) async throws {
                let records = (size..<end).map { number in
                    AuditRecord(caseID: nil, subject: "bulk:\(number)", action: "document.downloaded", outcome: .read, actor: "staff:reviewer@provider.example",
                        at: Date(timeIntervalSince1970: 1_790_000_000 + Double(number)), details: ["number": "\(number)"])
                }
                try await services.cases.record(records)
                size = end
            }
            // Checkpoints inside the second half, one short of the end, and at the end.
            for end in [target / 2 + 37, target - 5, target] {
                try await grow(to: end)
                try await services.checkpoint(.audit)
            }
            let verified = try await services.verifyLog(.audit)
            #expect(verified.holds, "\(verified.problems)")
            #expect(verified.size == UInt64(target))
            if store == .sqlite {
                // The walk reads through a memory map, and drops it again when done.
                let map = try await Self.sql(services).raw("PRAGMA mmap_size").first()
                #expect(try map?.decode(column: "mmap_size", as: Int.self) == 0)
            }
            #expect(verified.checkpointsChecked == (try await services.logs.checkpoints(.audit)).count)

            let sql = Self.sql(services)
            for index in [target / 2 + 100, 7] {
                try await sql.raw("UPDATE audit_entries SET body = REPLACE(body, '\"actor\":\"', '\"actor\":\"X') WHERE sequence = \(bind: index + 1)").run()
                let result = try await services.verifyLog(.audit)
                #expect(!result.holds)
                #expect(result.firstBadIndex == UInt64(index), "\(result.problems)")
            }
        }
    }

    /// Cuts the stored tree and head back to `size`, recomputing the frontier from the kept nodes.
    static func rewindTree(_ log: TransparencyLog, to size: UInt64, _ services: CustosServices) async throws {
        let sql = sql(services)
        let kept = try await services.logs.storedLeafHashes(log).prefix(Int(size)).map(\.hash)
        var tree = MerkleTree()
        for hash in kept { tree.append(leafHash: hash) }
        try await sql.raw("DELETE FROM log_nodes WHERE log = \(bind: log.storageID)").run()
        var frontier = Data()
        for height in (0..<tree.levels.count).reversed() where (size >> UInt64(height)) & 1 == 1 {
            frontier += tree.node(NodeID(height: height, index: (size >> UInt64(height)) - 1))!
        }
        for (height, level) in tree.levels.enumerated() {
            for (index, hash) in level.enumerated() {
                try await sql.raw("INSERT INTO log_nodes (log, node_key, hash) VALUES (\(bind: log.storageID), \(bind: Int64(height) << 56 | Int64(index)), \(bind: hash))").run()
            }
        }
        try await sql.raw("UPDATE log_heads SET size = \(bind: Int64(size)), frontier = \(bind: frontier) WHERE log = \(bind: log.storageID)").run()
        #expect(try await services.logs.head(log).root == (try tree.root()))
    }

    /// A log's origin is fixed when its key is made: serving later on another port or public URL
    /// (or running the CLI without the server's `--port`) must not rename it, or `log verify`
    /// and every witness would reject the checkpoints already signed.
    @Test func theLogsKeepTheirOriginWhenThePublicAddressChanges() async throws {
        let folder = NSTemporaryDirectory() + "origin-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        func open(_ url: String) async throws -> CustosServices {
            try await buildServices(settings: ["custos.data.dir": folder, "custos.public.url": url, "custos.log.level": "error"])
        }
        let first = try await open("http://127.0.0.1:18401")
        let firstKeys = first.transparencyKeys
        await first.shutdown()
        let later = try await open("http://127.0.0.1:8080")
        let laterKeys = later.transparencyKeys
        await later.shutdown()
        #expect(firstKeys.audit.name == "127.0.0.1:18401/log/audit")
        #expect(laterKeys.audit.name == firstKeys.audit.name && laterKeys.legalProcess.name == firstKeys.legalProcess.name)
        #expect(laterKeys.canary.name == "127.0.0.1:18401/transparency/canary")
        #expect(laterKeys.audit.verifierKey == firstKeys.audit.verifierKey)
        // without a data folder (an in-memory test server) the configured address is used as it is
        let memory = try await buildServices(settings: ["custos.database.memory": "true", "custos.public.url": "https://custos.example", "custos.log.level": "error"])
        #expect(memory.transparencyKeys.audit.name == "custos.example/log/audit")
        await memory.shutdown()
    }

    /// A witness cosigns consistent growth; publication waits for the policy's quorum; and a
    /// rewind that also deletes our own checkpoints is still caught by the witness's memory.
    @Test func witnessesCosignAndTheQuorumGatesPublication() async throws {
        let state = NSTemporaryDirectory() + "witness-\(UUID().uuidString)"
        let witnessSigner = CosignatureV1Signer(name: "witness.example/w1", privateKey: Curve25519.Signing.PrivateKey())
        // The installation's keys, made by a first start, are what the witness is told to expect.
        let first = try await buildServices(reader: try await Self.reader(.sqlite, extra: [
            "custos.data.dir": .init(.string(state + "-keys"), isSecret: false), "custos.database.memory": false,
        ]))
        let keys = first.transparencyKeys
        await first.shutdown()
        let witness = try Witness(signer: witnessSigner, logVerifierKeys: [keys.audit.verifierKey, keys.legalProcess.verifierKey], stateDirectory: state)
        let witnessApp = buildWitnessApplication(witness: witness, host: "127.0.0.1", port: 0)
        try await witnessApp.test(.live) { witnessClient in
            let url = "http://127.0.0.1:\(witnessClient.port!)/"
            let absent = CosignatureV1Signer(name: "witness.example/absent", privateKey: Curve25519.Signing.PrivateKey())
            let policyPath = state + ".policy"
            try """
                witness w1 \(witnessSigner.verifierKey) \(url)
                witness w2 \(absent.verifierKey) \(url)nowhere/
                group one any w1 w2
                quorum one
                """.write(toFile: policyPath, atomically: true, encoding: .utf8)
            let reader = try await Self.reader(.sqlite, extra: [
                "custos.witness.policy": .init(.string(policyPath), isSecret: false),
                "custos.data.dir": .init(.string(state + "-keys"), isSecret: false),
                "custos.database.memory": false,
            ])
            try await ServerTests.withApp(reader: reader) { client, tokens, services in
                try await Self.populate(client, tokens, services)
                let published = try #require(try await services.logs.latestCheckpoint(.audit, publishedOnly: true))
                let signed = try SignedCheckpoint(parsing: published.note)
                #expect(try signed.verify(log: keys.audit.verifier, policy: services.witnessPolicy) == ["w1"])
                // A stricter policy (both witnesses) is not met: the checkpoint is signed but not published.
                var strict = try #require(services.witnessPolicy)
                strict.quorum = "both"
                strict.groups["both"] = .init(name: "both", threshold: .all, members: ["w1", "w2"])
                #expect(throws: SignedCheckpoint.Failure.self) { try signed.verify(log: keys.audit.verifier, policy: strict) }
                // The witness learns sizes from 409s: forget what we stored about its cosignatures.
                try await client.execute(uri: "/api/v1/demands", method: .post, headers: ServerTests.headers(tokens.officer),
                    body: ByteBuffer(string: ServerTests.demandJSON(reference: "late"))) { _ in }
                for stored in try await services.logs.checkpoints(.audit) {
                    var note = try SignedNote(parsing: stored.note)
                    note.signatures.removeAll { $0.name == "witness.example/w1" }
                    try await services.logs.updateCheckpoint(.audit, size: stored.size, note: note.serialized, publishedAt: nil)
                }
                let next = try await services.checkpoint(.audit)
                #expect(next.publishedAt != nil)
                #expect(try await services.verifyLogs().allSatisfy(\.holds))
                // Rewind everything we hold, checkpoints included: the witness still knows better.
                let keep = next.size - 3
                try await Self.sql(services).raw("DELETE FROM audit_entries WHERE sequence > \(bind: Int(keep))").run()
                try await Self.sql(services).raw("DELETE FROM log_checkpoints WHERE log = 1").run()
                try await Self.rewindTree(.audit, to: keep, services)
                let audit = try #require(try await services.verifyLogs().first { $0.log == .audit })
                #expect(!audit.holds)
                #expect(audit.firstBadIndex == keep)
                #expect(audit.problems.contains { $0.message.contains("witness w1 cosigned size \(next.size)") })
            }
        }
    }

    /// The customer downloads a tlog-proof for its demand from the portal; it verifies offline with
    /// the published key, opens the customer's own subject field, and fails if any part is altered.
    @Test(arguments: stores)
    func theCustomerPortalHandsOutWorkingProofs(store: Store) async throws {
        try await ServerTests.withApp(reader: try await Self.reader(store)) { client, tokens, services in
            let tenancy = try await CustomerPortalTests.tenant("Contoso", services)
            let opened = try await CustomerPortalTests.caseInReview(for: tenancy, reference: "P-1", gag: false, client, tokens, services)
            _ = try await services.notices.releaseLapsed(at: services.now())  // its gag ended on 2026-05-05
            let (session, _) = try await CustomerPortalTests.signIn(tenancy.tenant, client, services)
            let path = "/customer/cases/\(opened.id.uuidString.lowercased())/proof.tlog-proof"
            try await client.execute(uri: path, method: .get, headers: session) { #expect($0.status == .notFound) }
            let report = try await services.publishLegalProcessBatch()
            #expect(report.demands == 1, "\(report)")
            #expect(try await services.customerProof(caseID: opened.id) != nil)
            try await client.execute(uri: "/customer", method: .get, headers: session) { response in
                #expect(String(buffer: response.body).contains(path))
            }
            let text = try await client.execute(uri: path, method: .get, headers: session) { response in
                #expect(response.status == .ok)
                return String(buffer: response.body)
            }
            let proof = try TlogProof(parsing: text)
            let log = try #require(try NoteKey.verifier(services.verifierKey(of: .legalProcess)) as? Ed25519NoteVerifier)
            let (entry, fields) = try LegalProcessLog.verifyBundle(try #require(proof.extra))
            _ = try proof.verify(leafHash: MerkleHash.leaf(entry), log: log)
            #expect(fields.map(\.value) == ["email:\(tenancy.email)"])
            #expect(try await services.cases.timeline(caseID: opened.id).contains { $0.record.action == "log.proof.downloaded" })
            // Tamper with each component in turn: every change is refused.
            var wrongIndex = proof
            wrongIndex.index += 1
            #expect(throws: TlogProof.Failure.self) { try wrongIndex.verify(leafHash: MerkleHash.leaf(entry), log: log) }
            var wrongPath = proof
            if !wrongPath.path.isEmpty { wrongPath.path[0][0] ^= 1 } else { wrongPath.path.append(Data(repeating: 0, count: 32)) }
            #expect(throws: TlogProof.Failure.self) { try wrongPath.verify(leafHash: MerkleHash.leaf(entry), log: log) }
            var wrongEntry = entry
            wrongEntry[wrongEntry.startIndex + 20] ^= 1
            #expect(throws: TlogProof.Failure.self) { try proof.verify(leafHash: MerkleHash.leaf(wrongEntry), log: log) }
            var wrongSignature = proof
            wrongSignature.checkpoint.signatures[0].payload[0] ^= 1
            #expect(throws: TlogProof.Failure.self) { try wrongSignature.verify(leafHash: MerkleHash.leaf(entry), log: log) }
            var forged = fields[0]
            forged.value = "email:someone-else@example.com"
            #expect(throws: LegalProcessLog.BundleFailure.self) { try LegalProcessLog.verifyBundle(LegalProcessLog.noticeBundle(entry: entry, openings: [forged])) }
            var wrongSalt = fields[0]
            wrongSalt.salt[0] ^= 1
            #expect(throws: LegalProcessLog.BundleFailure.self) { try LegalProcessLog.verifyBundle(LegalProcessLog.noticeBundle(entry: entry, openings: [wrongSalt])) }
            // Another tenant sees nothing.
            let other = try await CustomerPortalTests.tenant("Fabrikam", services)
            let (otherSession, _) = try await CustomerPortalTests.signIn(other.tenant, client, services)
            try await client.execute(uri: path, method: .get, headers: otherSession) { #expect($0.status == .notFound) }
        }
    }

    /// A batch is read and published a few records at a time, each piece in its own transaction
    /// (a busy day's batch once held the writer for seconds); the log it leaves is the one a
    /// single piece would: every stage in intake order, each record pointing at its own entry,
    /// each intake proof the audit log's own, and nothing left pending or published twice.
    @Test(arguments: stores)
    func aBatchIsPublishedInPiecesInIntakeOrder(store: Store) async throws {
        try await ServerTests.withApp(reader: try await Self.reader(store)) { client, tokens, services in
            try await Self.file((1...5).map { "1:26-mj-10\($0)" }, client, tokens)
            // A sixth case goes through to the end, so its disposition and opening follow in the same batch.
            let tenancy = try await CustomerPortalTests.tenant("Contoso", services)
            let answered = try await CustomerPortalTests.caseInReview(for: tenancy, reference: "P-9", gag: false, client, tokens, services)
            _ = try await services.notices.releaseLapsed(at: services.now())
            let (session, csrf) = try await CustomerPortalTests.signIn(tenancy.tenant, client, services)
            var post = session
            post[.contentType] = "application/x-www-form-urlencoded"
            try await client.execute(
                uri: "/customer/cases/\(answered.id.uuidString.lowercased())/answer", method: .post, headers: post,
                body: ByteBuffer(string: "_csrf=\(csrf)&answer=answer_directly")) { #expect($0.status == .seeOther) }
            #expect(try await services.cases.findCase(id: answered.id)?.state == .closed)

            let report = try await services.publishLegalProcessBatch(piece: 2)
            #expect(report.demands == 6 && report.dispositions == 1 && report.openings == 1, "\(report)")
            let entries = try await services.logs.allEntries(.legalProcess)
            #expect(entries.count == 8 && report.size == 8)
            let records = try await services.legalProcess.all()
            #expect(records.map(\.demandIndex) == (0..<6).map { Optional(UInt64($0)) })
            let audit = try #require(try await services.logs.latestCheckpoint(.audit, publishedOnly: true))
            for (record, entry) in zip(records, entries) {
                let parsed = try LegalProcessLog.parse(entry.data)
                #expect(parsed.value("record") == record.commitment.root.base64EncodedString())
                let intake = try #require(parsed.value("intake")?.split(separator: " "))
                #expect(UInt64(intake[0]) == record.intakeIndex)
                let proof = try #require(parsed.value("intake-proof")?.split(separator: " ")).dropFirst().map { Data(base64Encoded: String($0))! }
                // The proofs read together for the piece are the ones the log gives one by one.
                #expect(proof == (try await services.logs.inclusionProof(.audit, index: record.intakeIndex, size: audit.size)))
                try ProofVerification.verifyInclusion(
                    index: record.intakeIndex, size: audit.size, leafHash: Data(base64Encoded: String(intake[1]))!, proof: proof, root: audit.root)
            }
            let closed = try #require(records.first { $0.caseID == answered.id })
            #expect(closed.dispositionIndex == 6 && closed.openingIndex == 7)
            #expect(try LegalProcessLog.parse(entries[6].data).value("demand") == closed.demandIndex.map(String.init))
            #expect(try LegalProcessLog.parse(entries[7].data).value("demand") == closed.demandIndex.map(String.init))

            let again = try await services.publishLegalProcessBatch(piece: 2)
            #expect(again == CustosServices.BatchReport(size: 8))
            #expect(try await services.verifyLogs().allSatisfy(\.holds))
        }
    }

    /// A piece that finds one of its records already published (another publisher got there
    /// first) is refused whole and changes nothing.
    @Test(arguments: stores)
    func aPieceWithARecordAlreadyPublishedChangesNothing(store: Store) async throws {
        try await ServerTests.withApp(reader: try await Self.reader(store)) { client, tokens, services in
            try await Self.file((1...2).map { "1:26-mj-20\($0)" }, client, tokens)
            let records = try await services.legalProcess.unpublished(.demand)
            #expect(records.count == 2)
            _ = try await services.legalProcess.publish(.demand, entries: [(records[1].caseID, Data("first".utf8))])
            await #expect(throws: LegalProcessStore.PublishError.self) {
                _ = try await services.legalProcess.publish(.demand, entries: [(records[0].caseID, Data("a".utf8)), (records[1].caseID, Data("b".utf8))])
            }
            #expect(try await services.logs.head(.legalProcess).size == 1)
            #expect(try await services.legalProcess.unpublished(.demand).map(\.caseID) == [records[0].caseID])
        }
    }

    /// Two publishers at once (two instances' rounds, or a server and `custos log publish`): neither
    /// fails, each record is logged once, and the logs verify (issue 28: the loser exited 1).
    @Test(arguments: stores)
    func publishersAtTheSameMomentBothSucceedAndLogEachRecordOnce(store: Store) async throws {
        try await ServerTests.withApp(reader: try await Self.reader(store)) { client, tokens, services in
            try await Self.file((1...12).map { "1:26-mj-3\($0)" }, client, tokens)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<3 { group.addTask { _ = try await services.publishLegalProcessBatch(piece: 2) } }
                try await group.waitForAll()
            }
            #expect(try await services.legalProcess.unpublished(.demand).isEmpty)
            let entries = try await services.logs.allEntries(.legalProcess).map(\.data)
            #expect(entries.count == 12 && Set(entries).count == entries.count, "each demand logged once")
            #expect(try await services.verifyLogs().allSatisfy(\.holds))
        }
    }

    /// The canary reads only the cases that can change a statement (disclosures, national-security
    /// process), found by their columns; its statements over them are those over every case.
    @Test(arguments: stores)
    func theCanaryReadsOnlyTheCasesItsStatementsDependOn(store: Store) async throws {
        try await ServerTests.withApp(reader: try await Self.reader(store)) { client, tokens, services in
            try await Self.populate(client, tokens, services)  // two warrants in review, one NSL
            let released = try await AccessMatrixTests.releasedCase(client, tokens, services, reference: "CANARY-1")
            let all = try await services.cases.listCases(CaseFilter(limit: Int.max))
            #expect(all.count == 4)
            let bearing = try await services.cases.casesBearingOnCanary()
            let nationalSecurity = try #require(all.first { $0.instrument.isNationalSecurity })
            #expect(Set(bearing.map(\.id)) == [released.id, nationalSecurity.id])
            #expect(Set(bearing.map(\.id)) == Set(all.filter(Canary.bearsOnStatements).map(\.id)))
            for includeNationalSecurity in [false, true] {
                #expect(Canary.statements(cases: bearing, checkpointsConsistent: true, includeNationalSecurity: includeNationalSecurity)
                    == Canary.statements(cases: all, checkpointsConsistent: true, includeNationalSecurity: includeNationalSecurity))
            }
        }
    }

    /// Checkpoints are held to the tree a page at a time; a wrong root anywhere is found, whatever
    /// page it falls on.
    @Test(arguments: stores)
    func everyCheckpointIsHeldToTheTreePageByPage(store: Store) async throws {
        try await ServerTests.withApp(reader: try await Self.reader(store)) { client, tokens, services in
            for number in 1...4 {
                try await Self.file(["1:26-mj-30\(number)"], client, tokens)
                try await services.checkpoint(.audit)
            }
            let stored = try await services.logs.checkpoints(.audit)
            #expect(stored.count >= 4)
            for page in [1, 2, 256] { #expect(try await services.logs.checkpointsMatchTree(.audit, page: page)) }
            let middle = stored[stored.count / 2]
            let sql = Self.sql(services)
            try await sql.raw("UPDATE log_checkpoints SET root = \(bind: Data(repeating: 7, count: 32)) WHERE log = 1 AND size = \(bind: Int64(middle.size))").run()
            for page in [1, 2, 256] { #expect(try await services.logs.checkpointsMatchTree(.audit, page: page) == false, "page \(page)") }
            #expect(try await services.checkpointsAreConsistent() == false)
        }
    }

    /// The canary is a signed note of statements computed from state; one that stops being true
    /// is dropped and never returns.
    @Test func theCanaryDropsAStatementThatStopsBeingTrueForGood() async throws {
        try await ServerTests.withApp { client, tokens, services in
            try await Self.populate(client, tokens, services)
            let first = try await services.publishCanary()
            let note = try SignedNote(parsing: first)
            try note.verify(with: [services.transparencyKeys.canary.verifier])
            #expect(note.text.contains("statement logs-consistent "))
            #expect(note.text.contains("statement no-keys-disclosed "))
            #expect(note.text.contains("checkpoint custos.example/log/legal-process ") == false)  // not this test's public URL
            let lptl = try #require(try await services.logs.latestCheckpoint(.legalProcess, publishedOnly: true))
            #expect(lptl.size == 5)  // two demands and the three statements the first canary made
            #expect(note.text.contains("checkpoint \(services.origin(of: .legalProcess)) 5 \(lptl.root.base64EncodedString())\n"))
            // Break consistency: a stored checkpoint whose root the tree does not give.
            let sql = Self.sql(services)
            let original = try #require(try await services.logs.latestCheckpoint(.audit, publishedOnly: false))
            try await sql.raw("UPDATE log_checkpoints SET root = \(bind: Data(repeating: 7, count: 32)) WHERE log = 1 AND size = \(bind: Int64(original.size))").run()
            let second = try await services.publishCanary()
            #expect(!second.contains("logs-consistent"))
            #expect(second.contains("no-keys-disclosed"))
            try await sql.raw("UPDATE log_checkpoints SET root = \(bind: original.root) WHERE log = 1 AND size = \(bind: Int64(original.size))").run()
            #expect(try await services.checkpointsAreConsistent())
            #expect(!(try await services.publishCanary()).contains("logs-consistent"))
            // Each statement made, and the drop, are witnessed entries of the public log.
            let statements = try await services.logs.allEntries(.legalProcess).compactMap { try? LegalProcessLog.parse($0.data) }
                .filter { $0.header == "lplog/v1 statement" }.compactMap { $0.value("text").flatMap { Data(base64Encoded: $0) } }
                .map { String(decoding: $0, as: UTF8.self) }
            #expect(statements.filter { $0.hasPrefix("Canary statement made: ") }.count == 3)
            #expect(statements.contains("Canary statement dropped: Every checkpoint of the audit and legal-process logs is consistent with all earlier ones."))
            try await client.execute(uri: "/transparency/canary", method: .get) { response in
                #expect(String(buffer: response.body).hasPrefix("custos-canary/v1 "))
            }
        }
    }
}
