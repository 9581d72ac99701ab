import Configuration
import CustosDomain
@testable import CustosServer
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// Issue 10, item 5 (part): guessing passwords is slowed per account and per client address, and
/// every response carries the security headers (HSTS only when the server is reached over TLS).
@Suite struct SignInThrottleTests {
    @Test func theLockStartsAfterFiveMissesAndDoublesUpToAnHour() {
        let t0 = Timestamp.parse("2026-05-04T09:00:00Z")!
        #expect(LoginThrottle.lockedUntil(failures: 4, lastFailureAt: t0) == nil)
        #expect(LoginThrottle.lockedUntil(failures: 5, lastFailureAt: t0) == t0.addingTimeInterval(30))
        #expect(LoginThrottle.lockedUntil(failures: 6, lastFailureAt: t0) == t0.addingTimeInterval(60))
        #expect(LoginThrottle.lockedUntil(failures: 10, lastFailureAt: t0) == t0.addingTimeInterval(960))
        #expect(LoginThrottle.lockedUntil(failures: 12, lastFailureAt: t0) == t0.addingTimeInterval(3600))
        #expect(LoginThrottle.lockedUntil(failures: 500, lastFailureAt: t0) == t0.addingTimeInterval(3600))
    }

    @Test func wrongPasswordsLockTheAccountUntilTheLockEnds() async throws {
        let clock = CopyrightFlowTests.TestClock(Timestamp.parse("2026-05-04T09:00:00Z")!)
        try await ServerTests.withApp(clock: clock.now) { client, _, services in
            let person = Principal(id: UUID(), email: "lock@p.example", displayName: "L", kind: .customer, tenantID: nil)
            try await services.identity.createPrincipal(person, passwordHash: try await Passwords.hash("the right password"), at: services.now())
            for _ in 0..<LoginThrottle.freeFailures {
                let wrong = try await SecondFactorTests.password(person.email, "a wrong password", portal: "/customer", client)
                #expect(wrong.session == nil)
            }
            // Locked: even the right password is refused, and says until when.
            let (cookie, token) = try await client.execute(uri: "/customer/login", method: .get) { response in
                (try #require(ServerTests.cookie("custos_login_csrf", in: response)), try #require(ServerTests.csrf(in: String(buffer: response.body))))
            }
            try await client.execute(
                uri: "/customer/login", method: .post, headers: [.contentType: "application/x-www-form-urlencoded", .cookie: "custos_login_csrf=\(cookie)"],
                body: ByteBuffer(string: "_csrf=\(token)&email=lock%40p.example&password=the+right+password")
            ) { response throws in
                #expect(response.status == .tooManyRequests)
                #expect(String(buffer: response.body).contains("locked until 2026-05-04T09:00:30"))
            }
            #expect(try await services.cases.auditTrail().contains { $0.record.action == "principal.locked_out" && $0.record.details["failures"] == "5" })
            clock.advance(31)
            #expect(try await SecondFactorTests.password(person.email, "the right password", portal: "/customer", client).session != nil)
            // The count starts again after a success: four misses do not lock.
            for _ in 0..<(LoginThrottle.freeFailures - 1) { _ = try await SecondFactorTests.password(person.email, "wrong again", portal: "/customer", client) }
            #expect(try await SecondFactorTests.password(person.email, "the right password", portal: "/customer", client).session != nil)
        }
    }

    @Test func oneAddressMayTryOnlySoOftenAndHeadersAreSet() async throws {
        let reader = ConfigReader(providers: [InMemoryProvider(values: [
            "custos.database.memory": true, "custos.log.level": "error", "custos.sign.in.attempts.per.10.minutes": 3,
            "custos.public.url": "https://custos.example",
        ])])
        try await ServerTests.withApp(reader: reader) { client, _, _ in
            for _ in 0..<3 { _ = try await SecondFactorTests.password("nobody@p.example", "whatever", portal: "/staff", client) }
            let (cookie, token) = try await client.execute(uri: "/staff/login", method: .get) { response in
                #expect(response.headers[HTTPField.Name("Strict-Transport-Security")!] == "max-age=31536000; includeSubDomains")
                #expect(response.headers[HTTPField.Name("X-Frame-Options")!] == "DENY")
                #expect(response.headers[HTTPField.Name("Content-Security-Policy")!]?.contains("default-src 'none'") == true)
                return (try #require(ServerTests.cookie("custos_login_csrf", in: response)), try #require(ServerTests.csrf(in: String(buffer: response.body))))
            }
            try await client.execute(
                uri: "/staff/login", method: .post, headers: [.contentType: "application/x-www-form-urlencoded", .cookie: "custos_login_csrf=\(cookie)"],
                body: ByteBuffer(string: "_csrf=\(token)&email=nobody%40p.example&password=x")
            ) { response throws in
                #expect(response.status == .tooManyRequests)
                #expect(Int(response.headers[HTTPField.Name("Retry-After")!] ?? "") ?? 0 > 0)
            }
        }
        // Without TLS there is no HSTS header (it would lock browsers out of a plain-HTTP install).
        try await ServerTests.withApp { client, _, _ in
            try await client.execute(uri: "/health", method: .get) { response throws in
                #expect(response.headers[HTTPField.Name("Strict-Transport-Security")!] == nil)
                #expect(response.headers[HTTPField.Name("X-Frame-Options")!] == "DENY")
            }
        }
    }
}
