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
/// AES-256-GCM under the data folder's storage key; `custos keys rotate` reseals everything with a
/// new key and removes the old one; an altered value never reads back as something else.
@Suite struct EncryptionAtRestTests {
    @Test func theSealerRoundTripsRefusesAlteredValuesAndReadsOldPlaintext() throws {
        let sealer = DocumentSealer.ephemeral()
        let plain = Data("%PDF-1.4 secret warrant".utf8)
        let sealed = try sealer.seal(plain)
        #expect(sealed != plain && !String(decoding: sealed, as: UTF8.self).contains("secret warrant"))
        #expect(try sealer.open(sealed) == plain && sealer.isCurrent(sealed))
        #expect(try sealer.seal(plain) != sealed, "a fresh nonce every time")
        var altered = sealed
        altered[altered.count - 20] ^= 0x01
        #expect(throws: DocumentSealer.SealError.self) { try sealer.open(altered) }
        #expect(throws: DocumentSealer.SealError.self) { try DocumentSealer.ephemeral().open(sealed) }
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

            // What `custos keys rotate` does: a new key, everything resealed, the old key removed.
            let rotated = try DocumentSealer.rotate(folder: folder)
            #expect(rotated.currentID != firstKey)
            let reopened = try CustosDatabase(location: services.database.location, logger: services.logger, sealer: rotated)
            let result = try await StorageKeyRotation.reseal(reopened, actor: "test", at: services.now())
            #expect(result.documents == 1 && result.secondFactorKeys == 1)
            #expect(try rotated.retireOldKeys(folder: folder) == 1)
            let keyFiles = try FileManager.default.contentsOfDirectory(atPath: folder + "/storage-keys").filter { $0.hasSuffix(".key") }
            #expect(keyFiles == ["\(rotated.currentID!).key"])
            #expect(rotated.isCurrent(try await stored()))
            #expect(try await SQLCaseRepository(store: reopened).findDocument(id: documentID)?.bytes == Data("%PDF-1.4 test".utf8))
            #expect(try await SecondFactorStore(store: reopened).status(principalID: person.id)?.secret == secret)
            // A second run finds nothing left to reseal.
            let again = try await StorageKeyRotation.reseal(reopened, actor: "test", at: services.now())
            #expect(again.documents == 0 && again.attachments == 0 && again.secondFactorKeys == 0)
            #expect(try DocumentSealer.load(folder: folder, environmentKey: nil).currentID == rotated.currentID)
            await reopened.shutdown()
        }
    }
}
