import Configuration
import CustosDomain
@testable import CustosServer
import CustosStorage
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SQLKit
import Testing

/// Issue 10, item 5 (part): uploaded documents and second-factor keys are sealed at rest with
/// AES-256-GCM under the installation's storage key (in the keyring); `custos keys rotate` reseals
/// everything with a new key and retires the old one; an altered value never reads back as something else.
@Suite struct EncryptionAtRestTests {
    @Test func theSealerRoundTripsRefusesAlteredValuesAndReadsOldPlaintext() throws {
        let sealer = StorageSealer.ephemeral()
        let plain = Data("%PDF-1.4 secret warrant".utf8)
        let sealed = try sealer.seal(plain)
        #expect(sealed != plain && !String(decoding: sealed, as: UTF8.self).contains("secret warrant"))
        #expect(try sealer.open(sealed) == plain && sealer.isCurrent(sealed))
        #expect(try sealer.seal(plain) != sealed, "a fresh nonce every time")
        var altered = sealed
        altered[altered.count - 20] ^= 0x01
        #expect(throws: StorageSealer.SealError.self) { try sealer.open(altered) }
        #expect(throws: StorageSealer.SealError.self) { try StorageSealer.ephemeral().open(sealed) }
        #expect(try sealer.open(plain) == plain, "a value stored before encryption reads as it is")
        #expect(!sealer.isCurrent(plain))
    }

    @Test func documentsAreSealedOnDiskAndARotationResealsThemAndRetiresTheOldKey() async throws {
        let folder = NSTemporaryDirectory() + "custos-sealed-" + UUID().uuidString
        let reader = ConfigReader(providers: [InMemoryProvider(values: [
            "custos.data.dir": .init(.string(folder), isSecret: false), "custos.log.level": "error", "custos.max.document.bytes": 2048,
        ])])
        try await ServerTests.withApp(reader: reader) { client, tokens, services in
            let demandText = try await client.execute(uri: "/api/v1/demands", method: .post, headers: ServerTests.headers(tokens.officer), body: ByteBuffer(string: ServerTests.demandJSON())) { response in
                try #require(try ServerTests.json(response.body)["id"] as? String)
            }
            let demandID = try #require(UUID(uuidString: demandText))
            let demand = try #require(try await services.cases.findDemand(id: demandID))
            let documentID = try #require(demand.documents.first).id
            let sql = services.database.database as! any SQLDatabase
            func stored() async throws -> Data {
                let row = try #require(try await sql.raw("SELECT content FROM demand_documents WHERE id = \(bind: documentID)").first())
                return try row.decode(column: "content", as: Data.self)
            }
            let firstKey = try #require(services.database.sealer.currentID)
            #expect(!String(decoding: try await stored(), as: UTF8.self).contains("%PDF"), "the file on disk holds no plaintext")
            #expect(try await services.cases.findDocument(id: documentID)?.bytes == Data("%PDF-1.4 test".utf8))
            let person = Principal(id: UUID(), email: "sealed@p.example", displayName: "S", kind: .staff, roles: [.reviewer])
            try await services.identity.createPrincipal(person, passwordHash: "unused", at: services.now())
            let secret = try await ServerTests.enrolSecondFactor(person, services)
            let column = try #require(try await sql.raw("SELECT totp_secret FROM principals WHERE id = \(bind: person.id)").first()).decode(column: "totp_secret", as: String.self)
            #expect(column.hasPrefix("sealed:") && !column.contains(Base32.encode(secret)))
            #expect(try await services.secondFactors.status(principalID: person.id)?.secret == secret)

            // What `custos keys rotate` does: a new key in the keyring, everything resealed, the old key retired.
            let outcome = try await KeyRotation(services: services, wait: 5).rotateStorageKey(actor: "test")
            #expect(outcome.key != firstKey && services.database.sealer.currentID == outcome.key)
            #expect(outcome.resealed.documents == 1 && outcome.resealed.secondFactorKeys == 1)
            #expect(outcome.retired == 1)
            #expect(try await services.keys.keyring.entries().filter { $0.name.hasPrefix("storage/") }.map(\.name) == ["storage/\(outcome.key)"])
            #expect(services.database.sealer.isCurrent(try await stored()))
            // A server started now knows only the new key, and reads everything.
            let reopened = try await buildServices(reader: reader)
            #expect(reopened.database.sealer.keyIDs == [outcome.key])
            #expect(try await reopened.cases.findDocument(id: documentID)?.bytes == Data("%PDF-1.4 test".utf8))
            #expect(try await reopened.secondFactors.status(principalID: person.id)?.secret == secret)
            // A second run finds nothing left to reseal.
            let again = try await StorageKeyRotation.reseal(reopened.database, actor: "test", at: services.now())
            #expect(again.documents == 0 && again.attachments == 0 && again.secondFactorKeys == 0)
            await reopened.shutdown()
        }
    }

    /// A custodian's API token, for starting collections.
    static func custodianToken(_ services: CustosServices) async throws -> String {
        let custodian = Principal(id: UUID(), email: "cu@p.example", displayName: "CU", kind: .staff, roles: [.custodian])
        try await services.identity.createPrincipal(custodian, passwordHash: "unused", at: services.now())
        return try await services.identity.issueToken(for: custodian.id, label: "t", at: services.now()).token
    }

    /// Builds the production package of a new case through the API and the package runner.
    static func builtCase(_ reference: String, _ client: any TestClientProtocol, _ tokens: ServerTests.Tokens, _ services: CustosServices, custodian: String) async throws -> Case {
        let subject = try await NoticeDeliveryTests.caseInReview(client, tokens, services, reference: reference)
        try await services.demoRecords.add([CustomerRecord(
            account: "acct-\(reference)", category: .subscriberInfo, timestamp: Timestamp.parse("2026-01-15T12:00:00Z")!, mediaType: "application/json",
            bytes: Data(#"{"name":"secret subscriber \#(reference)"}"#.utf8), sourceID: "in-\(reference)")])
        let events = "/api/v1/cases/\(subject.id.uuidString.lowercased())/events"
        for (token, body) in [(tokens.approver1, #"{"type": "approve_scope", "categories": ["subscriber_info"]}"#), (tokens.approver2, #"{"type": "approve_scope", "categories": ["subscriber_info"]}"#), (custodian, #"{"type": "start_collection"}"#)] {
            try await client.execute(uri: events, method: .post, headers: ServerTests.headers(token), body: ByteBuffer(string: body)) { response throws in
                #expect(response.status == .ok)
            }
        }
        #expect(try await PackageRunner(services: services).tick(at: services.now()).built == 1)
        return subject
    }

    @Test func packagesAreSealedBoundToTheirCaseAndARotationResealsThem() async throws {
        let folder = NSTemporaryDirectory() + "custos-sealed-pkg-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let reader = ConfigReader(providers: [InMemoryProvider(values: [
            "custos.data.dir": .init(.string(folder), isSecret: false), "custos.log.level": "error",
        ])])
        try await ServerTests.withApp(reader: reader) { client, tokens, services in
            let token = try await Self.custodianToken(services)
            let a = try await Self.builtCase("S-A", client, tokens, services, custodian: token)
            let b = try await Self.builtCase("S-B", client, tokens, services, custodian: token)
            let fileA = services.packageURL(caseID: a.id), fileB = services.packageURL(caseID: b.id)
            #expect(fileA.path.hasPrefix(folder + "/packages/") && fileA.lastPathComponent.hasSuffix(".zip.sealed"))
            for file in [fileA, fileB] {
                let bytes = try Data(contentsOf: file)
                #expect(bytes.range(of: Data("secret subscriber".utf8)) == nil && bytes.range(of: Data("PK".utf8) + Data([3, 4])) == nil)
            }
            let validA = await services.verifyStoredPackage(caseID: a.id).isValid, validB = await services.verifyStoredPackage(caseID: b.id).isValid
            #expect(validA && validB)

            // A's package in B's place does not open there, so B cannot be released with it.
            let savedB = try Data(contentsOf: fileB)
            try FileManager.default.removeItem(at: fileB)
            try FileManager.default.copyItem(at: fileA, to: fileB)
            let swapped = await services.verifyStoredPackage(caseID: b.id)
            #expect(!swapped.isValid && swapped.problems.contains { $0.contains("belongs to package:\(a.id.uuidString.lowercased())") }, "\(swapped.problems)")
            for approver in [tokens.approver1, tokens.approver2] {
                try await client.execute(uri: "/api/v1/cases/\(b.id.uuidString.lowercased())/events", method: .post, headers: ServerTests.headers(approver), body: ByteBuffer(string: #"{"type": "approve_release"}"#)) { response throws in
                    #expect(response.status == .ok)
                }
            }
            try await client.execute(uri: "/api/v1/cases/\(b.id.uuidString.lowercased())/events", method: .post, headers: ServerTests.headers(token), body: ByteBuffer(string: #"{"type": "release"}"#)) { response throws in
                #expect(response.status == .conflict && String(buffer: response.body).contains("does not verify"))
            }
            try savedB.write(to: fileB)

            // A plain package left by a version before sealing is still found and read...
            var plainA = Data()
            try await #require(try await services.openPackage(caseID: a.id)).forEach { plainA.append($0) }
            try plainA.write(to: fileA.deletingPathExtension())
            try FileManager.default.removeItem(at: fileA)
            let plainValid = await services.verifyStoredPackage(caseID: a.id).isValid
            #expect(services.packageURL(caseID: a.id) == fileA.deletingPathExtension() && plainValid)

            // A stale plain copy beside a sealed package (a crash between a rebuild's rename and its
            // clean-up) is never taken for the package, and the rotation removes it.
            try Data("stale".utf8).write(to: fileB.deletingPathExtension())
            #expect(services.packageURL(caseID: b.id) == fileB)

            // ...and `custos keys rotate` seals it, reseals B under the new key, and the old key goes.
            let firstKey = try #require(services.database.sealer.currentID)
            let outcome = try await KeyRotation(services: services, wait: 5).rotateStorageKey(actor: "test")
            #expect(outcome.key != firstKey && outcome.resealed.packages == 2 && outcome.retired == 1)
            #expect(try await services.resealPackages() == 0, "a second run finds nothing to do")
            let after = try await buildServices(reader: reader)
            #expect(after.database.sealer.currentID == outcome.key && after.database.sealer.keyIDs == [outcome.key])
            #expect(!FileManager.default.fileExists(atPath: fileA.deletingPathExtension().path))
            #expect(!FileManager.default.fileExists(atPath: fileB.deletingPathExtension().path))
            for subject in [a, b] {
                let url = after.packageURL(caseID: subject.id)
                let header = try #require(try SealedFileReader(url: url, sealer: after.database.sealer, context: nil).header)
                #expect(header.keyID == outcome.key && header.context == PackageBuilder.sealContext(caseID: subject.id, purpose: .production))
                #expect(await after.verifyStoredPackage(caseID: subject.id).isValid)
            }
            #expect(try await after.cases.auditTrail().contains { $0.record.action == "storage.keys_rotated" && $0.record.details["packages"] == "2" })
            await after.shutdown()
        }
    }

    /// Issue 28: a rotation made elsewhere (another instance, the CLI) reaches a running server at
    /// its next heartbeat, which reseals the packages in its own data folder before it reports the
    /// new key, so the rotation may then retire the old one.
    @Test func aRunningServerResealsItsOwnPackagesWhenTheCurrentKeyChanges() async throws {
        let folder = NSTemporaryDirectory() + "custos-follow-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let reader = ConfigReader(providers: [InMemoryProvider(values: [
            "custos.data.dir": .init(.string(folder), isSecret: false), "custos.log.level": "error",
        ])])
        try await ServerTests.withApp(reader: reader) { client, tokens, services in
            let token = try await Self.custodianToken(services)
            let built = try await Self.builtCase("F-A", client, tokens, services, custodian: token)
            let old = try #require(services.database.sealer.currentID)
            // Another instance rotates: a new key, made current in the keyring.
            let next = try await services.keys.keyring.addStorageKey(at: services.now())
            try await services.keys.keyring.set(Keyring.currentStorageKey, next)
            #expect(services.database.sealer.currentID == old, "nothing changes before the heartbeat")
            try await InstallationRunner(services: services).tick()
            #expect(services.database.sealer.currentID == next)
            let header = try #require(try SealedFileReader(url: services.packageURL(caseID: built.id), sealer: services.database.sealer, context: nil).header)
            #expect(header.keyID == next)
            #expect(await services.verifyStoredPackage(caseID: built.id).isValid)
            let run = try #require(try await services.instanceRuns.live(at: services.now(), staleAfter: 60).first { $0.id == services.run.runID })
            #expect(run.storageCurrent == next && Set(run.storageKnown) == [old, next])
        }
    }
}
