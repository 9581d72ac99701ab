import CustosDomain
@testable import CustosServer
import CustosStorage
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// Issue 5, item 7: a preservation demand freezes a snapshot of its scope until the rulebook's
/// expiry (18 U.S.C. § 2703(f): 90 days, renewable once), the expiry job ends it and deletes the
/// snapshot with a tombstone, and nothing of it ever reaches the requester.
@Suite struct PreservationFlowTests {
    @Test func aPreservationLetterFreezesASnapshotThatExpiresAndIsNeverDisclosed() async throws {
        try await ServerTests.withApp { client, tokens, services in
            let tenant = Tenant(id: UUID(), name: "Keep Co", kind: .consumer, country: "US", dataLocation: "US")
            try await services.directory.createTenant(tenant, accounts: [CustomerAccount(id: UUID(), tenantID: tenant.id, accountID: "acct-keep-1", email: "keep@example.com")])
            let t = Timestamp.parse("2026-01-15T12:00:00Z")!
            try await services.demoRecords.add([
                CustomerRecord(account: "acct-keep-1", category: .content, timestamp: t, mediaType: "text/plain", bytes: Data("mail".utf8), sourceID: "m-1"),
                CustomerRecord(account: "acct-keep-1", category: .subscriberInfo, timestamp: t, mediaType: "application/json", bytes: Data("{}".utf8), sourceID: "s-1"),
                CustomerRecord(account: "acct-keep-1", category: .encryptionKeys, timestamp: t, mediaType: "application/json", bytes: Data("{}".utf8), sourceID: "k-1"),
            ])
            let body = ServerTests.demandJSON(reference: "PRES-1")
                .replacingOccurrences(of: "us.search_warrant", with: "us.preservation_2703f")
                .replacingOccurrences(of: #""role": "judge""#, with: #""role": "police""#)
                .replacingOccurrences(of: "alice@example.com", with: "keep@example.com")
                .replacingOccurrences(of: #""categories": ["subscriber_info", "content"]"#, with: #""categories": ["content"]"#)
                .replacingOccurrences(of: #", "nonDisclosureOrder": {"basis": "18 U.S.C. § 2705(b)", "until": "2027-05-04"}"#, with: "")
                .replacingOccurrences(of: #""preservation": false"#, with: #""preservation": true"#)
                // received yesterday, so its 90 days run into the future of the server's clock
                .replacingOccurrences(of: "2026-05-04T09:00:00Z", with: Timestamp.format(services.now().addingTimeInterval(-86_400)))
            let demandID = try await client.execute(uri: "/api/v1/demands", method: .post, headers: ServerTests.headers(tokens.officer), body: ByteBuffer(string: body)) { response in
                #expect(response.status == .created, "\(String(buffer: response.body))")
                return try #require(try ServerTests.json(response.body)["id"] as? String)
            }
            let subject = try #require(try await services.cases.findCase(demandID: UUID(uuidString: demandID)!))
            let events = "/api/v1/cases/\(subject.id.uuidString.lowercased())/events"
            func send(_ json: String, as token: String) async throws -> HTTPResponse.Status {
                try await client.execute(uri: events, method: .post, headers: ServerTests.headers(token), body: ByteBuffer(string: json)) { $0.status }
            }
            #expect(try await send(#"{"type": "begin_review"}"#, as: tokens.reviewer) == .ok)
            // no date given: the rulebook's 90 days apply
            #expect(try await send(#"{"type": "begin_preservation"}"#, as: tokens.reviewer) == .ok)
            let preserving = try #require(try await services.cases.findCase(id: subject.id))
            let expiry = try #require(preserving.preservationDeadline?.due)
            #expect(preserving.state == .preserving && preserving.preservedUntil == expiry)
            #expect(expiry.timeIntervalSince(subject.openedAt) > 89 * 86_400)

            // the runner freezes the snapshot: content only, key material cut, kept apart from productions
            #expect(try await PackageRunner(services: services).tick(at: services.now()).built == 1)
            let snapshot = services.packageURL(caseID: subject.id, purpose: .preservation)
            #expect(SealedFileReader.isSealed(snapshot), "snapshots are sealed at rest like productions")
            let report = await services.verifyStoredPackage(caseID: subject.id, purpose: .preservation)
            #expect(report.isValid, "\(report.problems)")
            #expect(report.manifest?.purpose == .preservation && report.manifest?.files.map(\.sourceID) == ["m-1"])
            #expect(report.manifest?.cut["key_material"] == 1 && report.manifest?.cut["wrong_category"] == 1)
            #expect(!FileManager.default.fileExists(atPath: services.packageURL(caseID: subject.id).path))
            let page = try await ServerTests.consolePage("/staff/cases/\(subject.id.uuidString.lowercased())", client: client, services: services, roles: [.reviewer])
            #expect(page.contains(#"id="preservation-snapshot""#) && page.contains("never disclosed") && page.contains("0 of 1 renewal"))

            // never disclosed: not approvable, no download for the requester
            #expect(try await send(#"{"type": "approve_scope", "categories": ["content"]}"#, as: tokens.approver1) == .conflict)
            try await client.execute(uri: "/agency/cases/\(subject.id.uuidString.lowercased())/package", method: .get, headers: [.authorization: "Bearer \(tokens.officer)"]) { response throws in
                #expect(response.status == .notFound)
            }

            // renewed once by 90 days, never twice
            #expect(try await send(#"{"type": "renew_preservation", "note": "renewed request of 1 July"}"#, as: tokens.reviewer) == .ok)
            let renewed = try #require(try await services.cases.findCase(id: subject.id)?.preservedUntil)
            #expect(renewed.timeIntervalSince(expiry) > 89 * 86_400 && renewed.timeIntervalSince(expiry) < 91 * 86_400)
            #expect(try await send(#"{"type": "renew_preservation"}"#, as: tokens.reviewer) == .conflict)

            // before expiry nothing happens; after it the case closes as preserved and the snapshot goes
            let runner = PackageRunner(services: services)
            #expect(try await runner.tick(at: renewed.addingTimeInterval(-60)).preservationsEnded == 0)
            let ended = try await runner.tick(at: renewed.addingTimeInterval(60))
            #expect(ended.preservationsEnded == 1 && ended.deleted == 1)
            let closed = try #require(try await services.cases.findCase(id: subject.id))
            #expect(closed.state == .closed && closed.outcome == .preserved)
            #expect(!FileManager.default.fileExists(atPath: snapshot.path))
            let timeline = try await services.cases.timeline(caseID: subject.id)
            let tombstone = try #require(timeline.last { $0.record.action == "package.deleted" })
            #expect(tombstone.record.details["purpose"] == "preservation" && tombstone.record.details["merkleRoot"] == report.manifest?.merkleRoot)
            #expect(timeline.contains { $0.record.action == "case.preservation_ended" && $0.record.actor == "system" })
        }
    }
}
