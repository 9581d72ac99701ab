import HTTPTypes
import CustosDomain
import Foundation
import Hummingbird
import MultipartKit

/// Reads request bodies with a size limit and turns every failure into a problem naming the cause.
enum RequestReading {
    /// The page an agency asks for of its demands: `limit` (1–500, default 100) and `before`, the
    /// case id the previous page's link ends with.
    static func agencyDemandPage(_ request: Request) throws -> (limit: Int, before: UUID?) {
        let query = request.uri.queryParameters
        var limit = 100
        // A parameter given empty is a bad value, not an absent one (the API document's types say so).
        if let raw = query.get("limit") {
            guard let asked = Int(raw), (1...500).contains(asked) else { throw Problem.invalid(field: "limit", "must be a whole number from 1 to 500") }
            limit = asked
        }
        var before: UUID?
        if let raw = query.get("before") {
            guard let id = UUID(uuidString: raw) else {
                throw Problem.invalid(field: "before", "must be a case id, as the previous page's link gives it")
            }
            before = id
        }
        return (limit, before)
    }

    static func body(_ request: Request, limit: Int) async throws -> Data {
        do {
            let buffer = try await request.body.collect(upTo: limit)
            return Data(buffer.readableBytesView)
        } catch {
            throw Problem(.contentTooLarge, detail: "the request body exceeds the limit of \(limit) bytes")
        }
    }

    static func decodeJSON<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        guard !data.isEmpty else { throw Problem.invalid(field: "body", "is empty") }
        do {
            return try CustosJSON.makeDecoder().decode(type, from: data)
        } catch {
            throw Problem.decoding(error)
        }
    }

    /// `decodeJSON`, refusing fields the type does not know: a misspelt `nonDisclosureOrder`
    /// silently dropped would lose a gag order. The decoded value is encoded again; any key of the
    /// request that does not come back is unknown; a null is refused too.
    static func decodeStrictJSON<T: Codable>(_ type: T.Type, from data: Data) throws -> T {
        let value = try decodeJSON(type, from: data)
        guard let sent = try? JSONSerialization.jsonObject(with: data),
            let known = try? JSONSerialization.jsonObject(with: CustosJSON.makeEncoder().encode(value))
        else { return value }
        let unknown = unknownKeys(sent, known, path: "")
        guard unknown.isEmpty else { throw Problem.invalid(Array(unknown.prefix(20))) }
        return value
    }

    /// The keys of `sent` that `known` (the decoded value encoded again) lacks, and the nulls:
    /// /openapi.yaml says an absent field is left out, so null is refused rather than read as absent.
    static func unknownKeys(_ sent: Any, _ known: Any, path: String) -> [ValidationIssue] {
        if let object = sent as? [String: Any] {
            let knownObject = known as? [String: Any] ?? [:]
            return object.keys.sorted().flatMap { key -> [ValidationIssue] in
                let field = path.isEmpty ? key : "\(path).\(key)"
                guard let inner = object[key] else { return [] }
                if inner is NSNull { return [ValidationIssue(field: field, message: "must not be null; leave an absent field out")] }
                guard let knownInner = knownObject[key] else { return [ValidationIssue(field: field, message: "is not a field of this request")] }
                return unknownKeys(inner, knownInner, path: field)
            }
        }
        if let items = sent as? [Any], let knownItems = known as? [Any] {
            return zip(items, knownItems).enumerated().flatMap { index, pair in unknownKeys(pair.0, pair.1, path: "\(path)[\(index)]") }
        }
        return []
    }

    static func mediaType(of request: Request) -> String {
        (request.headers[.contentType] ?? "").split(separator: ";").first.map {
            $0.trimmingCharacters(in: .whitespaces).lowercased()
        } ?? ""
    }

    static func requireJSON(_ request: Request) throws {
        let type = mediaType(of: request)
        guard type == "application/json" || type.hasSuffix("+json") else {
            throw Problem(.unsupportedMediaType, detail: "send Content-Type: application/json (got \(type.isEmpty ? "none" : type))")
        }
    }
}

/// One uploaded file of a multipart form.
struct FormFile {
    var field: String
    var filename: String
    var mediaType: String
    var bytes: Data
}

/// A parsed form (URL-encoded or multipart) whose CSRF token has been checked.
struct FormData {
    var fields: [String: [String]] = [:]
    var files: [FormFile] = []

    func value(_ name: String) -> String? {
        guard let value = fields[name]?.first?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty else { return nil }
        return value
    }

    func values(_ name: String) -> [String] { fields[name] ?? [] }

    /// Reads a form POST and verifies its `_csrf` field against `expectedCSRF`.
    static func read(_ request: Request, limit: Int, expectedCSRF: String?) async throws -> FormData {
        let data = try await RequestReading.body(request, limit: limit)
        let type = RequestReading.mediaType(of: request)
        var form = FormData()
        if type == "application/x-www-form-urlencoded" {
            form.fields = parseURLEncoded(String(decoding: data, as: UTF8.self))
        } else if type == "multipart/form-data", let boundary = boundary(of: request) {
            form = try parseMultipart(data, boundary: boundary)
        } else {
            throw Problem(.unsupportedMediaType, detail: "forms must be application/x-www-form-urlencoded or multipart/form-data")
        }
        guard let expectedCSRF, let sent = form.value("_csrf"), sent == expectedCSRF else {
            throw Problem(.forbidden, title: "Form expired", detail: "the form's security token is missing or stale; reload the page and try again")
        }
        return form
    }

    static func parseURLEncoded(_ text: String) -> [String: [String]] {
        var fields: [String: [String]] = [:]
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ part: Substring) -> String {
                String(part).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(part)
            }
            let name = decode(parts[0])
            fields[name, default: []].append(parts.count > 1 ? decode(parts[1]) : "")
        }
        return fields
    }

    static func boundary(of request: Request) -> String? {
        guard let header = request.headers[.contentType] else { return nil }
        for parameter in header.split(separator: ";").dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1)
            if pair.count == 2, pair[0].trimmingCharacters(in: .whitespaces).lowercased() == "boundary" {
                return pair[1].trimmingCharacters(in: CharacterSet(charactersIn: " \""))
            }
        }
        return nil
    }

    static func parseMultipart(_ data: Data, boundary: String) throws -> FormData {
        struct Part {
            var headers: [String: String] = [:]
            var body = Data()
        }
        var parts: [Part] = []
        var current = Part()
        let parser = MultipartParser(boundary: boundary)
        parser.onHeader = { name, value in current.headers[name.lowercased()] = value }
        parser.onBody = { buffer in current.body.append(contentsOf: buffer.readableBytesView) }
        parser.onPartComplete = {
            parts.append(current)
            current = Part()
        }
        do {
            try parser.execute([UInt8](data))
        } catch {
            throw Problem.invalid(field: "body", "is not a well-formed multipart/form-data body")
        }
        var form = FormData()
        for part in parts {
            let disposition = parseDisposition(part.headers["content-disposition"] ?? "")
            guard let name = disposition["name"] else { continue }
            if let filename = disposition["filename"] {
                if filename.isEmpty && part.body.isEmpty { continue }  // an empty file input
                form.files.append(
                    FormFile(field: name, filename: filename, mediaType: (part.headers["content-type"] ?? "application/octet-stream").lowercased(), bytes: part.body))
            } else {
                form.fields[name, default: []].append(String(decoding: part.body, as: UTF8.self))
            }
        }
        return form
    }

    static func parseDisposition(_ header: String) -> [String: String] {
        var values: [String: String] = [:]
        for item in header.split(separator: ";").dropFirst() {
            let pair = item.split(separator: "=", maxSplits: 1)
            guard pair.count == 2 else { continue }
            values[pair[0].trimmingCharacters(in: .whitespaces).lowercased()] = pair[1].trimmingCharacters(in: CharacterSet(charactersIn: " \""))
        }
        return values
    }
}

extension Response {
    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok, headers extra: HTTPFields = [:]) throws -> Response {
        var headers = extra
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: try CustosJSON.makeEncoder().encode(value))))
    }

    static func html(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    static func redirect(to location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location])
    }
}
