import Foundation
import MultipartKit
import NIOCore
import NIOHTTP1

/// Turns a notice into an RFC 5322 message: a plain-text part and the demand's documents as
/// attachments (RFC 2045/2046 via MultipartKit's serializer). The `Message-ID` is the notice's
/// delivery id, so a mailbox that got a repeat after a crash can tell it is the same message.
enum NoticeEmail {
    static func compose(_ message: NoticeMessage, from sender: String, at time: Date) throws -> ByteBuffer {
        let domain = sender.split(separator: "@").last.map(String.init) ?? "custos.invalid"
        let boundary = "=_custos_" + UUID().uuidString.lowercased()
        var parts = [textPart(message.text)]
        for copy in message.documents {
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: mediaType(copy.mediaType))
            headers.add(name: "Content-Transfer-Encoding", value: "base64")
            headers.add(name: "Content-Disposition", value: "attachment; " + filenameParameter(copy.filename))
            parts.append(MultipartPart(headers: headers, body: wrapped(copy.bytes.base64EncodedString())))
        }
        var out = ByteBuffer()
        for (name, value) in [
            ("From", sender),
            ("To", message.recipients.joined(separator: ", ")),
            ("Subject", headerText(message.subject)),
            ("Date", rfc5322Date(time)),
            ("Message-ID", "<\(message.deliveryId)@\(domain)>"),
            ("X-Custos-Delivery-Id", message.deliveryId),
            ("X-Custos-Case", message.caseNumber),
            // RFC 3834: an automatic message; vacation responders should not answer it.
            ("Auto-Submitted", "auto-generated"),
            ("MIME-Version", "1.0"),
            ("Content-Type", "multipart/mixed; boundary=\"\(boundary)\""),
        ] {
            out.writeString("\(name): \(value)\r\n")
        }
        out.writeString("\r\n")
        try MultipartSerializer().serialize(parts: parts, boundary: boundary, into: &out)
        return out
    }

    /// ASCII text travels as is; anything else as base64 UTF-8, so no relay needs 8BITMIME.
    static func textPart(_ text: String) -> MultipartPart {
        let crlf = text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\n", with: "\r\n")
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "text/plain; charset=utf-8")
        let plain = crlf.allSatisfy(\.isASCII) && !crlf.components(separatedBy: "\r\n").contains { $0.utf8.count > 998 }
        headers.add(name: "Content-Transfer-Encoding", value: plain ? "7bit" : "base64")
        return MultipartPart(headers: headers, body: plain ? crlf : wrapped(Data(crlf.utf8).base64EncodedString()))
    }

    /// Base64 in lines of 76 characters (RFC 2045 §6.8).
    static func wrapped(_ base64: String) -> String {
        var lines: [Substring] = []
        var rest = Substring(base64)
        while !rest.isEmpty {
            lines.append(rest.prefix(76))
            rest = rest.dropFirst(76)
        }
        return lines.joined(separator: "\r\n")
    }

    /// A stored media type, or a safe default when it could break the header.
    static func mediaType(_ value: String) -> String {
        let ok = value.contains("/") && value.allSatisfy { $0.isASCII && !$0.isWhitespace && $0 != ";" && $0 != "\"" }
        return ok ? value : "application/octet-stream"
    }

    /// `filename="…"` for plain names, RFC 2231 `filename*=UTF-8''…` for anything else.
    static func filenameParameter(_ name: String) -> String {
        let simple = name.allSatisfy { $0.isASCII && !$0.isNewline && $0 != "\"" && $0 != "\\" && ($0.asciiValue ?? 0) >= 32 }
        if simple { return "filename=\"\(name)\"" }
        var allowed = CharacterSet.alphanumerics.intersection(CharacterSet(charactersIn: Unicode.Scalar(0)..<Unicode.Scalar(128)))
        allowed.insert(charactersIn: "!#$&+-.^_`|~")
        return "filename*=UTF-8''" + (name.addingPercentEncoding(withAllowedCharacters: allowed) ?? "document")
    }

    /// RFC 2047 encoded word for a header with non-ASCII text.
    static func headerText(_ text: String) -> String {
        text.allSatisfy(\.isASCII) ? text : "=?UTF-8?B?\(Data(text.utf8).base64EncodedString())?="
    }

    /// RFC 5322 §3.3 date, in UTC: `Sun, 29 Nov 2026 07:41:56 +0000`.
    static func rfc5322Date(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.weekday, .day, .month, .year, .hour, .minute, .second], from: date)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ n: Int?) -> String { String(format: "%02d", n ?? 0) }
        return "\(days[(c.weekday ?? 1) - 1]), \(two(c.day)) \(months[(c.month ?? 1) - 1]) \(c.year ?? 1970) \(two(c.hour)):\(two(c.minute)):\(two(c.second)) +0000"
    }
}
