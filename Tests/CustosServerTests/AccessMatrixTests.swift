import CustosDomain
@testable import CustosServer
import CustosStorage
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// Issue 10, item 3 (first part): every route of the route table × every kind of caller, generated
/// from the table itself, so a route added later is covered without touching this test. Each
/// request must get exactly what the route's declared policy says (refused with the policy's 403,
/// 401 or sign-in redirect, or let through to its handler), never a server error, and no caller
/// from another agency or tenant ever receives a byte of the seeded cases: one just received (with
/// a gag order, of an enterprise customer) and one released (a consumer's, customer notice planned,
/// package built and offered to agency A). Customers are outsiders to every tenant's case but their own.
@Suite struct AccessMatrixTests {
    struct Caller: CustomStringConvertible {
        var name: String
        var principal: Principal?
        var token: String?
        /// Anonymous callers and the other agency never see either seeded case.
        var isOutsider: Bool
        var description: String { name }

        /// Whether this caller must never see `subject`: customers see only their own tenant's cases.
        func isOutsider(to subject: Case) -> Bool {
            if isOutsider { return true }
            guard let principal, principal.kind == .customer else { return false }
            return principal.tenantID != subject.customer?.tenantID
        }
    }

    /// A concrete URL for a route pattern: the seeded case or demand for `{id}` where the route is
    /// about cases or demands, a fresh id elsewhere, and a tile path for catch-alls.
    static func concrete(_ pattern: String, caseID: UUID, demandID: UUID) -> String {
        var segments: [String] = []
        for segment in pattern.split(separator: "/", omittingEmptySubsequences: false).map(String.init) {
            if segment == "**" || segment == "*" {
                segments.append("0/000")
            } else if segment.hasPrefix("{") || segment.hasPrefix(":") {
                let previous = segments.last ?? ""
                segments.append(previous == "cases" ? caseID.uuidString.lowercased() : previous == "demands" ? demandID.uuidString.lowercased() : UUID().uuidString.lowercased())
            } else {
                segments.append(segment)
            }
        }
        return segments.joined(separator: "/")
    }

    @Test func everyRouteAnswersEveryCallerAsItsPolicyDeclares() async throws {
        try await ServerTests.withApp { client, tokens, services in
            // The seeded case: agency A's demand about Alice, a customer of tenant "Alice Co".
            let tenant = Tenant(id: UUID(), name: "Alice Co", kind: .enterprise, country: "US", dataLocation: "US")
            try await services.directory.createTenant(tenant, accounts: [CustomerAccount(id: UUID(), tenantID: tenant.id, accountID: "acct-alice-77", email: "alice@example.com")])
            let other = Tenant(id: UUID(), name: "Other Co", kind: .enterprise, country: "US", dataLocation: "US")
            try await services.directory.createTenant(other)
            let reference = "MATRIX-SECRET-REF-42"
            let releasedReference = "MATRIX-RELEASED-REF-7"
            let demandText = try await client.execute(uri: "/api/v1/demands", method: .post, headers: ServerTests.headers(tokens.officer), body: ByteBuffer(string: ServerTests.demandJSON(reference: reference))) { response in
                #expect(response.status == .created)
                return try #require(try ServerTests.json(response.body)["id"] as? String)
            }
            let demandID = try #require(UUID(uuidString: demandText))
            let seeded = try #require(try await services.cases.findCase(demandID: demandID))
            #expect(seeded.customer?.tenantID == tenant.id)

            var callers = [Caller(name: "anonymous", principal: nil, token: nil, isOutsider: true)]
            func add(_ name: String, _ principal: Principal, outsider: Bool) async throws {
                try await services.identity.createPrincipal(principal, passwordHash: "unused", at: services.now())
                let token = try await services.identity.issueToken(for: principal.id, label: "matrix", at: services.now()).token
                callers.append(Caller(name: name, principal: principal, token: token, isOutsider: outsider))
            }
            for role in StaffRole.allCases {
                try await add("staff(\(role.rawValue))", Principal(id: UUID(), email: "matrix-\(role.rawValue)@p.example", displayName: role.rawValue, kind: .staff, roles: [role]), outsider: false)
            }
            let agencyA = try #require(try await services.identity.findPrincipal(email: "a@agency.example"))
            let agencyB = try #require(try await services.identity.findPrincipal(email: "b@agency.example"))
            callers.append(Caller(name: "agency (own)", principal: agencyA, token: tokens.officer, isOutsider: false))
            callers.append(Caller(name: "agency (other)", principal: agencyB, token: tokens.otherOfficer, isOutsider: true))
            try await add("customer (own)", Principal(id: UUID(), email: "matrix-own@alice.example", displayName: "Own", kind: .customer, tenantID: tenant.id), outsider: false)
            try await add("customer (other)", Principal(id: UUID(), email: "matrix-other@other.example", displayName: "Other", kind: .customer, tenantID: other.id), outsider: true)
            // A second case, of a consumer customer, carried to the end: reviewed (the customer's
            // notice is planned), collected, packaged and released to agency A, so the matrix also
            // asks for notices, packages and download links that exist.
            let released = try await Self.releasedCase(client, tokens, services, reference: releasedReference)
            try await add("customer (released case's)", Principal(id: UUID(), email: "matrix-released@consumer.example", displayName: "Consumer", kind: .customer, tenantID: released.customer?.tenantID), outsider: false)


            let table = buildRouter(services: services).policies
            #expect(table.count > 80, "the route table is read, not a hand-written list")
            var checked = 0
            for (subject, demandID, secrets) in [
                (seeded, demandID, [reference, seeded.number, "acct-alice-77", "alice@example.com"]),
                (released, released.demandID, [releasedReference, released.number, "acct-\(releasedReference)", "\(releasedReference.lowercased())@example.com"]),
            ] {
                for (key, policy) in table.sorted(by: { $0.key < $1.key }) {
                    let parts = key.split(separator: " ", maxSplits: 1).map(String.init)
                    let method = HTTPRequest.Method(parts[0])!
                    let uri = Self.concrete(parts[1], caseID: subject.id, demandID: demandID)
                    let isPage = !(uri.hasPrefix("/api/") || uri.hasPrefix("/log/") || uri.hasPrefix("/.well-known/") || uri == "/health" || uri == "/openapi.yaml" || uri.hasPrefix("/transparency/"))
                    for caller in callers {
                        var headers: HTTPFields = [:]
                        if let token = caller.token { headers[.authorization] = "Bearer \(token)" }
                        let allowed = policy.allows(caller.principal)
                        try await client.execute(uri: uri, method: method, headers: headers) { response throws in
                            let body = String(decoding: response.body.readableBytesView, as: UTF8.self)
                            let what = "\(key) for case \(subject.number) as \(caller) [\(policy)] → \(response.status.code)"
                            #expect(response.status.code < 500, "server error: \(what): \(body.prefix(200))")
                            let refusedByPolicy = response.status == .forbidden && body.contains("may not use")
                            // The policy's own answers, told apart from a handler's (a sign-in page may answer 401 itself).
                            let askedToSignIn = (response.status == .unauthorized && body.contains("sign in or send an API token"))
                                || (response.status == .seeOther && response.headers[.location]?.contains("/login?next=") == true)
                            if allowed {
                                #expect(!refusedByPolicy && !(askedToSignIn && caller.principal != nil), "refused although the policy allows it: \(what)")
                            } else if caller.principal == nil {
                                #expect(askedToSignIn && (isPage ? response.status == .seeOther : response.status == .unauthorized), "anonymous not sent to sign in: \(what)")
                            } else {
                                #expect(refusedByPolicy, "let through although the policy refuses it: \(what)")
                            }
                            if caller.isOutsider(to: subject) {
                                for secret in secrets {
                                    #expect(!body.contains(secret), "\(secret) leaked: \(what)")
                                }
                                // The released package's bytes: a ZIP, or its records' content.
                                #expect(!body.hasPrefix("PK") && !body.contains(Self.recordContent), "package content leaked: \(what)")
                            }
                        }
                        checked += 1
                    }
                }
            }
            #expect(checked == 2 * table.count * callers.count)
            // The own agency does get the released package, so the check above is not vacuous.
            try await client.execute(uri: "/agency/cases/\(released.id.uuidString.lowercased())/package", method: .get, headers: [.authorization: "Bearer \(tokens.officer)"]) { response throws in
                #expect(response.status == .ok && Data(response.body.readableBytesView).starts(with: Data("PK".utf8)))
            }
            #expect(try await services.cases.findCase(id: released.id)?.state == .released)
            // The seeded case is untouched by hundreds of requests without valid forms.
            #expect(try await services.cases.findCase(id: seeded.id)?.state == .received)
        }
    }

    /// What the released case's only record holds: it must reach agency A's download and no one else.
    static let recordContent = "matrix-subscriber-record-content"

    /// A consumer customer's case without a gag order, reviewed, collected, packaged and released to agency A.
    static func releasedCase(_ client: any TestClientProtocol, _ tokens: ServerTests.Tokens, _ services: CustosServices, reference: String) async throws -> Case {
        let subject = try await NoticeDeliveryTests.caseInReview(client, tokens, services, reference: reference)
        try await services.demoRecords.add([CustomerRecord(
            account: "acct-\(reference)", category: .subscriberInfo, timestamp: Timestamp.parse("2026-01-15T12:00:00Z")!, mediaType: "text/plain",
            bytes: Data(recordContent.utf8), sourceID: "matrix-1")])
        let custodian = Principal(id: UUID(), email: "matrix-release-custodian@p.example", displayName: "CU", kind: .staff, roles: [.custodian])
        try await services.identity.createPrincipal(custodian, passwordHash: "unused", at: services.now())
        let custodianToken = try await services.identity.issueToken(for: custodian.id, label: "matrix", at: services.now()).token
        let events = "/api/v1/cases/\(subject.id.uuidString.lowercased())/events"
        func send(_ token: String, _ event: String) async throws {
            try await client.execute(uri: events, method: .post, headers: ServerTests.headers(token), body: ByteBuffer(string: event)) { response throws in
                #expect(response.status == .ok, "\(event): \(String(buffer: response.body))")
            }
        }
        for token in [tokens.approver1, tokens.approver2] { try await send(token, #"{"type": "approve_scope", "categories": ["subscriber_info"]}"#) }
        try await send(custodianToken, #"{"type": "start_collection"}"#)
        #expect(try await PackageRunner(services: services).tick(at: services.now()).built == 1)
        for token in [tokens.approver1, tokens.approver2] { try await send(token, #"{"type": "approve_release"}"#) }
        try await send(custodianToken, #"{"type": "release"}"#)
        #expect(try await services.notices.notice(caseID: subject.id) != nil, "the customer's notice is planned")
        return try #require(try await services.cases.findCase(id: subject.id))
    }
}
