import Configuration
import CustosDomain
@testable import CustosServer
import CustosStorage
import Crypto
import Foundation
import NIOCore
import NIOPosix
import Testing

/// A real SMTP server (`Tests/smtp/smtp_sink.py`, Python aiosmtpd, installed by `scripts/test`)
/// with STARTTLS on a throw-away certificate and AUTH PLAIN. Each accepted message lands in its
/// folder as JSON: envelope, TLS, login, headers, text and attachment hashes.
final class SMTPSink: @unchecked Sendable {
    let folder: URL
    let port: Int
    let process: Process
    let input: Pipe
    var caFile: String { folder.appendingPathComponent("ca.pem").path }

    init(user: String? = "notices", password: String? = "relay-secret-1", startTLS: Bool = true, reject: String? = nil) throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("custos-smtp-\(UUID().uuidString)")
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("smtp/smtp_sink.py").path
        var arguments = [script, "--dir", folder.path]
        if let user, let password { arguments += ["--user", user, "--password", password] }
        if !startTLS { arguments.append("--no-starttls") }
        if let reject { arguments += ["--reject", reject] }
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3"] + arguments
        input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        // The first line is `READY <port>`; anything else means aiosmtpd (or openssl) is missing.
        var line = Data()
        while let byte = try output.fileHandleForReading.read(upToCount: 1), !byte.isEmpty, byte != Data("\n".utf8) { line.append(byte) }
        let text = String(decoding: line, as: UTF8.self)
        guard text.hasPrefix("READY "), let port = Int(text.dropFirst(6)) else {
            process.terminate()
            throw DeliveryError("the SMTP test server did not start (needs python3 with aiosmtpd and openssl; scripts/test installs them): \(text)")
        }
        self.port = port
    }

    func stop() {
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: folder)
    }

    /// Accepted messages in the order they arrived.
    func messages() throws -> [[String: Any]] {
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".json") }.sorted()
        return try names.map { try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent($0))) as! [String: Any] }
    }

    func settings(security: SMTPSecurity = .startTLS, user: String? = "notices", password: String? = "relay-secret-1", trusted: Bool = true) -> SMTPSettings {
        SMTPSettings(
            host: "localhost", port: port, security: security, username: user, password: password, from: "notices@provider.example",
            trustRootsFile: trusted ? caFile : nil, timeout: .seconds(10))
    }

    static func with(
        user: String? = "notices", password: String? = "relay-secret-1", startTLS: Bool = true, reject: String? = nil,
        _ body: (SMTPSink) async throws -> Void
    ) async throws {
        let sink = try SMTPSink(user: user, password: password, startTLS: startTLS, reject: reject)
        defer { sink.stop() }
        try await body(sink)
    }
}

/// The email channel (C5) against a real SMTP server: STARTTLS, AUTH PLAIN, MIME with the copy
/// attached, refusal of anything that would leak or half-send, and the runner's no-repeat rule.
@Suite(.serialized) struct EmailChannelTests {
    static let document = Data("%PDF-1.4\n.a line that starts with a dot\n%%EOF\n".utf8)

    static func message(recipients: [String] = ["legal@northwind.example", "dpo@northwind.example"]) -> NoticeMessage {
        NoticeMessage(
            deliveryId: "notice_6f1c2a3e-0000-4000-8000-000000000001", noticeId: UUID(), caseNumber: "C-2026-0042", tenant: "Northwind",
            recipients: recipients, message: "We received a legal demand for data of your account.\n.This line starts with a dot.",
            portalURL: "https://custos.provider.example/customer", answerBy: Date(timeIntervalSince1970: 1_800_000_000),
            demand: .init(
                instrument: "us.search_warrant", jurisdiction: "US", issuingAuthority: "U.S. District Court, W.D. Wash.",
                caseReference: "2:26-mj-00412", receivedAt: Date(timeIntervalSince1970: 1_790_000_000), categories: ["content"]),
            documents: [
                .init(filename: "warrant.pdf", mediaType: "application/pdf", sha256: SHA256.hash(data: document).hex, bytes: document),
                .init(filename: "Beschluss Köln.pdf", mediaType: "application/pdf", sha256: SHA256.hash(data: Data("zwei".utf8)).hex, bytes: Data("zwei".utf8)),
            ])
    }

    @Test func aNoticeGoesOutOverSTARTTLSWithAuthPlainAndTheDemandAttached() async throws {
        try await SMTPSink.with { sink in
            let channel = try SMTPChannel(settings: sink.settings())
            let receipt = try await channel.deliver(NoticeDelivery(message: Self.message()), at: Date(timeIntervalSince1970: 1_795_000_000))
            #expect(receipt.contains("250") && receipt.contains("queued as custos-test-1"))
            let received = try sink.messages()
            #expect(received.count == 1)
            let mail = try #require(received.first)
            #expect(mail["tls"] as? Bool == true)
            #expect(mail["login"] as? String == "notices")
            #expect(mail["mailFrom"] as? String == "notices@provider.example")
            #expect(mail["rcptTos"] as? [String] == ["legal@northwind.example", "dpo@northwind.example"])
            let headers = try #require(mail["headers"] as? [String: String])
            #expect(headers["Message-ID"] == "<notice_6f1c2a3e-0000-4000-8000-000000000001@provider.example>")
            #expect(headers["X-Custos-Delivery-Id"] == "notice_6f1c2a3e-0000-4000-8000-000000000001")
            #expect(headers["Subject"] == "Legal demand concerning your account: case C-2026-0042")
            #expect(headers["Auto-Submitted"] == "auto-generated")
            let text = try #require(mail["text"] as? String)
            #expect(text.contains("\n.This line starts with a dot."))  // dot-stuffing undone by the server
            #expect(text.contains("https://custos.provider.example/customer"))
            #expect(text.contains("2:26-mj-00412"))
            let attachments = try #require(mail["attachments"] as? [[String: Any]])
            #expect(attachments.map { $0["filename"] as? String } == ["warrant.pdf", "Beschluss Köln.pdf"])
            #expect(attachments.first?["sha256"] as? String == SHA256.hash(data: Self.document).hex)
            #expect(attachments.first?["size"] as? Int == Self.document.count)
        }
    }

    @Test func aRelayWithoutSTARTTLSIsRefusedAndNothingIsSentInPlaintext() async throws {
        try await SMTPSink.with(user: nil, password: nil, startTLS: false) { sink in
            let channel = try SMTPChannel(settings: sink.settings(user: nil, password: nil, trusted: false))
            await #expect { try await channel.deliver(NoticeDelivery(message: Self.message()), at: Date()) } throws: { error in
                "\(error)".contains("does not offer STARTTLS")
            }
            #expect(try sink.messages().isEmpty)
            // the same relay is usable when the provider says so for a relay on the same host
            _ = try await SMTPChannel(settings: sink.settings(security: .none, user: nil, password: nil, trusted: false))
                .deliver(NoticeDelivery(message: Self.message()), at: Date())
            #expect(try sink.messages().first?["tls"] as? Bool == false)
        }
    }

    @Test func aRelayWithAnUntrustedCertificateIsRefused() async throws {
        try await SMTPSink.with { sink in
            let channel = try SMTPChannel(settings: sink.settings(trusted: false))
            await #expect { try await channel.deliver(NoticeDelivery(message: Self.message()), at: Date()) } throws: { error in
                "\(error)".contains("CERTIFICATE_VERIFY_FAILED") || "\(error)".contains("certificate verify failed")
            }
            #expect(try sink.messages().isEmpty)
        }
    }

    @Test func aWrongPasswordFailsWithTheRelaysAnswer() async throws {
        try await SMTPSink.with { sink in
            let channel = try SMTPChannel(settings: sink.settings(password: "not-the-password"))
            await #expect { try await channel.deliver(NoticeDelivery(message: Self.message()), at: Date()) } throws: { error in
                "\(error)".contains("AUTH PLAIN") && "\(error)".contains("535")
            }
            #expect(try sink.messages().isEmpty)
            #expect(!"\(SMTPError.unexpected(SMTPReply(code: 535, lines: ["no"]), after: "AUTH PLAIN"))".contains("relay-secret"))
        }
    }

    @Test func oneRefusedRecipientMeansNoRecipientGetsTheMessage() async throws {
        try await SMTPSink.with(reject: "gone") { sink in
            let channel = try SMTPChannel(settings: sink.settings())
            let message = Self.message(recipients: ["legal@northwind.example", "gone@northwind.example"])
            await #expect { try await channel.deliver(NoticeDelivery(message: message), at: Date()) } throws: { error in
                "\(error)".contains("gone@northwind.example") && "\(error)".contains("550")
            }
            #expect(try sink.messages().isEmpty)
        }
    }

    @Test func aRelayThatNeverAnswersTimesOut() async throws {
        // A listener that accepts connections and says nothing.
        let silent = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0).get()
        defer { silent.close(promise: nil) }
        let settings = SMTPSettings(
            host: "127.0.0.1", port: silent.localAddress!.port!, security: .none, from: "notices@provider.example", timeout: .milliseconds(500))
        await #expect { try await SMTPChannel(settings: settings).deliver(NoticeDelivery(message: Self.message()), at: Date()) } throws: { error in
            "\(error)".contains("timed out")
        }
    }

    /// A refused mailbox is a permanent failure: the job is dead-lettered at once (not retried for
    /// hours), the notice shows failed with the relay's words, and nothing was sent.
    @Test func aPermanentRefusalDeadLettersAtOnce() async throws {
        try await SMTPSink.with(reject: "e-2") { sink in
            try await ServerTests.withApp { client, tokens, services in
                let subject = try await NoticeDeliveryTests.caseInReview(client, tokens, services, reference: "E-2")
                let runner = NoticeRunner(services: services, channels: [try SMTPChannel(settings: sink.settings())], owner: "t")
                let report = try await runner.tick(at: services.now())
                #expect(report.deadLettered == 1 && report.retried == 0)
                let failed = try #require(try await services.notices.notice(caseID: subject.id))
                #expect(failed.state == .failed && failed.reason.contains("550"))
                #expect(try sink.messages().isEmpty)
            }
        }
    }

    @Test func settingsThatWouldLeakOrCannotWorkStopStartup() throws {
        func problem(_ values: [AbsoluteConfigKey: ConfigValue]) -> String? {
            var all = values
            all["custos.database.memory"] = true
            let configuration = AppConfiguration(reader: ConfigReader(providers: [InMemoryProvider(values: all)]))
            do {
                _ = try configuration.noticeChannels()
                return nil
            } catch {
                return "\(error)"
            }
        }
        let relay: [AbsoluteConfigKey: ConfigValue] = ["custos.smtp.host": "smtp.provider.example", "custos.smtp.from": "notices@provider.example"]
        #expect(problem(relay) == nil)
        #expect(problem(["custos.smtp.host": "smtp.provider.example"])?.contains("CUSTOS_SMTP_FROM") == true)
        #expect(problem(relay.merging(["custos.smtp.tls": "none", "custos.smtp.username": "u", "custos.smtp.password": "p"]) { $1 })?.contains("plaintext") == true)
        #expect(problem(relay.merging(["custos.smtp.username": "u"]) { $1 })?.contains("CUSTOS_SMTP_PASSWORD") == true)
        #expect(problem(relay.merging(["custos.smtp.tls": "ssl"]) { $1 })?.contains("CUSTOS_SMTP_TLS") == true)
        #expect(problem(relay.merging(["custos.smtp.ca.file": "/nonexistent/ca.pem"]) { $1 })?.contains("CUSTOS_SMTP_CA_FILE") == true)
    }

    /// A notice goes out by email and by webhook; the webhook fails at first. The retry must send
    /// the webhook only: the mailbox gets the notice once.
    @Test func whenOneChannelFailsTheRetryRepeatsOnlyThatChannel() async throws {
        try await SMTPSink.with { sink in
            try await NoticeDeliveryTests.withReceiver { url, receiver in
                try await ServerTests.withApp { client, tokens, services in
                    let subject = try await NoticeDeliveryTests.caseInReview(client, tokens, services, reference: "E-1")
                    let notice = try #require(try await services.notices.notice(caseID: subject.id))
                    await receiver.fail(notice.deliveryID)
                    let runner = NoticeRunner(
                        services: services,
                        channels: [try SMTPChannel(settings: sink.settings()), WebhookChannel(url: url, secret: NoticeDeliveryTests.secret)],
                        policy: RetryPolicy(baseDelay: 0, maxDelay: 0, maxAttempts: 5), owner: "t")
                    #expect(try await runner.tick(at: services.now()).retried == 1)
                    let halfway = try #require(try await services.notices.notice(id: notice.id))
                    #expect(halfway.state == .due)
                    #expect(halfway.deliveries?.map(\.channel) == ["email"])
                    await receiver.succeed(notice.deliveryID)
                    #expect(try await runner.tick(at: services.now().addingTimeInterval(1)).sent == 1)
                    #expect(try await runner.tick(at: services.now().addingTimeInterval(2)).sent == 0)
                    let mails = try sink.messages()
                    #expect(mails.count == 1)
                    #expect(mails.first?["rcptTos"] as? [String] == ["e-1@example.com"])
                    let attachment = try #require((mails.first?["attachments"] as? [[String: Any]])?.first)
                    #expect(attachment["sha256"] as? String == SHA256.hash(data: Data(base64Encoded: ServerTests.pdfBase64)!).hex)
                    #expect(await receiver.count(notice.deliveryID) == 1)
                    let sent = try #require(try await services.notices.notice(id: notice.id))
                    #expect(sent.state == .sent)
                    #expect(sent.deliveries?.map(\.channel) == ["email", "webhook"])
                    #expect(sent.deliveries?.first?.receipt.contains("e-1@example.com") == true)
                    let delivered = try await services.cases.timeline(caseID: subject.id).filter { $0.record.action.hasPrefix("notice.") && $0.record.details["channel"] != nil }
                    #expect(delivered.map(\.record.action) == ["notice.delivered", "notice.sent"])
                    #expect(delivered.map { $0.record.details["channel"] } == ["email", "webhook"])
                    // staff see each channel's receipt in the case's notice history
                    let page = try await ServerTests.consolePage("/staff/cases/\(subject.id.uuidString.lowercased())", client: client, services: services, roles: [.reviewer])
                    #expect(page.contains(#"id="notice-deliveries""#) && page.contains("email: to e-1@example.com") && page.contains("webhook: HTTP 204"))
                }
            }
        }
    }
}

extension SHA256Digest {
    var hex: String { map { String(format: "%02x", $0) }.joined() }
}
