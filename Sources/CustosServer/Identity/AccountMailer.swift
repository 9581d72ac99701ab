import CustosDomain
import Foundation
import Logging
import NIOCore

/// Mail about a person's own account (issue 8: the link that confirms a registration's address).
/// It goes through the provider's SMTP relay when `CUSTOS_SMTP_HOST` is set. Without one (a demo or
/// a development install) each message is written as an `.eml` file to `<data dir>/mail/`, and the
/// server says so at startup, so nothing is silently lost.
public struct AccountMailer: Sendable {
    let client: SMTPClient?
    let sender: String
    public let dropDirectory: URL
    let logger: Logger

    public init(configuration: AppConfiguration, logger: Logger) throws {
        if let smtp = configuration.smtp {
            client = try SMTPClient(settings: smtp)
            sender = smtp.from
        } else {
            client = nil
            sender = "custos@localhost"
        }
        dropDirectory = URL(fileURLWithPath: configuration.dataDirectory).appendingPathComponent("mail")
        self.logger = logger
    }

    public var usesFileDrop: Bool { client == nil }

    /// Sends a plain-text message to one address.
    public func send(to recipient: String, subject: String, text: String, at time: Date) async throws {
        var message = ByteBuffer()
        let domain = sender.split(separator: "@").last.map(String.init) ?? "custos.invalid"
        for (name, value) in [
            ("From", sender), ("To", recipient), ("Subject", NoticeEmail.headerText(subject)), ("Date", NoticeEmail.rfc5322Date(time)),
            ("Message-ID", "<\(UUID().uuidString.lowercased())@\(domain)>"), ("Auto-Submitted", "auto-generated"), ("MIME-Version", "1.0"),
        ] {
            message.writeString("\(name): \(value)\r\n")
        }
        var part = NoticeEmail.textPart(text)
        for header in part.headers { message.writeString("\(header.name): \(header.value)\r\n") }
        message.writeString("\r\n")
        message.writeBuffer(&part.body)
        if let client {
            try await client.send(message, from: sender, to: [recipient])
            return
        }
        try FileManager.default.createDirectory(at: dropDirectory, withIntermediateDirectories: true)
        let name = "\(Int64(time.timeIntervalSince1970 * 1000))-\(UUID().uuidString.lowercased()).eml"
        let url = dropDirectory.appendingPathComponent(name)
        try Data(message.readableBytesView).write(to: url, options: [.atomic])
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: url.path)
        logger.info("account mail to \(recipient) written to \(url.path) (no SMTP relay configured)")
    }
}
