import HTTPTypes
import CustosDomain
import Foundation
import Hummingbird

/// An RFC 9457 problem: every 4xx/5xx the API returns is `application/problem+json` with a
/// title, a detail and, for bad input, the offending field(s).
public struct Problem: HTTPResponseError, Equatable {
    public var status: HTTPResponse.Status
    public var title: String
    public var detail: String
    public var issues: [ValidationIssue]
    public var type: String
    public var extraHeaders: [String: String]

    public init(
        _ status: HTTPResponse.Status, title: String? = nil, detail: String, issues: [ValidationIssue] = [],
        type: String = "about:blank", extraHeaders: [String: String] = [:]
    ) {
        self.status = status
        self.title = title ?? status.reasonPhrase
        self.detail = detail
        self.issues = issues
        self.type = type
        self.extraHeaders = extraHeaders
    }

    public static func invalid(_ issues: [ValidationIssue]) -> Problem {
        let summary = issues.map { "\($0.field): \($0.message)" }.joined(separator: "; ")
        return Problem(.unprocessableContent, title: "Invalid request", detail: summary, issues: issues)
    }

    public static func invalid(field: String, _ message: String, status: HTTPResponse.Status = .badRequest) -> Problem {
        Problem(status, title: "Invalid request", detail: "\(field): \(message)", issues: [ValidationIssue(field: field, message: message)])
    }

    public static func notFound(_ what: String) -> Problem { Problem(.notFound, detail: "\(what) was not found") }

    struct Body: Encodable {
        var type: String
        var title: String
        var status: Int
        var detail: String
        var field: String?
        var invalidParams: [Param]?
        struct Param: Encodable {
            var name: String
            var reason: String
        }
        enum CodingKeys: String, CodingKey {
            case type, title, status, detail, field
            case invalidParams = "invalid-params"
        }
    }

    public var jsonBody: Data {
        let body = Body(
            type: type, title: title, status: Int(status.code), detail: detail, field: issues.first?.field,
            invalidParams: issues.isEmpty ? nil : issues.map { .init(name: $0.field, reason: $0.message) })
        return (try? CustosJSON.makeEncoder().encode(body)) ?? Data()
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers: HTTPFields = [.contentType: "application/problem+json"]
        for (name, value) in extraHeaders {
            if let field = HTTPField.Name(name) { headers[field] = value }
        }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: jsonBody)))
    }
}

extension Problem {
    /// Maps a JSON decoding failure to a problem naming the field (`targets[0].value`) or the body.
    public static func decoding(_ error: any Error) -> Problem {
        guard let error = error as? DecodingError else {
            return invalid(field: "body", "is not valid JSON")
        }
        func path(_ keys: [any CodingKey]) -> String {
            var text = ""
            for key in keys {
                if let index = key.intValue { text += "[\(index)]" } else { text += text.isEmpty ? key.stringValue : ".\(key.stringValue)" }
            }
            return text.isEmpty ? "body" : text
        }
        switch error {
        case .typeMismatch(let type, let context):
            return invalid(field: path(context.codingPath), "must be of type \(jsonName(type))")
        case .valueNotFound(let type, let context):
            return invalid(field: path(context.codingPath), "must be a \(jsonName(type)), not null")
        case .keyNotFound(let key, let context):
            return invalid(field: path(context.codingPath + [key]), "is required")
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty { return invalid(field: "body", "is not valid JSON") }
            return invalid(field: path(context.codingPath), context.debugDescription)
        @unknown default:
            return invalid(field: "body", "could not be read")
        }
    }

    static func jsonName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "string"
        case is Bool.Type: "boolean"
        case is Int.Type, is Double.Type: "number"
        case is [Any].Type: "array"
        default: "object"
        }
    }
}

extension WorkflowRefusal {
    /// Refusals are conflicts with the case's state or its rules (409), or a role that may not act (403).
    var problem: Problem {
        Problem(
            code == .notPermitted ? .forbidden : .conflict, title: "Event refused",
            detail: reason, type: "urn:custos:problem:\(code.rawValue)")
    }
}
