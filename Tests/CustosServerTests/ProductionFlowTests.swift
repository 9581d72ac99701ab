import CustosDomain
@testable import CustosServer
import CustosStorage
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SQLKit
import Testing

/// Issue 5 end to end through the API: an approved case's `start_collection` builds a signed
/// package from the data source, cuts what the plan does not allow, records both, and moves on.
@Suite struct ProductionFlowTests {
    @Test func startCollectionBuildsASignedPackageAndCutsWhatTheOrderDoesNotReach() async throws {
        try await ServerTests.withApp { client, tokens, services in
            let tenant = Tenant(id: UUID(), name: "Prod Co", kind: .consumer, country: "US", dataLocation: "US")
            try await services.directory.createTenant(tenant, accounts: [CustomerAccount(id: UUID(), tenantID: tenant.id, accountID: "acct-prod-1", email: "p1@example.com")])
            let subject = try await NoticeDeliveryTests.caseInReview(client, tokens, services, reference: "P-1")
            // caseInReview targets acct-P-1's address; the tenant above is a second customer the order does not name
            let named = try await services.directory.accountIDs(for: try #require(try await services.cases.findDemand(id: subject.demandID)).targets)
            #expect(named == ["acct-P-1"])
            let t = Timestamp.parse("2026-01-15T12:00:00Z")!  // inside the order's window
            try await services.demoRecords.add([
                CustomerRecord(account: "acct-P-1", category: .subscriberInfo, timestamp: t, mediaType: "application/json", bytes: Data(#"{"name":"P"}"#.utf8), sourceID: "in-1"),
                CustomerRecord(account: "acct-P-1", category: .encryptionKeys, timestamp: t, mediaType: "application/json", bytes: Data(#"{"key":"secret"}"#.utf8), sourceID: "key-1"),
                CustomerRecord(account: "acct-prod-1", category: .subscriberInfo, timestamp: t, mediaType: "application/json", bytes: Data("{}".utf8), sourceID: "other-1"),
            ])
            let events = "/api/v1/cases/\(subject.id.uuidString.lowercased())/events"
            for token in [tokens.approver1, tokens.approver2] {
                try await client.execute(uri: events, method: .post, headers: ServerTests.headers(token), body: ByteBuffer(string: #"{"type": "approve_scope", "categories": ["subscriber_info"]}"#)) { response throws in
                    #expect(response.status == .ok)
                }
            }
            let custodian = Principal(id: UUID(), email: "cu@p.example", displayName: "CU", kind: .staff, roles: [.custodian])
            try await services.identity.createPrincipal(custodian, passwordHash: "unused", at: services.now())
            let token = try await services.identity.issueToken(for: custodian.id, label: "t", at: services.now()).token
            // the rebuild route refuses a case that is not collecting
            try await client.execute(uri: "/api/v1/cases/\(subject.id.uuidString.lowercased())/production", method: .post, headers: ServerTests.headers(token)) { response throws in
                #expect(response.status == .conflict)
            }
            try await client.execute(uri: events, method: .post, headers: ServerTests.headers(token), body: ByteBuffer(string: #"{"type": "start_collection"}"#)) { response throws in
                #expect(response.status == .ok)
                let body = try ServerTests.json(response.body)
                #expect(body["state"] as? String == "collecting", "\(body)")
            }
            // start_collection queued the build in its own transaction; the case page says so and reloads itself
            let caseURI = "/staff/cases/\(subject.id.uuidString.lowercased())"
            let queued = try await ServerTests.consolePage(caseURI, client: client, services: services, roles: [.approver])
            #expect(queued.contains(#"id="package-queued""#) && queued.contains(#"http-equiv="refresh""#))
            try await client.execute(uri: "/api/v1/cases/\(subject.id.uuidString.lowercased())/production", method: .get, headers: ServerTests.headers(token)) { response throws in
                let packages = try ServerTests.json(response.body)["packages"] as? [[String: Any]]
                #expect(packages?.first?["status"] as? String == "queued", "\(String(describing: packages))")
            }
            // the package runner builds it
            let report0 = try await PackageRunner(services: services).tick(at: services.now())
            #expect(report0.built == 1)
            let stored = try #require(try await services.cases.findCase(id: subject.id))
            #expect(stored.state == .readyForRelease)
            let record = try #require(try await services.packages.record(caseID: subject.id, purpose: .production))
            #expect(record.status == .built && record.files == 1 && record.recordsRead == 2 && record.recordsExpected == 2)
            #expect(stored.recordsCollected == 1)
            let report = await services.verifyStoredPackage(caseID: subject.id)
            #expect(report.isValid, "\(report.problems)")
            // Issue 10: the stored package is sealed; no ZIP structure or record byte is on disk in the clear.
            let onDisk = try Data(contentsOf: services.packageURL(caseID: subject.id))
            #expect(services.packageURL(caseID: subject.id).lastPathComponent.hasSuffix(".zip.sealed"))
            #expect(onDisk.starts(with: Data("CSF1".utf8)))
            #expect(onDisk.range(of: Data("PK\u{3}\u{4}".utf8)) == nil && onDisk.range(of: Data(#"{"name":"P"}"#.utf8)) == nil)
            #expect(onDisk.range(of: Data("manifest.json".utf8)) == nil && onDisk.range(of: Data("acct-P-1".utf8)) == nil)
            // without the storage key it is not a package at all
            #expect(await !PackageVerifier.verify(services.packageURL(caseID: subject.id), publicKey: services.signingKey.publicKey).isValid)
            #expect(report.manifest?.files.map(\.sourceID) == ["in-1"])
            #expect(report.manifest?.cut["key_material"] == 1)
            // the demo store returns only the named accounts, so the other customer's record is never read
            #expect(report.manifest?.cut["wrong_account"] == 0)
            let timeline = try await services.cases.timeline(caseID: subject.id)
            let built = try #require(timeline.first { $0.record.action == "production.built" })
            #expect(built.record.details["merkleRoot"] == report.manifest?.merkleRoot && built.record.details["cut.key_material"] == "1")
            #expect(timeline.first { $0.record.action == "production.cut" }?.record.details["examples"]?.contains("key_material acct-P-1 encryption_keys key-1") == true)
            #expect(timeline.contains { $0.record.action == "case.collection_finished" })
            // anyone can fetch the key that signed it
            try await client.execute(uri: "/.well-known/custos/signing-key.pem", method: .get) { response throws in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == services.signingKey.publicKeyPEM)
            }
            // staff see the package on the case page and download it; the download is logged
            let page = try await ServerTests.consolePage("/staff/cases/\(subject.id.uuidString.lowercased())", client: client, services: services, roles: [.approver])
            let root = try #require(report.manifest?.merkleRoot)
            #expect(page.contains(#"id="production-package""#) && page.contains(root) && page.contains("key material 1"))
            let zip = try await ServerTests.consolePage("/staff/cases/\(subject.id.uuidString.lowercased())/package", client: client, services: services, roles: [.approver])
            #expect(zip.hasPrefix("PK"))
            let size: Int? = try await services.openPackage(caseID: subject.id)?.plainSize
            #expect(size ?? 0 < onDisk.count, "sealing adds a header and a tag per chunk")
            let downloaded = try await services.cases.timeline(caseID: subject.id).first { $0.record.action == "package.downloaded" }
            #expect(downloaded?.record.outcome == .read && downloaded?.record.details["bytes"] == size.map(String.init))
            try await client.execute(uri: "/staff/cases/\(subject.id.uuidString.lowercased())/package", method: .get, headers: ServerTests.headers(tokens.officer)) { response throws in
                #expect(response.status == .forbidden || response.status == .notFound)
            }

            // release (two approvals, then the custodian) opens the requester's download for 14 days
            for approver in [tokens.approver1, tokens.approver2] {
                try await client.execute(uri: events, method: .post, headers: ServerTests.headers(approver), body: ByteBuffer(string: #"{"type": "approve_release"}"#)) { response throws in
                    #expect(response.status == .ok)
                }
            }
            let agencyPath = "/agency/cases/\(subject.id.uuidString.lowercased())/package"
            try await client.execute(uri: agencyPath, method: .get, headers: [.authorization: "Bearer \(tokens.officer)"]) { response throws in
                #expect(response.status == .notFound, "nothing to download before release")
            }
            // release needs a verifying package: without its file it is refused, with it it goes ahead
            let packageFile = services.packageURL(caseID: subject.id)
            let aside = packageFile.appendingPathExtension("aside")
            try FileManager.default.moveItem(at: packageFile, to: aside)
            try await client.execute(uri: events, method: .post, headers: ServerTests.headers(token), body: ByteBuffer(string: #"{"type": "release"}"#)) { response throws in
                #expect(response.status == .conflict)
                #expect(String(buffer: response.body).contains("does not verify"))
            }
            #expect(try await services.packageLinks.link(caseID: subject.id) == nil)
            try FileManager.default.moveItem(at: aside, to: packageFile)
            try await client.execute(uri: events, method: .post, headers: ServerTests.headers(token), body: ByteBuffer(string: #"{"type": "release"}"#)) { response throws in
                #expect(response.status == .ok)
            }
            let link = try #require(try await services.packageLinks.link(caseID: subject.id))
            // opened in the release event's own transaction: its entry directly follows case.release
            let actions = try await services.cases.timeline(caseID: subject.id).map(\.record.action)
            let released = try #require(actions.firstIndex(of: "case.release"))
            #expect(actions.dropFirst(released + 1).first == "package.link_opened")
            #expect(abs(link.expiresAt.timeIntervalSince(link.createdAt) - 14 * 86_400) < 1)
            let list = try await client.execute(uri: "/agency/demands", method: .get, headers: [.authorization: "Bearer \(tokens.officer)"]) { String(buffer: $0.body) }
            #expect(list.contains(agencyPath))
            try await client.execute(uri: agencyPath, method: .get, headers: [.authorization: "Bearer \(tokens.officer)"]) { response throws in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "application/zip")
                #expect(response.body.readableBytes == size)
                // what the agency receives is the plain signed ZIP, which a stock ZIP reader checks
                let received = FileManager.default.temporaryDirectory.appendingPathComponent("received-\(UUID().uuidString).zip")
                try Data(response.body.readableBytesView).write(to: received)
                defer { try? FileManager.default.removeItem(at: received) }
                let plain = await PackageVerifier.verify(received, publicKey: services.signingKey.publicKey)
                #expect(plain.isValid && plain.manifest?.merkleRoot == root, "\(plain.problems)")
            }
            let logged = try #require(try await services.cases.timeline(caseID: subject.id).last { $0.record.action == "package.downloaded" })
            #expect(logged.record.actor.hasPrefix("agency:") && logged.record.details["via"] == "agency portal" && logged.record.details["bytes"] == size.map(String.init))
            // another agency never reaches it
            try await client.execute(uri: agencyPath, method: .get, headers: [.authorization: "Bearer \(tokens.otherOfficer)"]) { response throws in
                #expect(response.status == .notFound)
            }
            // revoked: refused, and the refusal is on record
            let revoke = "/api/v1/cases/\(subject.id.uuidString.lowercased())/production/revoke"
            try await client.execute(uri: revoke, method: .post, headers: ServerTests.headers(tokens.officer), body: ByteBuffer(string: #"{"reason": "x"}"#)) { response throws in
                #expect(response.status == .forbidden)
            }
            try await client.execute(uri: revoke, method: .post, headers: ServerTests.headers(tokens.reviewer), body: ByteBuffer(string: #"{"reason": "sent to the wrong unit"}"#)) { response throws in
                #expect(response.status == .ok)
            }
            try await client.execute(uri: agencyPath, method: .get, headers: [.authorization: "Bearer \(tokens.officer)"]) { response throws in
                #expect(response.status == .gone)
                #expect(String(buffer: response.body).contains("revoked"))
            }
            #expect(try await services.cases.timeline(caseID: subject.id).contains { $0.record.action == "package.download_refused" && $0.record.outcome == .refused })
            // expired: refused as well
            _ = try await services.packageLinks.open(
                caseID: subject.id, agencyID: subject.agencyID, at: services.now().addingTimeInterval(-15 * 86_400),
                expiresAt: services.now().addingTimeInterval(-86_400), by: "test")
            try await client.execute(uri: agencyPath, method: .get, headers: [.authorization: "Bearer \(tokens.officer)"]) { response throws in
                #expect(response.status == .gone)
                #expect(String(buffer: response.body).contains("expired"))
            }

            // retention: once CUSTOS_PACKAGE_RETENTION_DAYS (90) have passed since the build, the
            // runner deletes the file and leaves a tombstone naming what it was
            _ = try await services.packageLinks.open(
                caseID: subject.id, agencyID: subject.agencyID, at: services.now(), expiresAt: services.now().addingTimeInterval(200 * 86_400), by: "test")
            let runner = PackageRunner(services: services)
            #expect(try await runner.tick(at: services.now().addingTimeInterval(89 * 86_400)).deleted == 0)
            #expect(try await runner.tick(at: services.now().addingTimeInterval(91 * 86_400)).deleted == 1)
            #expect(!FileManager.default.fileExists(atPath: services.packageURL(caseID: subject.id).path))
            let tombstone = try #require(try await services.cases.timeline(caseID: subject.id).last { $0.record.action == "package.deleted" })
            #expect(tombstone.record.details["merkleRoot"] == root && tombstone.record.details["purpose"] == "production")
            #expect(tombstone.record.details["manifestSHA256"] == built.record.details["manifestSHA256"])
            #expect(try await services.packages.record(caseID: subject.id, purpose: .production)?.status == .deleted)
            try await client.execute(uri: agencyPath, method: .get, headers: [.authorization: "Bearer \(tokens.officer)"]) { response throws in
                #expect(response.status == .gone)
                #expect(String(buffer: response.body).contains("retention"))
            }
            let afterDeletion = try await ServerTests.consolePage(caseURI, client: client, services: services, roles: [.approver])
            #expect(afterDeletion.contains(#"id="package-deleted""#) && afterDeletion.contains(root) && !afterDeletion.contains(#"http-equiv="refresh""#))
            #expect(try await runner.tick(at: services.now().addingTimeInterval(92 * 86_400)).deleted == 0, "a tombstone is written once")
        }
    }

    /// A package build that loses its claim to another builder waits; a stale claim is taken over.
    @Test func onlyOneBuilderAtATime() async throws {
        try await ServerTests.withApp { client, tokens, services in
            let subject = try await NoticeDeliveryTests.caseInReview(client, tokens, services, reference: "B-1")
            let t = services.now()
            #expect(try await services.packages.claim(caseID: subject.id, purpose: .production, requestedBy: "a", expected: nil, at: t))
            #expect(try await !services.packages.claim(caseID: subject.id, purpose: .production, requestedBy: "b", expected: nil, at: t.addingTimeInterval(10)))
            await #expect(throws: StorageError.self) {
                try await services.packages.requeue(caseID: subject.id, purpose: .production, by: "c", at: t.addingTimeInterval(10))
            }
            // a builder silent for longer than PackageStore.staleAfter is taken to have died
            #expect(try await services.packages.claim(caseID: subject.id, purpose: .production, requestedBy: "b", expected: nil, at: t.addingTimeInterval(PackageStore.staleAfter + 1)))
        }
    }

    /// A case in `collecting` with its production build queued (approved by two approvers, started by a custodian).
    static func collecting(_ client: any TestClientProtocol, _ tokens: ServerTests.Tokens, _ services: CustosServices, reference: String) async throws -> Case {
        let subject = try await NoticeDeliveryTests.caseInReview(client, tokens, services, reference: reference)
        try await services.demoRecords.add([CustomerRecord(
            account: "acct-\(reference)", category: .subscriberInfo, timestamp: Timestamp.parse("2026-01-15T12:00:00Z")!, mediaType: "application/json",
            bytes: Data(#"{"name":"R"}"#.utf8), sourceID: "r-\(reference)")])
        let events = "/api/v1/cases/\(subject.id.uuidString.lowercased())/events"
        for token in [tokens.approver1, tokens.approver2] {
            try await client.execute(uri: events, method: .post, headers: ServerTests.headers(token), body: ByteBuffer(string: #"{"type": "approve_scope", "categories": ["subscriber_info"]}"#)) {
                #expect($0.status == .ok)
            }
        }
        let custodian = Principal(id: UUID(), email: "cu-\(reference.lowercased())@p.example", displayName: "CU", kind: .staff, roles: [.custodian])
        try await services.identity.createPrincipal(custodian, passwordHash: "unused", at: services.now())
        let token = try await services.identity.issueToken(for: custodian.id, label: "t", at: services.now()).token
        try await client.execute(uri: events, method: .post, headers: ServerTests.headers(token), body: ByteBuffer(string: #"{"type": "start_collection"}"#)) {
            #expect($0.status == .ok)
        }
        let stored = try #require(try await services.cases.findCase(id: subject.id))
        #expect(stored.state == .collecting)
        return stored
    }

    /// Issue 29: a finished build is saved in one transaction (package record, audit entries and
    /// the case's move on). A crash inside it, here a fault the database raises just as the case
    /// moves, leaves none of it: the package is not marked built, no entry says it was, and the
    /// retry builds it and moves the case on. A case an older version left behind (package built,
    /// case still collecting, because it saved the finish in three steps and crashed between
    /// them) is moved on by the runner, whether its build job is still there or long done.
    @Test func aFinishedBuildIsSavedWholeAndALaggingCaseIsMovedOn() async throws {
        try await ServerTests.withApp { client, tokens, services in
            let sql = services.database.database as! any SQLDatabase
            let runner = PackageRunner(services: services)
            let crashed = try await Self.collecting(client, tokens, services, reference: "F-1")
            try await sql.raw("""
                CREATE TRIGGER crash_in_finish BEFORE UPDATE OF state ON cases WHEN NEW.state = 'ready_for_release'
                BEGIN SELECT RAISE(ABORT, 'injected crash inside the finish'); END
                """).run()
            #expect(try await runner.tick(at: services.now()).failed == 1)
            #expect(try await services.cases.findCase(id: crashed.id)?.state == .collecting)
            #expect(try await services.packages.record(caseID: crashed.id, purpose: .production)?.status == .failed)
            #expect(try await !services.cases.timeline(caseID: crashed.id).contains { $0.record.action == "production.built" })
            try await sql.raw("DROP TRIGGER crash_in_finish").run()
            // the job's retry (after its backoff) builds it whole
            #expect(try await runner.tick(at: services.now().addingTimeInterval(3600)).built == 1)
            #expect(try await services.cases.findCase(id: crashed.id)?.state == .readyForRelease)
            let entries = try await services.cases.timeline(caseID: crashed.id).map(\.record.action)
            #expect(entries.filter { $0 == "production.built" }.count == 1)
            let built = try #require(entries.firstIndex(of: "production.built"))
            #expect(entries[built...].contains("case.collection_finished"))
            #expect(await services.verifyStoredPackage(caseID: crashed.id).isValid)

            // What an older version left after a crash between its steps: built, still collecting.
            func leftBehind(_ reference: String) async throws -> Case {
                let subject = try await Self.collecting(client, tokens, services, reference: reference)
                #expect(try await services.packages.claim(caseID: subject.id, purpose: .production, requestedBy: "old", expected: 1, at: services.now()))
                try await services.packages.built(caseID: subject.id, purpose: .production, read: 1, files: 1, bytes: 100, manifestSHA256: "ab", merkleRoot: "cd", at: services.now())
                return subject
            }
            let jobWaiting = try await leftBehind("F-2")
            let later = services.now().addingTimeInterval(7200)
            #expect(try await runner.tick(at: later).built == 1)
            let repaired = try #require(try await services.cases.findCase(id: jobWaiting.id))
            #expect(repaired.state == .readyForRelease && repaired.recordsCollected == 1)
            // The job was completed by the older runner, which took the built package as done.
            let jobDone = try await leftBehind("F-3")
            for job in try await services.jobs.lease(kinds: [PackageStore.buildJob], limit: 10, owner: "old", at: later, leaseFor: 60) {
                _ = try await services.jobs.complete(job.id, owner: "old", at: later)
            }
            #expect(try await services.cases.findCase(id: jobDone.id)?.state == .collecting)
            _ = try await runner.tick(at: later.addingTimeInterval(60))
            #expect(try await services.cases.findCase(id: jobDone.id)?.state == .readyForRelease)
            #expect(try await services.packages.builtWhileCollecting().isEmpty)
        }
    }
}
