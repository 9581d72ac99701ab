import CustosDomain
import CustosServer
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// The customer portal (C5): a tenant sees its own demands that no bar holds back, downloads the
/// copy, and answers; it never sees another tenant's data.
@Suite struct CustomerPortalTests {
    struct Tenancy {
        var tenant: Tenant
        var email: String
    }

    static func tenant(_ name: String, _ services: CustosServices) async throws -> Tenancy {
        let tenant = Tenant(id: UUID(), name: name, kind: .enterprise, country: "US", dataLocation: "US")
        let email = "it@\(name.lowercased()).example"
        try await services.directory.createTenant(
            tenant, accounts: [CustomerAccount(id: UUID(), tenantID: tenant.id, accountID: "acct-\(name)", email: email)],
            contacts: [CustomerContact(id: UUID(), tenantID: tenant.id, name: "Legal", email: "legal@\(name.lowercased()).example")])
        return Tenancy(tenant: tenant, email: email)
    }

    /// A demand on the tenant's account, taken into review; `gag` adds an indefinite § 2705(b) order.
    static func caseInReview(for tenancy: Tenancy, reference: String, gag: Bool, _ client: any TestClientProtocol, _ tokens: ServerTests.Tokens, _ services: CustosServices) async throws -> Case {
        var body = ServerTests.demandJSON(reference: reference).replacingOccurrences(of: "alice@example.com", with: tenancy.email)
        body = body.replacingOccurrences(of: #""until": "2027-05-04"}"#, with: gag ? #""indefinite": true}"# : #""until": "2026-05-05"}"#)
        let demandID = try await client.execute(uri: "/api/v1/demands", method: .post, headers: ServerTests.headers(tokens.officer), body: ByteBuffer(string: body)) { response in
            try #require(try ServerTests.json(response.body)["id"] as? String)
        }
        let opened = try #require(try await services.cases.findCase(demandID: UUID(uuidString: demandID)!))
        try await client.execute(uri: "/api/v1/cases/\(opened.id.uuidString.lowercased())/events", method: .post, headers: ServerTests.headers(tokens.reviewer), body: ByteBuffer(string: #"{"type": "begin_review"}"#)) { response throws in
            #expect(response.status == .ok)
        }
        return try #require(try await services.cases.findCase(id: opened.id))
    }

    /// Signs a customer user of `tenant` in and returns the session headers and the portal's CSRF token.
    static func signIn(_ tenant: Tenant, _ client: any TestClientProtocol, _ services: CustosServices) async throws -> (HTTPFields, String) {
        let email = "user-\(UUID().uuidString.prefix(6).lowercased())@\(tenant.name.lowercased()).example"
        let person = Principal(id: UUID(), email: email, displayName: "Customer", kind: .customer, tenantID: tenant.id)
        return try await signIn(person, portal: "/customer", landing: "/customer", client, services)
    }

    /// Creates `person` with a password (and, for agency users, a second factor), signs in at
    /// `portal`/login and reads the CSRF token on `landing`.
    static func signIn(_ person: Principal, portal: String, landing: String, _ client: any TestClientProtocol, _ services: CustosServices) async throws -> (HTTPFields, String) {
        try await services.identity.createPrincipal(person, passwordHash: try await Passwords.hash("portal password 1"), at: services.now())
        let secret = person.kind == .customer ? nil : try await ServerTests.enrolSecondFactor(person, services)
        let session = try await ServerTests.webSession(
            email: person.email, password: "portal password 1", portal: portal, secret: secret, client: client, services: services)
        let headers: HTTPFields = [.cookie: "custos_session=\(session)"]
        let csrf = try await client.execute(uri: landing, method: .get, headers: headers) { response in
            ServerTests.csrf(in: String(buffer: response.body)) ?? ""
        }
        return (headers, csrf)
    }

    @Test func aCustomerSeesOnlyItsOwnUnbarredDemandsDownloadsTheCopyAndConsents() async throws {
        try await ServerTests.withApp { client, tokens, services in
            let alpha = try await Self.tenant("Alpha", services)
            let beta = try await Self.tenant("Beta", services)
            let open = try await Self.caseInReview(for: alpha, reference: "A-OPEN", gag: false, client, tokens, services)
            let gagged = try await Self.caseInReview(for: alpha, reference: "A-GAG", gag: true, client, tokens, services)
            let betas = try await Self.caseInReview(for: beta, reference: "B-OPEN", gag: false, client, tokens, services)
            #expect(try await services.notices.notice(caseID: open.id)?.recipients == ["legal@alpha.example"], "an enterprise tenant's notice contacts")
            // the open case's gag order ended on 2026-05-05: the scheduler releases its notice; the indefinite one stays held
            #expect(try await services.notices.notice(caseID: open.id)?.state == .held)
            let released = Set(try await services.notices.releaseLapsed(at: services.now()).map(\.caseID))
            #expect(released.contains(open.id) && !released.contains(gagged.id))

            let (alphaSession, alphaCSRF) = try await Self.signIn(alpha.tenant, client, services)
            let portal = try await client.execute(uri: "/customer", method: .get, headers: alphaSession) { String(buffer: $0.body) }
            #expect(portal.contains(open.number))
            #expect(!portal.contains(gagged.number), "a barred notice is not shown")
            #expect(!portal.contains(betas.number), "another tenant's demand is never shown")

            // the copy of the demand, logged as a read
            let demand = try #require(try await services.cases.findDemand(id: open.demandID))
            let documentPath = "/customer/documents/\(demand.documents[0].id.uuidString.lowercased())"
            try await client.execute(uri: documentPath, method: .get, headers: alphaSession) { response throws in
                #expect(response.status == .ok)
                #expect(Data(response.body.readableBytesView) == Data("%PDF-1.4 test".utf8))
            }
            #expect(try await services.cases.timeline(caseID: open.id).contains { $0.record.action == "document.downloaded" && $0.record.actor.hasPrefix("customer:") })

            // another tenant, or a barred case, gets 404 for the same things
            let (betaSession, betaCSRF) = try await Self.signIn(beta.tenant, client, services)
            try await client.execute(uri: documentPath, method: .get, headers: betaSession) { response throws in #expect(response.status == .notFound) }
            var betaPost = betaSession
            betaPost[.contentType] = "application/x-www-form-urlencoded"
            try await client.execute(uri: "/customer/cases/\(open.id.uuidString.lowercased())/answer", method: .post, headers: betaPost, body: ByteBuffer(string: "_csrf=\(betaCSRF)&answer=consent")) { response throws in
                #expect(response.status == .notFound)
            }
            let gaggedDemand = try #require(try await services.cases.findDemand(id: gagged.demandID))
            try await client.execute(uri: "/customer/documents/\(gaggedDemand.documents[0].id.uuidString.lowercased())", method: .get, headers: alphaSession) { response throws in
                #expect(response.status == .notFound)
            }
            // staff pages stay closed to customers
            try await client.execute(uri: "/staff/queue", method: .get, headers: alphaSession) { response throws in #expect(response.status == .forbidden) }

            // consent, recorded as the customer's direction, once
            var alphaPost = alphaSession
            alphaPost[.contentType] = "application/x-www-form-urlencoded"
            try await client.execute(uri: "/customer/cases/\(open.id.uuidString.lowercased())/answer", method: .post, headers: alphaPost, body: ByteBuffer(string: "_csrf=\(alphaCSRF)&answer=consent&note=Go+ahead")) { response throws in
                #expect(response.status == .seeOther)
            }
            let answered = try #require(try await services.cases.findCase(id: open.id))
            #expect(answered.customerAnswer?.answer == .consent)
            #expect(try await services.cases.timeline(caseID: open.id).contains { $0.record.action == "case.customer_answer" && $0.record.details["answer"] == "consent" })
            try await client.execute(uri: "/customer/cases/\(open.id.uuidString.lowercased())/answer", method: .post, headers: alphaPost, body: ByteBuffer(string: "_csrf=\(alphaCSRF)&answer=object&note=changed+our+mind")) { response throws in
                #expect(response.status == .conflict)
            }
            // without the CSRF token nothing happens
            try await client.execute(uri: "/customer/cases/\(open.id.uuidString.lowercased())/answer", method: .post, headers: alphaPost, body: ByteBuffer(string: "answer=object")) { response throws in
                #expect(response.status == .forbidden)
            }
        }
    }

    @Test func theRedirectLetterNamesTheLegalContactForTheOwningAgencyOnly() async throws {
        try await ServerTests.withApp { client, tokens, services in
            let delta = try await Self.tenant("Delta", services)
            let subject = try await Self.caseInReview(for: delta, reference: "D-1", gag: false, client, tokens, services)
            try await client.execute(uri: "/api/v1/cases/\(subject.id.uuidString.lowercased())/events", method: .post, headers: ServerTests.headers(tokens.reviewer), body: ByteBuffer(string: #"{"type": "redirect"}"#)) { response throws in
                #expect(response.status == .ok)
            }
            let redirected = try #require(try await services.cases.findCase(id: subject.id))
            #expect(redirected.state == .redirectPending)
            #expect(redirected.redirectLetter?.contains("Legal <legal@delta.example>") == true)
            let entry = try #require(try await services.cases.timeline(caseID: subject.id).last { $0.record.action == "case.redirect" })
            #expect(entry.record.details["disclosed"] == "customer_contact")
            // the agency reads it in the API, as a page and as plain text
            try await client.execute(uri: "/api/v1/demands/\(subject.demandID.uuidString.lowercased())", method: .get, headers: ServerTests.headers(tokens.officer)) { response throws in
                let summary = try ServerTests.json(response.body)
                #expect((summary["redirectLetter"] as? String)?.contains("legal@delta.example") == true)
            }
            let page = "/agency/cases/\(subject.id.uuidString.lowercased())/redirect-letter"
            try await client.execute(uri: page, method: .get, headers: [.authorization: "Bearer \(tokens.officer)"]) { response throws in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).contains("legal@delta.example"))
            }
            try await client.execute(uri: page + ".txt", method: .get, headers: [.authorization: "Bearer \(tokens.officer)"]) { response throws in
                #expect(response.headers[.contentType] == "text/plain; charset=utf-8")
            }
            try await client.execute(uri: page, method: .get, headers: [.authorization: "Bearer \(tokens.otherOfficer)"]) { response throws in
                #expect(response.status == .notFound)
            }

            // an officer of the agency answers in the portal: the list shows the date; insisting needs a reason
            let officer = Principal(id: UUID(), email: "sgt@agency.example", displayName: "Sgt", kind: .agency, agencyID: subject.agencyID)
            let (session, csrf) = try await Self.signIn(officer, portal: "/agency", landing: page, client, services)
            let list = try await client.execute(uri: "/agency/demands", method: .get, headers: session) { String(buffer: $0.body) }
            #expect(list.contains("answer by \(Timestamp.format(try #require(redirected.redirectAnswerDueAt)))"))
            let letterPage = try await client.execute(uri: page, method: .get, headers: session) { String(buffer: $0.body) }
            #expect(letterPage.contains(#"id="redirect-answer""#) && letterPage.contains("/redirect-answer"))
            var post = session
            post[.contentType] = "application/x-www-form-urlencoded"
            let answer = "/agency/cases/\(subject.id.uuidString.lowercased())/redirect-answer"
            try await client.execute(uri: answer, method: .post, headers: post, body: ByteBuffer(string: "_csrf=\(csrf)&answer=insist")) { response throws in
                #expect(response.status == .conflict)
            }
            #expect(try await services.cases.findCase(id: subject.id)?.state == .redirectPending)
            try await client.execute(uri: answer, method: .post, headers: post, body: ByteBuffer(string: "_csrf=\(csrf)&answer=insist&note=The+customer+is+the+suspect")) { response throws in
                #expect(response.status == .seeOther)
            }
            let insisted = try #require(try await services.cases.findCase(id: subject.id))
            #expect(insisted.state == .inReview && insisted.redirect == .requesterInsisted)
            #expect(try await services.cases.timeline(caseID: subject.id).contains {
                $0.record.action == "case.agency_answer" && $0.record.details["reason"] == "The customer is the suspect"
            })
            // answered: the form is gone
            let after = try await client.execute(uri: page, method: .get, headers: session) { String(buffer: $0.body) }
            #expect(!after.contains(#"id="redirect-answer""#))
        }
    }

    /// A multipart answer form: fields, then files as (name, media type, bytes).
    static func multipart(_ fields: [(String, String)], files: [(String, String, Data)]) -> (String, ByteBuffer) {
        let boundary = "----custos-test-\(UUID().uuidString)"
        var body = Data()
        for (name, value) in fields {
            body.append(Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n".utf8))
        }
        for (filename, type, bytes) in files {
            body.append(Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"attachment\"; filename=\"\(filename)\"\r\nContent-Type: \(type)\r\n\r\n".utf8))
            body.append(bytes)
            body.append(Data("\r\n".utf8))
        }
        body.append(Data("--\(boundary)--\r\n".utf8))
        return ("multipart/form-data; boundary=\(boundary)", ByteBuffer(data: body))
    }

    /// C8: an objection with documents goes to challenge review; staff see it flagged in the queue,
    /// read the documents (logged), and a reviewer dismisses it with reasons.
    /// With an object store (issue 28), the attachment is kept there sealed and its row names it.
    @Test(arguments: BlobStoreTests.documentStores)
    func anObjectionWithDocumentsGoesToChallengeReview(store: String) async throws {
        try await ServerTests.withApp(reader: try await BlobStoreTests.documentReader(store)) { client, tokens, services in
            let delta = try await Self.tenant("Delta", services)
            let subject = try await Self.caseInReview(for: delta, reference: "D-OBJ", gag: false, client, tokens, services)
            try await services.notices.releaseLapsed(at: services.now())
            let (session, csrf) = try await Self.signIn(delta.tenant, client, services)
            let path = "/customer/cases/\(subject.id.uuidString.lowercased())/answer"
            let evidence = Data("%PDF-1.4 account closed 2025-12-01".utf8)

            // bad input changes nothing: a document with a consent, a type that is not accepted
            for (answer, file) in [("consent", ("ok.pdf", "application/pdf", evidence)), ("object", ("run.exe", "application/x-msdownload", evidence))] {
                let (type, body) = Self.multipart([("_csrf", csrf), ("answer", answer), ("note", "x")], files: [file])
                var headers = session
                headers[.contentType] = type
                try await client.execute(uri: path, method: .post, headers: headers, body: body) { response throws in
                    #expect(response.status == .badRequest)
                    #expect(String(buffer: response.body).contains("attachment"))
                }
            }
            #expect(try await services.cases.findCase(id: subject.id)?.customerAnswer == nil)

            let (type, body) = Self.multipart(
                [("_csrf", csrf), ("answer", "object"), ("note", "The account was closed before the window.")],
                files: [("closure-letter.pdf", "application/pdf", evidence), ("", "application/octet-stream", Data())])
            var headers = session
            headers[.contentType] = type
            try await client.execute(uri: path, method: .post, headers: headers, body: body) { response throws in
                #expect(response.status == .seeOther)
            }
            let objected = try #require(try await services.cases.findCase(id: subject.id))
            #expect(objected.awaitsChallengeReview)
            let attachment = try #require(objected.customerAnswer?.attachments?.first)
            #expect(objected.customerAnswer?.attachments?.count == 1, "an empty file input is not an attachment")
            #expect(attachment.filename == "closure-letter.pdf" && attachment.byteCount == evidence.count)
            let answerEntry = try #require(try await services.cases.timeline(caseID: subject.id).first { $0.record.action == "case.customer_answer" })
            #expect(answerEntry.record.details["attachments"] == "closure-letter.pdf sha256:\(attachment.sha256)")
            try await BlobStoreTests.expectKept(in: store, table: "case_attachments", prefix: "attachments", id: attachment.id, plain: evidence, services)

            // staff: the queue flags it and filters on it; the case page links the document
            let queue = try await ServerTests.consolePage("/staff/queue?attention=challenge_review", client: client, services: services, roles: [.reviewer])
            #expect(queue.contains(#"id="challenge-review-count""#) && queue.contains(subject.number) && queue.contains("customer objected"))
            let others = try await ServerTests.consolePage("/staff/queue?attention=redirect_overdue", client: client, services: services, roles: [.reviewer])
            #expect(!others.contains(">\(subject.number)</a>"))
            let page = try await ServerTests.consolePage("/staff/cases/\(subject.id.uuidString.lowercased())", client: client, services: services, roles: [.reviewer])
            #expect(page.contains("/staff/attachments/\(attachment.id.uuidString.lowercased())"))
            #expect(page.contains("Challenge review") && page.contains(#"value="dismiss_objection""#))

            // the document: staff read it (logged); the agency and other customers cannot
            let download = "/staff/attachments/\(attachment.id.uuidString.lowercased())"
            try await client.execute(uri: download, method: .get, headers: ServerTests.headers(tokens.officer)) { response throws in
                #expect(response.status == .forbidden || response.status == .notFound)
            }
            try await client.execute(uri: download, method: .get, headers: session) { response throws in
                #expect(response.status == .forbidden || response.status == .notFound)
            }
            _ = try await ServerTests.consolePage(download, client: client, services: services, roles: [.reviewer])
            #expect(try await services.cases.timeline(caseID: subject.id).contains {
                $0.record.action == "attachment.downloaded" && $0.record.details["sha256"] == attachment.sha256
            })

            // a reviewer dismisses it with reasons (API); then it leaves the review queue
            let events = "/api/v1/cases/\(subject.id.uuidString.lowercased())/events"
            try await client.execute(uri: events, method: .post, headers: ServerTests.headers(tokens.reviewer), body: ByteBuffer(string: #"{"type": "dismiss_objection"}"#)) { response throws in
                #expect(response.status == .conflict || response.status == .badRequest)
            }
            try await client.execute(uri: events, method: .post, headers: ServerTests.headers(tokens.reviewer), body: ByteBuffer(string: #"{"type": "dismiss_objection", "note": "Our records show the account open throughout."}"#)) { response throws in
                #expect(response.status == .ok)
            }
            #expect(try await services.cases.findCase(id: subject.id)?.awaitsChallengeReview == false)
            let after = try await ServerTests.consolePage("/staff/queue?attention=challenge_review", client: client, services: services, roles: [.reviewer])
            #expect(!after.contains(#"id="challenge-review-count""#))
        }
    }

    @Test func answeringDirectlyClosesTheCaseAsRedirected() async throws {
        try await ServerTests.withApp { client, tokens, services in
            let gamma = try await Self.tenant("Gamma", services)
            let subject = try await Self.caseInReview(for: gamma, reference: "G-OPEN", gag: false, client, tokens, services)
            try await services.notices.releaseLapsed(at: services.now())
            let (session, csrf) = try await Self.signIn(gamma.tenant, client, services)
            var post = session
            post[.contentType] = "application/x-www-form-urlencoded"
            try await client.execute(uri: "/customer/cases/\(subject.id.uuidString.lowercased())/answer", method: .post, headers: post, body: ByteBuffer(string: "_csrf=\(csrf)&answer=answer_directly")) { response throws in
                #expect(response.status == .seeOther)
            }
            let closed = try #require(try await services.cases.findCase(id: subject.id))
            #expect(closed.state == .closed && closed.outcome == .redirected)
        }
    }
}
