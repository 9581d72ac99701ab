import AsyncHTTPClient
import Crypto
import CustosDomain
import CustosStorage
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// Blobs in an S3-compatible object store (`CUSTOS_BLOB_URL=s3://bucket/prefix`; issue 28, part 2),
/// for installations that keep large files out of the database. Requests are signed with SigV4
/// (`SigV4`, by hand: no listed package does it). Writes stream from the local finished file:
/// one PUT up to the part size, a multipart upload above it (each part read twice, once for its
/// SHA-256, which the store checks). Reads are ranged GETs of `readSize` bytes, so neither
/// direction holds a blob in memory. What is stored is sealed already (`SealedStream`).
public struct S3BlobStore: BlobStore {
    public struct Settings: Sendable {
        public var bucket: String
        public var prefix: String
        /// `http(s)://host[:port]` of a store other than AWS (addressed path-style); nil for AWS itself.
        public var endpoint: String?
        public var region: String
        public var credentials: SigV4
        public var partSize: Int
        public var readSize = 4 << 20

        /// Reads `s3://bucket/prefix` and the store's settings.
        public init(url: String, endpoint: String?, region: String, accessKeyID: String?, secretAccessKey: String?, sessionToken: String?, partSize: Int) throws {
            guard let parsed = URLComponents(string: url), parsed.scheme == "s3", let bucket = parsed.host, !bucket.isEmpty else {
                throw BlobError("CUSTOS_BLOB_URL must look like s3://bucket/prefix (got \(url))")
            }
            guard let accessKeyID, !accessKeyID.isEmpty, let secretAccessKey, !secretAccessKey.isEmpty else {
                throw BlobError("an S3 blob store needs CUSTOS_S3_ACCESS_KEY_ID and CUSTOS_S3_SECRET_ACCESS_KEY")
            }
            guard partSize >= 5 << 20 else { throw BlobError("CUSTOS_S3_PART_MIB must be at least 5 (S3's smallest part)") }
            self.bucket = bucket
            self.prefix = parsed.path.split(separator: "/").joined(separator: "/")
            self.endpoint = endpoint.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
            self.region = region
            self.credentials = SigV4(accessKeyID: accessKeyID, secretAccessKey: secretAccessKey, region: region, sessionToken: sessionToken)
            self.partSize = partSize
        }
    }

    let settings: Settings
    let scratch: URL
    let client: HTTPClient
    let timeout: TimeAmount = .seconds(120)

    public init(settings: Settings, scratch: URL, client: HTTPClient = .shared) {
        self.settings = settings
        self.scratch = scratch
        self.client = client
    }

    public var description: String { "s3://\(settings.bucket)/\(settings.prefix)" }
    public var isShared: Bool { true }
    public func scratchFolder(for key: String) -> URL { scratch }

    // MARK: Addressing

    /// Where a request goes: `scheme://host[:port]`, the Host header, and the percent-encoded
    /// path of `object` (nil: the bucket itself) as it is sent and signed.
    func address(_ object: String?) -> (origin: String, host: String, path: String) {
        let objectPath = object.map { "/" + SigV4.encode($0, keepingSlash: true) } ?? "/"
        if let endpoint = settings.endpoint, let url = URLComponents(string: endpoint), let name = url.host {
            // Path-style addressing: a store other than AWS, at the endpoint's own path (usually none).
            let host = url.port.map { "\(name):\($0)" } ?? name
            let bucketPath = url.path + "/" + SigV4.encode(settings.bucket)
            return ("\(url.scheme ?? "http")://\(host)", host, object == nil ? bucketPath : bucketPath + objectPath)
        }
        let host = "\(settings.bucket).s3.\(settings.region).amazonaws.com"
        return ("https://\(host)", host, objectPath)
    }

    func objectName(_ key: String) -> String { settings.prefix.isEmpty ? key : "\(settings.prefix)/\(key)" }

    /// Sends one signed request; returns the response with its body collected up to `limit` bytes.
    func send(
        _ method: HTTPMethod, object: String?, query: [(String, String)] = [], headers: [String: String] = [:],
        body: HTTPClientRequest.Body? = nil, payloadHash: String = SigV4.emptyPayload, limit: Int = 1 << 20
    ) async throws -> (status: HTTPResponseStatus, headers: HTTPHeaders, body: Data) {
        let (origin, host, path) = address(object)
        let queryText = query.map { "\(SigV4.encode($0.0))=\(SigV4.encode($0.1))" }.joined(separator: "&")
        var request = HTTPClientRequest(url: origin + path + (queryText.isEmpty ? "" : "?" + queryText))
        request.method = method
        let signed = settings.credentials.sign(method: method.rawValue, host: host, path: path, query: query, headers: headers, payloadHash: payloadHash, at: Date())
        for (name, value) in signed where name != "host" { request.headers.add(name: name, value: value) }
        if let body { request.body = body }
        let response = try await client.execute(request, timeout: timeout)
        var collected = Data()
        for try await buffer in response.body {
            guard collected.count + buffer.readableBytes <= limit else { throw BlobError("\(description): an answer larger than \(limit) bytes") }
            collected.append(contentsOf: buffer.readableBytesView)
        }
        return (response.status, response.headers, collected)
    }

    func failure(_ action: String, _ response: (status: HTTPResponseStatus, headers: HTTPHeaders, body: Data)) -> BlobError {
        let text = String(decoding: response.body, as: UTF8.self)
        let code = Self.elements("Code", in: text).first ?? ""
        let message = Self.elements("Message", in: text).first ?? ""
        return BlobError("\(description): \(action) answered \(response.status.code) \(code) \(message)".trimmingCharacters(in: .whitespaces))
    }

    // MARK: BlobStore

    /// Creates the bucket when it does not exist (a store the provider set up already is left as it is).
    public func ensureBucket() async throws {
        let head = try await send(.HEAD, object: nil)
        if head.status == .ok { return }
        guard head.status == .notFound else { throw failure("HEAD of the bucket", head) }
        var body: HTTPClientRequest.Body?
        var hash = SigV4.emptyPayload
        if settings.region != "us-east-1" {
            let xml = Data("<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><LocationConstraint>\(settings.region)</LocationConstraint></CreateBucketConfiguration>".utf8)
            body = .bytes(ByteBuffer(bytes: xml))
            hash = Hex.encode(SHA256.hash(data: xml))
        }
        let created = try await send(.PUT, object: nil, body: body, payloadHash: hash)
        guard created.status == .ok || created.status == .conflict else { throw failure("creating the bucket", created) }
    }

    public func put(_ key: String, from file: URL) async throws {
        let size = Int(try FileManager.default.attributesOfItem(atPath: file.path)[.size] as? NSNumber ?? 0)
        let object = objectName(key)
        if size <= settings.partSize {
            let hash = try await Self.sha256(of: file, offset: 0, length: size)
            let answer = try await send(
                .PUT, object: object, headers: ["content-type": "application/octet-stream", "content-length": String(size)],
                body: Self.body(of: file, offset: 0, length: size), payloadHash: hash)
            guard answer.status == .ok else { throw failure("PUT \(key)", answer) }
        } else {
            try await multipartPut(object, from: file, size: size)
        }
        try? FileManager.default.removeItem(at: file)
    }

    func multipartPut(_ object: String, from file: URL, size: Int) async throws {
        let started = try await send(.POST, object: object, query: [("uploads", "")], headers: ["content-type": "application/octet-stream"])
        guard started.status == .ok, let uploadID = Self.elements("UploadId", in: String(decoding: started.body, as: UTF8.self)).first else {
            throw failure("starting a multipart upload of \(object)", started)
        }
        do {
            var parts: [(Int, String)] = []
            var offset = 0
            while offset < size {
                let length = min(settings.partSize, size - offset)
                let number = parts.count + 1
                let hash = try await Self.sha256(of: file, offset: offset, length: length)
                let answer = try await send(
                    .PUT, object: object, query: [("partNumber", String(number)), ("uploadId", uploadID)], headers: ["content-length": String(length)],
                    body: Self.body(of: file, offset: offset, length: length), payloadHash: hash)
                guard answer.status == .ok, let etag = answer.headers.first(name: "etag") else { throw failure("part \(number) of \(object)", answer) }
                parts.append((number, etag))
                offset += length
            }
            let xml = Data(("<CompleteMultipartUpload>" + parts.map { "<Part><PartNumber>\($0.0)</PartNumber><ETag>\(Self.escape($0.1))</ETag></Part>" }.joined() + "</CompleteMultipartUpload>").utf8)
            let done = try await send(
                .POST, object: object, query: [("uploadId", uploadID)], headers: ["content-type": "application/xml"], body: .bytes(ByteBuffer(bytes: xml)),
                payloadHash: Hex.encode(SHA256.hash(data: xml)))
            // S3 may answer 200 with an error in the body when completing.
            guard done.status == .ok, !String(decoding: done.body, as: UTF8.self).contains("<Error>") else { throw failure("completing \(object)", done) }
        } catch {
            _ = try? await send(.DELETE, object: object, query: [("uploadId", uploadID)])
            throw error
        }
    }

    public func open(_ key: String) async throws -> (any BlobReader)? {
        let object = objectName(key)
        let head = try await send(.HEAD, object: object)
        if head.status == .notFound { return nil }
        guard head.status == .ok, let length = head.headers.first(name: "content-length").flatMap(Int.init) else { throw failure("HEAD \(key)", head) }
        return S3BlobReader(store: self, object: object, size: length, etag: head.headers.first(name: "etag"))
    }

    public func exists(_ key: String) async throws -> Bool {
        let head = try await send(.HEAD, object: objectName(key))
        if head.status == .notFound { return false }
        guard head.status == .ok else { throw failure("HEAD \(key)", head) }
        return true
    }

    public func delete(_ key: String) async throws {
        let answer = try await send(.DELETE, object: objectName(key))
        guard answer.status == .noContent || answer.status == .ok || answer.status == .notFound else { throw failure("DELETE \(key)", answer) }
    }

    public func keys(prefix: String) async throws -> [String] {
        let full = objectName(prefix)
        var keys: [String] = []
        var token: String?
        repeat {
            var query = [("list-type", "2"), ("prefix", full)]
            if let token { query.append(("continuation-token", token)) }
            let answer = try await send(.GET, object: nil, query: query, limit: 16 << 20)
            guard answer.status == .ok else { throw failure("listing \(full)", answer) }
            let text = String(decoding: answer.body, as: UTF8.self)
            let strip = settings.prefix.isEmpty ? 0 : settings.prefix.count + 1
            keys += Self.elements("Key", in: text).map { String($0.dropFirst(strip)) }
            token = Self.elements("IsTruncated", in: text).first == "true" ? Self.elements("NextContinuationToken", in: text).first : nil
        } while token != nil
        return keys.sorted()
    }

    // MARK: Reading files and XML

    /// The text of every `<name>…</name>` in an S3 answer, entities decoded. S3's answers are flat
    /// and machine-written; a hand scan avoids linking libxml2 (FoundationXML) for three elements.
    static func elements(_ name: String, in xml: String) -> [String] {
        var found: [String] = []
        var rest = xml[...]
        while let open = rest.range(of: "<\(name)>"), let close = rest.range(of: "</\(name)>", range: open.upperBound..<rest.endIndex) {
            found.append(unescape(String(rest[open.upperBound..<close.lowerBound])))
            rest = rest[close.upperBound...]
        }
        return found
    }

    static func unescape(_ text: String) -> String {
        text.replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&apos;", with: "'").replacingOccurrences(of: "&lt;", with: "<")
            .replacingOccurrences(of: "&gt;", with: ">").replacingOccurrences(of: "&amp;", with: "&")
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
            .replacingOccurrences(of: "\"", with: "&quot;")
    }

    static func sha256(of file: URL, offset: Int, length: Int) async throws -> String {
        try await NIOThreadPool.singleton.runIfActive {
            let handle = try FileHandle(forReadingFrom: file)
            defer { try? handle.close() }
            try handle.seek(toOffset: UInt64(offset))
            var hasher = SHA256()
            var left = length
            while left > 0, let piece = try handle.read(upToCount: min(left, 1 << 20)), !piece.isEmpty {
                hasher.update(data: piece)
                left -= piece.count
            }
            return Hex.encode(hasher.finalize())
        }
    }

    /// `length` bytes of `file` from `offset`, sent a MiB at a time as the connection takes them.
    static func body(of file: URL, offset: Int, length: Int) -> HTTPClientRequest.Body {
        let pieces = AsyncThrowingStream<ByteBuffer, any Error> { continuation in
            Task {
                do {
                    let handle = try FileHandle(forReadingFrom: file)
                    defer { try? handle.close() }
                    try handle.seek(toOffset: UInt64(offset))
                    var left = length
                    while left > 0 {
                        let size = min(left, 1 << 20)
                        let piece = try await NIOThreadPool.singleton.runIfActive { try handle.read(upToCount: size) ?? Data() }
                        guard !piece.isEmpty else { throw BlobError("\(file.lastPathComponent) ended early") }
                        continuation.yield(ByteBuffer(bytes: piece))
                        left -= piece.count
                    }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
        }
        return .stream(pieces, length: .known(Int64(length)))
    }
}

/// Reads an object by ranged GETs, checking each answer belongs to the object first opened
/// (its ETag), so a blob replaced mid-read fails instead of mixing two versions.
final class S3BlobReader: BlobReader {
    let store: S3BlobStore
    let object: String
    let size: Int
    let etag: String?
    private let offset = Mutex(0)

    init(store: S3BlobStore, object: String, size: Int, etag: String?) {
        self.store = store
        self.object = object
        self.size = size
        self.etag = etag
    }

    func next() async throws -> Data? {
        let start = offset.withLock { $0 }
        guard start < size else { return nil }
        let end = min(size, start + store.settings.readSize) - 1
        var headers = ["range": "bytes=\(start)-\(end)"]
        if let etag { headers["if-match"] = etag }
        let answer = try await store.send(.GET, object: object, headers: headers, limit: store.settings.readSize)
        guard answer.status == .partialContent || answer.status == .ok else {
            if answer.status == .preconditionFailed { throw BlobError("\(object) was replaced while it was read; read it again") }
            throw store.failure("GET \(object)", answer)
        }
        guard answer.body.count == end - start + 1 else { throw BlobError("\(object): \(answer.body.count) bytes for range \(start)-\(end)") }
        offset.withLock { $0 = end + 1 }
        return answer.body
    }
}
