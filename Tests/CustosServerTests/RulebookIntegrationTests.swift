import Configuration
import CustosDomain
import CustosServer
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// Issue 3 end to end: the assessment is computed at intake, stored, shown to staff, and no
/// approval can go beyond it.
@Suite struct RulebookIntegrationTests {
    /// A grand-jury subpoena asking for subscriber information and content: the rulebook allows
    /// the first and denies the second (18 U.S.C. § 2703(c)(2); Warshak).
    static let subpoenaJSON = """
        {"instrument": "us.subpoena", "jurisdiction": "US", "issuingAuthority": {"name": "Grand Jury, W.D. Wash.", "role": "prosecutor"},
         "caseReference": "GJ-2026-17", "receivedAt": "2026-05-04T09:00:00Z",
         "targets": [{"type": "email", "value": "alice@example.com"}], "categories": ["subscriber_info", "content"],
         "documents": [{"filename": "subpoena.pdf", "mediaType": "application/pdf", "base64": "\(ServerTests.pdfBase64)"}]}
        """

    @Test func intakeStoresTheAssessmentAndApprovalOutsideItIsRefusedNamingTheRule() async throws {
        try await ServerTests.withApp { client, tokens, services in
            let demandID = try await client.execute(uri: "/api/v1/demands", method: .post, headers: ServerTests.headers(tokens.officer), body: ByteBuffer(string: Self.subpoenaJSON)) { response in
                #expect(response.status == .created)
                return try #require(try ServerTests.json(response.body)["id"] as? String)
            }
            let stored = try #require(try await services.cases.findCase(demandID: UUID(uuidString: demandID)!))
            let caseID = stored.id.uuidString.lowercased()
            // stored with the rulebook version and rule ids
            let assessment = try #require(stored.assessment)
            #expect(assessment.rulebookVersion == services.rulebook.version)
            #expect(assessment.categories[.content]?.verdict == .denied)
            #expect(assessment.categories[.content]?.rules.contains("us.subpoena.content") == true)
            #expect(assessment.categories[.subscriberInfo]?.verdict == .allowed)
            // the due date is the legal deadline, not the provisional target
            #expect(stored.dueAt == assessment.deadlines.first { $0.kind == "production" }?.due)
            let intake = try await services.cases.timeline(caseID: stored.id).map(\.record)
            let assessed = try #require(intake.first { $0.action == "case.assessed" })
            #expect(assessed.details["rulebookVersion"] == services.rulebook.version)
            #expect(assessed.details["verdicts"]?.contains("content=denied(us.subpoena.content)") == true)

            // the API shows it to staff
            try await client.execute(uri: "/api/v1/cases/\(caseID)", method: .get, headers: ServerTests.headers(tokens.reviewer)) { response in
                let detail = try ServerTests.json(response.body)
                let shown = (detail["case"] as? [String: Any])?["assessment"] as? [String: Any]
                #expect(shown?["rulebookVersion"] as? String == services.rulebook.version)
                #expect(((shown?["categories"] as? [String: Any])?["content"] as? [String: Any])?["verdict"] as? String == "denied")
            }

            func send(_ token: String, _ event: String) async throws -> (HTTPResponse.Status, [String: Any]) {
                try await client.execute(uri: "/api/v1/cases/\(caseID)/events", method: .post, headers: ServerTests.headers(token), body: ByteBuffer(string: event)) {
                    ($0.status, (try? ServerTests.json($0.body)) ?? [:])
                }
            }
            #expect(try await send(tokens.reviewer, #"{"type": "begin_review"}"#).0 == .ok)
            // when: an approver tries to approve content
            let (status, problem) = try await send(tokens.approver1, #"{"type": "approve_scope", "categories": ["subscriber_info", "content"]}"#)
            // then: refused with a problem naming the rule, nothing changed, the refusal is logged
            #expect(status == .conflict)
            #expect((problem["detail"] as? String)?.contains("us.subpoena.content") == true)
            let after = try #require(try await services.cases.findCase(id: stored.id))
            #expect(after.scopeApprovals.isEmpty)
            let refusals = try await services.cases.timeline(caseID: stored.id).filter { $0.record.outcome == .refused && $0.record.action == "case.approve_scope" }
            #expect(refusals.count == 1)
            // the allowed part can be approved
            #expect(try await send(tokens.approver1, #"{"type": "approve_scope", "categories": ["subscriber_info"]}"#).0 == .ok)

            // reassessment against the rulebook in force is an audited event
            #expect(try await send(tokens.reviewer, #"{"type": "reassess"}"#).0 == .ok)
            let reassessed = try await services.cases.timeline(caseID: stored.id).map(\.record).filter { $0.action == "case.reassess" }
            #expect(reassessed.count == 1)
            #expect(reassessed.first?.details["rulebookVersion"] == services.rulebook.version)
            #expect(try await send(tokens.approver1, #"{"type": "reassess"}"#).0 == .forbidden)
        }
    }

    @Test func theStaffCasePageShowsVerdictsDeadlinesFlagsAndCitations() async throws {
        try await ServerTests.withApp { client, tokens, services in
            let tenant = Tenant(id: UUID(), name: "Dupont", kind: .consumer, country: "FR", dataLocation: "IE")
            try await services.directory.createTenant(
                tenant, accounts: [CustomerAccount(id: UUID(), tenantID: tenant.id, accountID: "acct-dupont", email: "jean@example.fr")])
            let body = ServerTests.demandJSON().replacingOccurrences(of: "alice@example.com", with: "jean@example.fr")
            let demandID = try await client.execute(uri: "/api/v1/demands", method: .post, headers: ServerTests.headers(tokens.officer), body: ByteBuffer(string: body)) { response in
                try #require(try ServerTests.json(response.body)["id"] as? String)
            }
            let stored = try #require(try await services.cases.findCase(demandID: UUID(uuidString: demandID)!))
            #expect(stored.assessment?.has(.gdprArt48Review) == true)
            let html = try await ServerTests.consolePage("/staff/cases/\(stored.id.uuidString.lowercased())", client: client, services: services, roles: [.approver])
            #expect(html.contains("What the law compels"))
            #expect(html.contains(#"data-category="content""#))
            #expect(html.contains(#"<span class="verdict allowed">allowed</span>"#))
            #expect(html.contains("us.warrant.all"))
            #expect(html.contains("18 U.S.C. § 2703(a)"))
            #expect(html.contains("gdpr_art48_review"))
            #expect(html.contains("barred_until"), "the § 2705(b) order bars notice until it lapses")
            #expect(html.contains("Due (legal deadline)"))
            #expect(html.contains("overdue by") || html.contains("left"))
        }
    }

    @Test func aProvidersOwnRulebookIsUsedAndABrokenOneStopsStartup() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("custos-rulebook-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        var own = try Rulebook.bundled()
        own.version = "provider-2026.12"
        let good = folder.appendingPathComponent("good.json")
        try CustosJSON.makeEncoder().encode(own).write(to: good)
        let services = try await buildServices(reader: ConfigReader(providers: [InMemoryProvider(values: [
            "custos.database.memory": true, "custos.log.level": "error", "custos.rulebook": .init(.string(good.path), isSecret: false),
        ])]))
        #expect(services.rulebook.version == "provider-2026.12")
        await services.shutdown()

        let bad = folder.appendingPathComponent("bad.json")
        try Data(#"{"format": "custos-rulebook/1", "version": "x", "title": "x", "regions": {}, "qualifyingForeignGovernments": [], "calendars": {}, "instruments": {}, "rules": [{"id": "x", "title": "x", "instruments": ["us.subpoena"], "jurisdictions": ["US"], "effects": {"encryption_keys": "allowed"}, "citation": "x", "confidence": "V", "explanation": "x"}]}"#.utf8).write(to: bad)
        do {
            _ = try await buildServices(reader: ConfigReader(providers: [InMemoryProvider(values: [
                "custos.database.memory": true, "custos.log.level": "error", "custos.rulebook": .init(.string(bad.path), isSecret: false),
            ])]))
            Issue.record("a rulebook that releases encryption keys was accepted")
        } catch let error as RulebookError {
            #expect(error.description.contains("rules[0] (x).effects.encryption_keys"))
        }
    }
}

extension RulebookIntegrationTests {
    /// On both databases: the cases are picked out by their stored JSON, which each reads its own way.
    @Test(arguments: TransparencyLogTests.stores)
    func casesFromBeforeTheRulebookAreAssessedOnceBySystem(store: TransparencyLogTests.Store) async throws {
        try await ServerTests.withApp(reader: try await TransparencyLogTests.reader(store)) { client, tokens, services in
            // setup: a case stored the way the foundation stored it, without an assessment
            let agency = try #require(try await services.directory.findAgency(named: "Agency A"))
            let officer = Principal(id: UUID(), email: "legacy@agency.example", displayName: "Legacy", kind: .agency, agencyID: agency.id)
            try await services.identity.createPrincipal(officer, passwordHash: "unused", at: services.now())
            let draft = try JSONDecoder().decode(DemandDraft.self, from: Data(Self.subpoenaJSON.utf8))
            let accepted = try Demand.validate(draft, uploads: [DocumentUpload(filename: "s.pdf", mediaType: "application/pdf", bytes: Data("%PDF".utf8), field: "d")],
                                               limits: DemandLimits(), agencyID: agency.id, submittedBy: officer.id, now: services.now(), makeID: { UUID() })
            let legacy = try await services.cases.submit(accepted, idempotencyKey: nil, requestHash: "legacy", customer: nil, assessment: nil, at: services.now(), by: officer)
            #expect(legacy.caseRecord.assessment == nil)
            // when
            #expect(try await services.assessCasesWithoutAssessment() == 1)
            #expect(try await services.assessCasesWithoutAssessment() == 0, "a second run finds nothing left")
            // then
            let assessed = try #require(try await services.cases.findCase(id: legacy.caseRecord.id))
            #expect(assessed.assessment?.verdict(for: .content) == .denied)
            let entry = try #require(try await services.cases.timeline(caseID: assessed.id).last?.record)
            #expect(entry.action == "case.reassess" && entry.actor == Actor.system.auditName)

            // and the agency never sees the provider's legal assessment
            let summary = try await client.execute(uri: "/api/v1/demands", method: .get, headers: ServerTests.headers(tokens.officer)) { String(buffer: $0.body) }
            #expect(!summary.contains("assessment") && !summary.contains("verdict"))
        }
    }
}
