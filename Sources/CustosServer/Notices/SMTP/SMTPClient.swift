import Foundation
import NIOCore
import NIOPosix
import NIOSSL

// Written by hand: no Swift SMTP package is available to this project (issue 4), so this is the
// smallest client that sends one message the way RFC 5321 describes: EHLO, STARTTLS (RFC 3207),
// AUTH PLAIN (RFC 4954 / RFC 4616), MAIL, RCPT, DATA with dot-stuffing, QUIT. It sends nothing
// else: no pipelining, no SMTPUTF8, no other AUTH mechanisms.

/// How the connection to the relay is protected.
public enum SMTPSecurity: String, Sendable, CaseIterable {
    /// Plain connect, then STARTTLS before anything else; a relay that does not offer it is refused.
    case startTLS = "starttls"
    /// TLS from the first byte (port 465, RFC 8314).
    case tls
    /// No TLS at all: only for a relay on the same host. Credentials are never sent this way.
    case none
}

/// Where and how the SMTP channel connects (`CUSTOS_SMTP_*`).
public struct SMTPSettings: Sendable {
    public var host: String
    public var port: Int
    public var security: SMTPSecurity
    public var username: String?
    public var password: String?
    /// The envelope sender and `From:` address.
    public var from: String
    /// The name this client gives in EHLO.
    public var heloName: String
    /// A PEM file of extra trust roots (a private CA), added to the system's.
    public var trustRootsFile: String?
    /// The whole conversation must finish within this time.
    public var timeout: Duration

    public init(
        host: String, port: Int, security: SMTPSecurity = .startTLS, username: String? = nil, password: String? = nil, from: String,
        heloName: String = "custos.localdomain", trustRootsFile: String? = nil, timeout: Duration = .seconds(30)
    ) {
        self.host = host
        self.port = port
        self.security = security
        self.username = username
        self.password = password
        self.from = from
        self.heloName = heloName
        self.trustRootsFile = trustRootsFile
        self.timeout = timeout
    }

    /// Settings that cannot work safely are refused before the first connection.
    public func validate() throws {
        guard !host.isEmpty else { throw ConfigurationProblem("CUSTOS_SMTP_HOST is empty") }
        guard (1...65_535).contains(port) else { throw ConfigurationProblem("CUSTOS_SMTP_PORT \(port) is not a port") }
        guard SMTPAddress.isPlausible(from) else { throw ConfigurationProblem("CUSTOS_SMTP_FROM must be an address like notices@provider.example") }
        if (username == nil) != (password == nil) {
            throw ConfigurationProblem("CUSTOS_SMTP_USERNAME and CUSTOS_SMTP_PASSWORD are set together or not at all")
        }
        if username != nil && security == .none {
            throw ConfigurationProblem("CUSTOS_SMTP_TLS=none with a username would send the password in plaintext; use starttls or tls")
        }
        if let trustRootsFile, !FileManager.default.isReadableFile(atPath: trustRootsFile) {
            throw ConfigurationProblem("CUSTOS_SMTP_CA_FILE \(trustRootsFile) cannot be read")
        }
    }
}

/// One reply from the server: a three-digit code and its text lines (RFC 5321 §4.2).
struct SMTPReply: Sendable, CustomStringConvertible {
    var code: Int
    var lines: [String]

    var description: String { "\(code) " + lines.joined(separator: " / ") }
}

/// A failure with the server's words in it, so the notices board shows what the relay said.
public struct SMTPError: Error, CustomStringConvertible, Sendable {
    public var description: String
    /// True for a 5xx reply: repeating the same message will not help.
    public var isPermanent: Bool

    init(_ description: String, isPermanent: Bool = false) {
        self.description = description
        self.isPermanent = isPermanent
    }

    static func unexpected(_ reply: SMTPReply, after command: String) -> SMTPError {
        SMTPError("SMTP relay answered \(command) with \(reply)", isPermanent: (500..<600).contains(reply.code))
    }
}

enum SMTPAddress {
    /// Enough of RFC 5321's mailbox syntax to refuse what would break the envelope.
    static func isPlausible(_ address: String) -> Bool {
        let parts = address.split(separator: "@", omittingEmptySubsequences: false)
        // RFC 5321 § 4.5.3.1: a path holds at most 256 octets, its brackets included
        return address.utf8.count <= 254 && parts.count == 2 && !parts[0].isEmpty && !parts[1].isEmpty
            && !address.contains(where: { $0.isWhitespace || $0 == "<" || $0 == ">" || $0.asciiValue.map { $0 < 32 } ?? false })
    }
}

/// Splits the byte stream into replies: `250-…` lines continue a reply, `250 …` ends it.
struct SMTPReplyDecoder: ByteToMessageDecoder {
    typealias InboundOut = SMTPReply
    /// A reply line longer than this is not SMTP (RFC 5321 §4.5.3.1.5 allows 512).
    static let maximumLine = 4096
    private var pending: [String] = []

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let newline = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) else {
            if buffer.readableBytes > Self.maximumLine { throw SMTPError("SMTP relay sent a line longer than \(Self.maximumLine) bytes") }
            return .needMoreData
        }
        // Bytes, not Characters: Swift treats "\r\n" as one Character.
        var bytes = buffer.readBytes(length: newline - buffer.readerIndex + 1) ?? []
        while let last = bytes.last, last == UInt8(ascii: "\n") || last == UInt8(ascii: "\r") { bytes.removeLast() }
        let line = String(decoding: bytes, as: UTF8.self)
        guard bytes.count >= 3, let code = Int(String(decoding: bytes[0..<3], as: UTF8.self)) else {
            throw SMTPError("SMTP relay sent a malformed reply: \(line.prefix(80))")
        }
        pending.append(bytes.count > 4 ? String(decoding: bytes[4...], as: UTF8.self) : "")
        if bytes.count > 3 && bytes[3] == UInt8(ascii: "-") { return .continue }
        context.fireChannelRead(wrapInboundOut(SMTPReply(code: code, lines: pending)))
        pending = []
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue, buffer.readableBytes > 0 {}
        return .needMoreData
    }
}

/// Sends one message per call over a fresh connection. Notices are few and each must be
/// accounted for on its own, so there is no connection pool.
public struct SMTPClient: Sendable {
    public let settings: SMTPSettings
    let tlsContext: NIOSSLContext?

    public init(settings: SMTPSettings) throws {
        try settings.validate()
        self.settings = settings
        if settings.security == .none {
            tlsContext = nil
        } else {
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.minimumTLSVersion = .tlsv12
            if let file = settings.trustRootsFile { tls.additionalTrustRoots = [.file(file)] }
            tlsContext = try NIOSSLContext(configuration: tls)
        }
    }

    /// Sends `message` (a complete RFC 5322 message with CRLF line ends) to `recipients`.
    /// Either every recipient is accepted and the message is handed over, or nothing is sent.
    /// - Returns: the relay's final reply, kept as the delivery's receipt.
    @discardableResult
    public func send(_ message: ByteBuffer, from sender: String, to recipients: [String]) async throws -> String {
        guard !recipients.isEmpty else { throw SMTPError("no recipients", isPermanent: true) }
        for address in recipients + [sender] where !SMTPAddress.isPlausible(address) {
            throw SMTPError("\(address) is not a mail address", isPermanent: true)
        }
        let started = ContinuousClock.now
        let channel = try await connect()
        // The timer closes the connection, which ends the conversation below with an error.
        let timer = Task { [timeout = settings.timeout] in
            try await Task.sleep(for: timeout)
            channel.channel.close(promise: nil)
        }
        defer { timer.cancel() }
        do {
            return try await channel.executeThenClose { inbound, outbound in
                var conversation = Conversation(channel: channel.channel, replies: inbound.makeAsyncIterator(), outbound: outbound)
                return try await conversation.run(client: self, message: message, sender: sender, recipients: recipients)
            }
        } catch {
            if ContinuousClock.now - started >= settings.timeout {
                throw SMTPError("SMTP conversation with \(settings.host):\(settings.port) timed out after \(settings.timeout)")
            }
            if let error = error as? SMTPError { throw error }
            throw SMTPError("SMTP conversation with \(settings.host):\(settings.port) failed: \(error)")
        }
    }

    /// The name checked against the relay's certificate; SNI cannot carry an IP address.
    var serverHostname: String? {
        settings.host.contains(":") || settings.host.allSatisfy({ $0.isNumber || $0 == "." }) ? nil : settings.host
    }

    func tlsHandler() throws -> NIOSSLClientHandler {
        guard let tlsContext else { throw SMTPError("TLS is not configured") }
        return try NIOSSLClientHandler(context: tlsContext, serverHostname: serverHostname)
    }

    private func connect() async throws -> NIOAsyncChannel<SMTPReply, ByteBuffer> {
        let implicitTLS = settings.security == .tls
        do {
            return try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(.seconds(10))
                .connect(host: settings.host, port: settings.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        if implicitTLS { try channel.pipeline.syncOperations.addHandler(self.tlsHandler()) }
                        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(SMTPReplyDecoder()))
                        return try NIOAsyncChannel<SMTPReply, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            throw SMTPError("cannot connect to SMTP relay \(settings.host):\(settings.port): \(error)")
        }
    }
}

/// One connection's command/reply exchange.
private struct Conversation {
    let channel: any Channel
    var replies: NIOAsyncChannelInboundStream<SMTPReply>.AsyncIterator
    let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>

    mutating func run(client: SMTPClient, message: ByteBuffer, sender: String, recipients: [String]) async throws -> String {
        let settings = client.settings
        try expect(await next(), 220, after: "the greeting")
        var capabilities = try await hello(settings.heloName)
        if settings.security == .startTLS {
            guard capabilities.contains(where: { $0.uppercased() == "STARTTLS" }) else {
                throw SMTPError("SMTP relay \(settings.host) does not offer STARTTLS; refusing to send a notice in plaintext (CUSTOS_SMTP_TLS)")
            }
            try expect(await command("STARTTLS"), 220, after: "STARTTLS")
            try await channel.eventLoop.submit { [channel] in
                try channel.pipeline.syncOperations.addHandler(client.tlsHandler(), position: .first)
            }.get()
            capabilities = try await hello(settings.heloName)  // RFC 3207 §4.2: forget what was said before TLS
        }
        if let username = settings.username, let password = settings.password {
            let mechanisms = capabilities.first { $0.uppercased().hasPrefix("AUTH ") }?.uppercased().split(separator: " ").dropFirst() ?? []
            guard mechanisms.contains("PLAIN") else {
                throw SMTPError("SMTP relay \(settings.host) does not offer AUTH PLAIN (it offers: \(mechanisms.joined(separator: " ")))", isPermanent: true)
            }
            // RFC 4616: authorization identity (empty), NUL, user, NUL, password.
            let token = Data("\0\(username)\0\(password)".utf8).base64EncodedString()
            try expect(await command("AUTH PLAIN \(token)", shown: "AUTH PLAIN <credentials>"), 235, after: "AUTH PLAIN")
        }
        try expect(await command("MAIL FROM:<\(sender)>"), 250, after: "MAIL FROM")
        var refused: [String] = []
        for recipient in recipients {
            let reply = try await command("RCPT TO:<\(recipient)>")
            if reply.code != 250 && reply.code != 251 { refused.append("\(recipient): \(reply)") }
        }
        guard refused.isEmpty else {
            // Nothing was handed over yet: abandon the transaction so no recipient gets a partial send.
            _ = try? await command("RSET")
            _ = try? await command("QUIT")
            throw SMTPError("SMTP relay refused recipients: " + refused.joined(separator: "; "), isPermanent: true)
        }
        try expect(await command("DATA"), 354, after: "DATA")
        try await outbound.write(Self.dotStuffed(message))
        let accepted = try await next()
        try expect(accepted, 250, after: "the message")
        _ = try? await command("QUIT")
        return accepted.description
    }

    mutating func hello(_ name: String) async throws -> [String] {
        let reply = try await command("EHLO \(name)")
        try expect(reply, 250, after: "EHLO")
        return Array(reply.lines.dropFirst())
    }

    mutating func command(_ line: String, shown: String? = nil) async throws -> SMTPReply {
        do {
            try await outbound.write(ByteBuffer(string: line + "\r\n"))
        } catch {
            // A closed channel hides why it closed; the inbound side carries the reason (say, a
            // failed TLS handshake), so surface that instead of "I/O on closed channel".
            _ = try await replies.next()
            throw error
        }
        do {
            return try await next()
        } catch let error as SMTPError {
            throw SMTPError("\(error.description) (after \(shown ?? line))")
        }
    }

    mutating func next() async throws -> SMTPReply {
        guard let reply = try await replies.next() else { throw SMTPError("SMTP relay closed the connection") }
        return reply
    }

    func expect(_ reply: SMTPReply, _ code: Int, after command: String) throws {
        guard reply.code == code else { throw SMTPError.unexpected(reply, after: command) }
    }

    /// RFC 5321 §4.5.2: a line that starts with "." gets another "."; the message ends with CRLF.CRLF.
    static func dotStuffed(_ message: ByteBuffer) -> ByteBuffer {
        var out = ByteBuffer()
        out.reserveCapacity(message.readableBytes + 64)
        var atLineStart = true
        for byte in message.readableBytesView {
            if atLineStart && byte == UInt8(ascii: ".") { out.writeInteger(UInt8(ascii: ".")) }
            out.writeInteger(byte)
            atLineStart = byte == UInt8(ascii: "\n")
        }
        if !atLineStart { out.writeString("\r\n") }
        out.writeString(".\r\n")
        return out
    }
}
