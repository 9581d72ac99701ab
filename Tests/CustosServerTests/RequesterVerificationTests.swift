import CustosDomain
@testable import CustosServer
import CustosStorage
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

/// Issue 8: requesters are checked against the agency directory. Red flags are found at intake and
/// kept on the case; a callback uses only a directory number; and the drill: a forged emergency
/// request from a look-alike domain whose callback fails is never released.
@Suite struct RequesterVerificationTests {
    static let emergencyDemand = """
        {"instrument": "us.emergency_2702", "jurisdiction": "US", "issuingAuthority": {"name": "FBI Seattle", "role": "police"},
         "caseReference": "EDR-2026-0099", "receivedAt": "2026-05-04T09:00:00Z", "targets": [{"type": "email", "value": "alice@example.com"}],
         "categories": ["subscriber_info"], "emergency": true, "emergencyStatement": "URGENT. Failure to comply immediately could result in loss of life.",
         "documents": [{"filename": "edr.pdf", "mediaType": "application/pdf", "base64": "\(ServerTests.pdfBase64)"}]}
        """

    /// The directory entry of the test agency ("Agency A"): its real domain and switchboard.
    static func listInDirectory(_ services: CustosServices) async throws -> (Agency, AgencyPhone) {
        var agency = try #require(try await services.directory.findAgency(named: "Agency A"))
        let phone = AgencyPhone(id: UUID(), number: "+1 206 555 0100", label: "main switchboard", source: "agency website, contact page")
        agency.domains = ["agency.example"]
        agency.phones = [phone]
        try await services.directory.updateAgency(agency, by: "test", at: services.now())
        return (agency, phone)
    }

    @Test(arguments: TransparencyLogTests.stores)
    func theDrillAForgedEmergencyRequestIsNeverReleased(store: TransparencyLogTests.Store) async throws {
        try await ServerTests.withApp(reader: try await TransparencyLogTests.reader(store)) { client, tokens, services in
            let (agency, phone) = try await Self.listInDirectory(services)
            // The forger holds an account of the agency, registered today, on a look-alike domain.
            let forger = Principal(id: UUID(), email: "duty-officer@agency-example.com", displayName: "Duty officer", kind: .agency, agencyID: agency.id)
            try await services.identity.createPrincipal(forger, passwordHash: "unused", at: services.now())
            // A hijacked account that was allowed emergencies: standing alone does not stop the forgery.
            try await services.identity.setStanding(
                principalID: forger.id, .active, mayRequestEmergency: true, reason: "onboarded", by: "test", at: services.now())
            let token = try await services.identity.issueToken(for: forger.id, label: "test", at: services.now()).token
            let demandText = try await client.execute(
                uri: "/api/v1/demands", method: .post, headers: ServerTests.headers(token), body: ByteBuffer(string: Self.emergencyDemand)
            ) { response in
                #expect(response.status == .created)
                return try ServerTests.json(response.body)["id"] as? String ?? ""
            }
            let demandID = try #require(UUID(uuidString: demandText))
            let stored = try #require(try await services.cases.findCase(demandID: demandID))
            let flags = Set((stored.redFlags ?? []).map(\.code))
            #expect(flags == [.lookalikeDomain, .domainNotInDirectory, .urgencyWithoutSpecifics, .newRequester])

            // It is in the emergency lane, and only emergencies are.
            let ordinary = try await client.execute(uri: "/api/v1/demands", method: .post, headers: ServerTests.headers(tokens.officer), body: ByteBuffer(string: ServerTests.demandJSON(reference: "ORDINARY-1"))) { response in
                try #require(try ServerTests.json(response.body)["id"] as? String)
            }
            let ordinaryID = try #require(UUID(uuidString: ordinary))
            let ordinaryCase = try #require(try await services.cases.findCase(demandID: ordinaryID))
            let lane = try await ServerTests.consolePage("/staff/queue?attention=emergency", client: client, services: services, roles: [.intake])
            #expect(lane.contains(stored.number) && !lane.contains(ordinaryCase.number))
            #expect(lane.contains("1 emergency request(s) in the emergency lane"))

            // Staff see the flags in the API's case detail.
            try await client.execute(uri: "/api/v1/cases/\(stored.id)", method: .get, headers: ServerTests.headers(tokens.reviewer)) { response in
                let detail = try ServerTests.json(response.body)
                let codes = ((detail["case"] as? [String: Any])?["redFlags"] as? [[String: Any]])?.compactMap { $0["code"] as? String } ?? []
                #expect(Set(codes) == ["lookalike_domain", "domain_not_in_directory", "urgency_without_specifics", "new_requester"])
            }

            func send(_ body: String) async throws -> (HTTPResponse.Status, [String: Any]) {
                try await client.execute(
                    uri: "/api/v1/cases/\(stored.id)/events", method: .post, headers: ServerTests.headers(tokens.reviewer), body: ByteBuffer(string: body)
                ) { ($0.status, (try? ServerTests.json($0.body)) ?? [:]) }
            }
            // A number that is not the directory's is refused, whatever the request says.
            let (refused, problem) = try await send(#"{"type": "record_callback", "phoneId": "\#(UUID())", "spokeWith": "the number in the email", "confirmed": true}"#)
            #expect(refused == .badRequest && problem["field"] as? String == "phoneId")
            #expect(try await send(#"{"type": "record_callback", "spokeWith": "x", "confirmed": true}"#).0 == .badRequest)
            // The directory's switchboard knows no such request.
            let (recorded, _) = try await send(
                #"{"type": "record_callback", "phoneId": "\#(phone.id.uuidString)", "spokeWith": "Lt. Reyes, watch commander", "confirmed": false, "note": "no such officer, no such case"}"#)
            #expect(recorded == .ok)
            let entry = try #require(try await services.cases.timeline(caseID: stored.id).last { $0.record.action == "case.record_callback" })
            #expect(entry.record.details["number"] == "+1 206 555 0100" && entry.record.details["source"] == "agency website, contact page")
            #expect(entry.record.details["confirmed"] == "false")

            // Everything else in place: scope, data collected, two release approvals, a supervisor's word.
            let staff = [StaffRole.approver, .approver, .custodian, .intake, .reviewer].map { role in
                Principal(id: UUID(), email: "\(role.rawValue)-\(UUID().uuidString.prefix(4))@p.example", displayName: role.rawValue, kind: .staff, roles: [role])
            }
            for person in staff { try await services.identity.createPrincipal(person, passwordHash: "unused", at: services.now()) }
            let time = services.now()
            for (event, actor) in [
                (CaseEvent.beginReview, Actor.person(staff[4])),
                (.approveScope(categories: [.subscriberInfo], excuse: nil), .person(staff[0])), (.approveScope(categories: [.subscriberInfo], excuse: nil), .person(staff[1])),
                (.startCollection, .person(staff[2])), (.collectionFinished(recordCount: 3), .system),
                (.approveRelease, .person(staff[0])), (.approveRelease, .person(staff[1])),
            ] {
                _ = try await services.cases.apply(event, toCase: stored.id, at: time, by: actor)
            }
            var ready = try #require(try await services.cases.findCase(id: stored.id))
            #expect(ready.state == .readyForRelease && Set(ready.releaseApprovals.map(\.principalID)).count == 2)
            await #expect(throws: WorkflowRefusal.self) { _ = try await services.cases.apply(.release, toCase: stored.id, at: time, by: .person(staff[2])) }
            ready = try #require(try await services.cases.findCase(id: stored.id))
            #expect(ready.state == .readyForRelease, "never released")
            // Only a confirmed directory callback moves the guard on (to the supervisor's confirmation).
            _ = try await services.cases.apply(
                .recordCallback(phone: phone, spokeWith: "Lt. Reyes", confirmed: true, note: nil), toCase: stored.id, at: time, by: .person(staff[3]))
            do {
                _ = try await services.cases.apply(.release, toCase: stored.id, at: time, by: .person(staff[2]))
                Issue.record("released without a supervisor's confirmation")
            } catch let refusal as WorkflowRefusal {
                #expect(refusal.reason.contains("supervisor_confirmation"))
            }
        }
    }

    @Test(arguments: TransparencyLogTests.stores)
    func aCleanRequesterRaisesNoFlagsAndAgencyWithoutNumbersCannotBeCalledBack(store: TransparencyLogTests.Store) async throws {
        try await ServerTests.withApp(reader: try await TransparencyLogTests.reader(store)) { client, tokens, services in
            // Before the directory lists a number, a callback cannot be recorded at all.
            let created = try await client.execute(
                uri: "/api/v1/demands", method: .post, headers: ServerTests.headers(tokens.officer), body: ByteBuffer(string: ServerTests.demandJSON())
            ) { try ServerTests.json($0.body)["id"] as? String }
            let demandID = try #require(UUID(uuidString: created ?? ""))
            let subject = try #require(try await services.cases.findCase(demandID: demandID))
            try await client.execute(
                uri: "/api/v1/cases/\(subject.id)/events", method: .post, headers: ServerTests.headers(tokens.reviewer),
                body: ByteBuffer(string: #"{"type": "record_callback", "phoneId": "\#(UUID())", "spokeWith": "x", "confirmed": true}"#)
            ) { response in
                #expect(response.status == .badRequest)
                #expect(String(buffer: response.body).contains("has no number in the agency directory"))
            }
            // The officer writes from the agency's own domain; only its new account is a flag.
            _ = try await Self.listInDirectory(services)
            let second = try await client.execute(
                uri: "/api/v1/demands", method: .post, headers: ServerTests.headers(tokens.officer),
                body: ByteBuffer(string: ServerTests.demandJSON(reference: "2:26-mj-00999"))
            ) { try ServerTests.json($0.body)["id"] as? String }
            let secondID = try #require(UUID(uuidString: second ?? ""))
            let flagged = try #require(try await services.cases.findCase(demandID: secondID))
            #expect(flagged.redFlags?.map(\.code) == [.newRequester])

            // A password reset ends the officer's sessions and flags its next demands.
            let officer = try #require(try await services.identity.findPrincipal(email: "a@agency.example"))
            let session = try await services.identity.startSession(for: officer.id, at: services.now(), lifetime: 3_600)
            try await services.identity.resetPassword(principalID: officer.id, passwordHash: "new-hash", by: "staff:admin@p.example", at: services.now())
            #expect(try await services.identity.session(cookie: session.cookie, at: services.now()) == nil)
            let third = try await client.execute(
                uri: "/api/v1/demands", method: .post, headers: ServerTests.headers(tokens.officer),
                body: ByteBuffer(string: ServerTests.demandJSON(reference: "2:26-mj-01000"))
            ) { try ServerTests.json($0.body)["id"] as? String }
            let thirdID = try #require(UUID(uuidString: third ?? ""))
            let afterReset = try #require(try await services.cases.findCase(demandID: thirdID))
            #expect(afterReset.redFlags?.map(\.code) == [.newRequester, .recentCredentialReset])
            #expect(try await services.cases.auditTrail().contains { $0.record.action == "principal.password_reset" })
        }
    }

    /// Standing gates submission; emergencies need the permission; every change is kept and audited.
    @Test(arguments: TransparencyLogTests.stores)
    func standingAndTheEmergencyPermissionGateSubmission(store: TransparencyLogTests.Store) async throws {
        try await ServerTests.withApp(reader: try await TransparencyLogTests.reader(store)) { client, tokens, services in
            let officer = try #require(try await services.identity.findPrincipal(email: "a@agency.example"))
            func submit(_ body: String) async throws -> (HTTPResponse.Status, String) {
                try await client.execute(uri: "/api/v1/demands", method: .post, headers: ServerTests.headers(tokens.officer), body: ByteBuffer(string: body)) {
                    ($0.status, String(buffer: $0.body))
                }
            }
            // New accounts may not send emergencies until allowed.
            let (denied, text) = try await submit(Self.emergencyDemand)
            #expect(denied == .forbidden && text.contains("not permitted to submit emergency requests"))
            for standing in [RequesterStanding.pending, .suspended, .blocklisted] {
                try await services.identity.setStanding(principalID: officer.id, standing, mayRequestEmergency: true, reason: "test \(standing)", by: "staff:admin@p.example", at: services.now())
                #expect(try await submit(ServerTests.demandJSON(reference: "ref-\(standing)")).0 == .forbidden, "\(standing)")
            }
            try await services.identity.setStanding(principalID: officer.id, .unverified, mayRequestEmergency: true, reason: "re-check after reset", by: "staff:admin@p.example", at: services.now())
            #expect(try await submit(Self.emergencyDemand).0 == .forbidden, "no emergencies while unverified")
            let (accepted, body) = try await submit(ServerTests.demandJSON(reference: "ref-unverified"))
            #expect(accepted == .created)
            let demandID = try #require(UUID(uuidString: (try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])?["id"] as? String ?? ""))
            let flagged = try #require(try await services.cases.findCase(demandID: demandID))
            #expect(flagged.redFlags?.contains { $0.code == .unverifiedRequester } == true)
            try await services.identity.setStanding(principalID: officer.id, .active, mayRequestEmergency: true, reason: "verified by callback", by: "staff:admin@p.example", at: services.now())
            #expect(try await submit(Self.emergencyDemand).0 == .created)

            let status = try #require(try await services.identity.requesterStatus(principalID: officer.id))
            #expect(status.history.map(\.standing) == [.pending, .suspended, .blocklisted, .unverified, .active])
            #expect(status.history.last?.reason == "verified by callback" && status.mayRequestEmergency)
            let audited = try await services.cases.auditTrail().filter { $0.record.action == "requester.standing_changed" }
            #expect(audited.count == 5 && audited.last?.record.details["before"] == "unverified, emergency allowed")
            // Standing is for requesters only.
            let reviewer = try #require(try await services.identity.findPrincipal(email: "r@p.example"))
            await #expect(throws: StorageError.self) {
                try await services.identity.setStanding(principalID: reviewer.id, .suspended, mayRequestEmergency: false, reason: "x", by: "test", at: services.now())
            }
        }
    }

    /// Two installations exchange a signed blocklist: B flags a demand from the domain A blocked;
    /// a forged, re-signed or mislabelled feed is refused; a newer feed replaces the older one.
    @Test func twoInstallationsExchangeASignedBlocklist() async throws {
        let a = try await buildServices(reader: try await TransparencyLogTests.reader(.sqlite, extra: ["custos.public.url": "https://a.example"]))
        defer { Task { await a.shutdown() } }
        try await a.blocklist.add(BlocklistEntry(kind: .domain, value: "agency-example.com"), reason: "forged EDR of 4 May", by: "test", at: a.now())
        let forger = Principal(id: UUID(), email: "forger@elsewhere.example", displayName: "F", kind: .agency, agencyID: nil)
        try await a.identity.createPrincipal(forger, passwordHash: "unused", at: a.now())
        try await a.identity.setStanding(principalID: forger.id, .blocklisted, mayRequestEmergency: false, reason: "confirmed forger", by: "test", at: a.now())
        let feed = try await a.exportBlocklist(hashed: true)
        #expect(!feed.contains("agency-example.com") && !feed.contains("forger@"), "a hashed feed shows no addresses or domains")
        let key = a.transparencyKeys.blocklist.verifierKey

        try await ServerTests.withApp(reader: try await TransparencyLogTests.reader(.sqlite, extra: ["custos.public.url": "https://b.example"])) { client, tokens, b in
            // What is not A's, signed by A, is refused: another key, a changed line, the receiver's own key.
            await #expect(throws: CustosServices.BlocklistImportError.self) { _ = try await b.importBlocklist(note: feed, verifierKey: b.transparencyKeys.report.verifierKey) }
            let tampered = feed.replacingOccurrences(of: "domain-sha256 ", with: "address-sha256 ")
            await #expect(throws: CustosServices.BlocklistImportError.self) { _ = try await b.importBlocklist(note: tampered, verifierKey: key) }
            await #expect(throws: CustosServices.BlocklistImportError.self) { _ = try await b.importBlocklist(note: feed, verifierKey: b.transparencyKeys.blocklist.verifierKey) }
            #expect(try await b.blocklist.all().isEmpty, "nothing stored from a refused feed")

            let imported = try await b.importBlocklist(note: feed, verifierKey: key)
            #expect(imported.origin == "a.example/transparency/blocklist" && imported.entries == 2)
            // B's own requester on the blocked domain is flagged at intake.
            let agency = try #require(try await b.directory.findAgency(named: "Agency A"))
            let user = Principal(id: UUID(), email: "duty@agency-example.com", displayName: "Duty", kind: .agency, agencyID: agency.id)
            try await b.identity.createPrincipal(user, passwordHash: "unused", at: b.now())
            let token = try await b.identity.issueToken(for: user.id, label: "t", at: b.now()).token
            let created = try await client.execute(
                uri: "/api/v1/demands", method: .post, headers: ServerTests.headers(token), body: ByteBuffer(string: ServerTests.demandJSON())
            ) { try ServerTests.json($0.body)["id"] as? String }
            let demandID = try #require(UUID(uuidString: created ?? ""))
            let flagged = try #require(try await b.cases.findCase(demandID: demandID))
            #expect(flagged.redFlags?.contains { $0.code == .blocklistedSender } == true)
            _ = tokens

            // A unblocks the domain; its next feed replaces the old one at B.
            let newer = BlocklistFeed.noteText(origin: "a.example/transparency/blocklist", issuedAt: a.now(), entries: [BlocklistEntry(kind: .address, value: "forger@elsewhere.example")], hashed: true)
            let replaced = try await b.importBlocklist(note: try a.transparencyKeys.blocklist.sign(newer).serialized, verifierKey: key)
            let remaining = try await b.blocklist.all()
            #expect(replaced.entries == 1 && remaining.count == 1)
            let audited = try await b.cases.auditTrail().filter { $0.record.action == "blocklist.feed_imported" }
            #expect(audited.map { $0.record.details["entries"] } == ["2", "1"])
        }
    }

    @Test(arguments: TransparencyLogTests.stores)
    func theDirectoryImportChecksEveryRowAndMerges(store: TransparencyLogTests.Store) async throws {
        try await ServerTests.withApp(reader: try await TransparencyLogTests.reader(store)) { _, _, services in
            let bad = """
                name,country,kind,domains,phone,phone_label,phone_source
                Polizei Berlin,DE,law_enforcement,polizei.berlin.de,+49 30 4664 0,Zentrale,https://www.berlin.de/polizei/
                ,DE,law_enforcement,,,,
                LKA Bayern,Bavaria,police,gmail.com,12,,
                """
            guard case .rejected(let errors) = try await services.importAgencyDirectory(csv: bad, by: "test") else {
                Issue.record("a file with bad rows was imported")
                return
            }
            #expect(errors.map(\.row) == [3, 4, 4, 4, 4, 4])
            #expect(errors.contains { $0.message.contains("free-mail") } && errors.contains { $0.message.contains("phone_source is empty") })
            #expect(try await services.directory.findAgency(named: "Polizei Berlin") == nil, "nothing is stored")

            let good = """
                name,country,kind,domains,phone,phone_label,phone_source
                Polizei Berlin,DE,law_enforcement,polizei.berlin.de,+49 30 4664 0,Zentrale,https://www.berlin.de/polizei/
                Polizei Berlin,DE,law_enforcement,berlin.de; polizei.berlin.de,+49 30 4664 4664,Lagezentrum,Behördenverzeichnis Berlin
                Agency A,US,law_enforcement,agency.example,,,
                """
            guard case .imported(let created, let updated, _) = try await services.importAgencyDirectory(csv: good, by: "test") else {
                Issue.record("a good file was refused")
                return
            }
            #expect(created == 1 && updated == 1)
            let berlin = try #require(try await services.directory.findAgency(named: "Polizei Berlin"))
            #expect(berlin.domains == ["polizei.berlin.de", "berlin.de"] && berlin.phones.map(\.number) == ["+49 30 4664 0", "+49 30 4664 4664"])
            #expect(berlin.phones[1].source == "Behördenverzeichnis Berlin")
            // Importing again changes nothing; every change was audited.
            guard case .imported(0, 0, 2) = try await services.importAgencyDirectory(csv: good, by: "test") else {
                Issue.record("a repeated import changed something")
                return
            }
            let audited = try await services.cases.auditTrail().filter { $0.record.action == "agency.directory_updated" }
            #expect(audited.count == 2)
        }
    }
}

/// Issue 8, the emergency lane: an emergency pages the on-call webhook once, signed, without any
/// customer data; an overdue follow-up process pages again, once.
@Suite struct EmergencyPagerTests {
    @Test(arguments: TransparencyLogTests.stores)
    func emergenciesPageOnceAndOverdueFollowUpsPageAgain(store: TransparencyLogTests.Store) async throws {
        try await NoticeDeliveryTests.withReceiver { url, receiver in
            try await ServerTests.withApp(reader: try await TransparencyLogTests.reader(store)) { client, tokens, services in
                let officer = try #require(try await services.identity.findPrincipal(email: "a@agency.example"))
                try await services.identity.setStanding(principalID: officer.id, .active, mayRequestEmergency: true, reason: "police", by: "test", at: services.now())
                let (_, phone) = try await RequesterVerificationTests.listInDirectory(services)
                let created = try await client.execute(
                    uri: "/api/v1/demands", method: .post, headers: ServerTests.headers(tokens.officer),
                    body: ByteBuffer(string: RequesterVerificationTests.emergencyDemand)
                ) { try ServerTests.json($0.body)["id"] as? String }
                let demandID = try #require(UUID(uuidString: created ?? ""))
                let subject = try #require(try await services.cases.findCase(demandID: demandID))

                let pager = EmergencyPager(services: services, url: url, secret: NoticeDeliveryTests.secret)
                let first = try await pager.tick(at: services.now())
                #expect(first.queued == 1 && first.sent == 1)
                let key = "page:emergency.received:\(subject.id.uuidString.lowercased())"
                let body = try #require(await receiver.first(key))
                let page = try CustosJSON.decode(EmergencyPageStore.Page.self, from: String(decoding: body, as: UTF8.self))
                #expect(page.type == "emergency.received" && page.number == subject.number && page.redFlags.contains("urgency_without_specifics"))
                #expect(!String(decoding: body, as: UTF8.self).contains("alice@example.com"), "a page carries no customer data")
                #expect(try await pager.tick(at: services.now()) == EmergencyPager.Report(), "once per reason")

                // Released after a confirmed directory callback and the supervisor's word; the follow-up falls due.
                let staff = [StaffRole.intake, .reviewer, .approver, .approver, .custodian].map { role in
                    Principal(id: UUID(), email: "\(role.rawValue)-\(UUID().uuidString.prefix(4))@p.example", displayName: role.rawValue, kind: .staff, roles: [role])
                }
                for person in staff { try await services.identity.createPrincipal(person, passwordHash: "unused", at: services.now()) }
                let time = services.now()
                for (event, actor) in [
                    (CaseEvent.beginVerification, Actor.person(staff[0])),
                    (.recordCheck(name: "supervisor_confirmation", passed: true, note: "Lt. Reyes"), .person(staff[0])),
                    (.recordCallback(phone: phone, spokeWith: "Lt. Reyes", confirmed: true, note: nil), .person(staff[0])),
                    (.verificationPassed, .person(staff[0])),
                    (.approveScope(categories: [.subscriberInfo], excuse: nil), .person(staff[2])), (.approveScope(categories: [.subscriberInfo], excuse: nil), .person(staff[3])),
                    (.startCollection, .person(staff[4])), (.collectionFinished(recordCount: 1), .system),
                    (.approveRelease, .person(staff[2])), (.approveRelease, .person(staff[3])), (.release, .person(staff[4])),
                ] {
                    _ = try await services.cases.apply(event, toCase: subject.id, at: time, by: actor)
                }
                let released = try #require(try await services.cases.findCase(id: subject.id))
                let due = try #require(released.followUp?.dueAt)
                #expect(try await pager.tick(at: due.addingTimeInterval(-60)).queued == 0, "not overdue yet")
                let overdue = try await pager.tick(at: due.addingTimeInterval(60))
                #expect(overdue.queued == 1 && overdue.sent == 1)
                #expect(await receiver.count("page:emergency.follow_up_overdue:\(subject.id.uuidString.lowercased())") == 1)
                #expect(try await pager.tick(at: due.addingTimeInterval(3_600)).queued == 0)
                let audited = try await services.cases.timeline(caseID: subject.id).map(\.record.action)
                #expect(audited.contains("emergency.paged") && audited.contains("emergency.follow_up_overdue"))
            }
        }
        // A pager without its secret stops startup.
        let bad = try await TransparencyLogTests.reader(.sqlite, extra: ["custos.emergency.page.url": "https://pager.example/hook"])
        await #expect(throws: (any Error).self) { _ = try await buildServices(reader: bad) }
    }
}
