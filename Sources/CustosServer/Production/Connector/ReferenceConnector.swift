import Crypto
import CustosDomain
import Foundation
import HTTPTypes
import Hummingbird
import Synchronization

/// A tiny reference connector (the provider's side of `ConnectorProtocol`), serving records from
/// any `CustomerDataSource`. It shows what a connector must do: check the Ed25519 signature
/// against Custos's published key, refuse expired or replayed requests, answer NDJSON as it
/// reads, and hand large records out as blob references. The tests run Custos against it, and
/// `custos connector serve` runs it over the demo record store.
public final class ReferenceConnector: Sendable {
    let source: any CustomerDataSource
    let publicKey: Curve25519.Signing.PublicKey
    /// Records larger than this are sent as blob references; nil sends every record inline.
    let blobThreshold: Int?
    let clock: @Sendable () -> Date
    let state = Mutex<(seen: Set<UUID>, blobs: [String: (requestID: UUID, url: String, bytes: Data)])>(([], [:]))

    public init(source: any CustomerDataSource, publicKey: Curve25519.Signing.PublicKey, blobThreshold: Int? = nil, clock: @escaping @Sendable () -> Date = { Date() }) {
        self.source = source
        self.publicKey = publicKey
        self.blobThreshold = blobThreshold
        self.clock = clock
    }

    struct Refusal: HTTPResponseError {
        var status: HTTPResponse.Status
        var reason: String
        func response(from request: Request, context: some RequestContext) throws -> Response {
            Response(status: status, headers: [.contentType: "text/plain"], body: .init(byteBuffer: ByteBuffer(string: reason)))
        }
    }

    public func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.post("/collect") { request, context in try await self.collect(request, context) }
        router.get("/blobs/:token") { request, context in try await self.blob(request, context) }
        return router
    }

    func collect(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let body = Data(buffer: try await request.body.collect(upTo: 1024 * 1024))
        guard let signature = request.headers[HTTPField.Name(ConnectorProtocol.signatureHeader)!],
            ConnectorProtocol.isValid(signature: signature, over: ConnectorProtocol.signedBytes(ofRequestBody: body), key: publicKey)
        else { throw Refusal(status: .unauthorized, reason: "the collection request is not signed by Custos's key") }
        let scope: ConnectorProtocol.CollectionRequest
        do {
            scope = try CustosJSON.makeDecoder().decode(ConnectorProtocol.CollectionRequest.self, from: body)
        } catch {
            throw Refusal(status: .badRequest, reason: "not a collection request: \(error)")
        }
        guard scope.format == ConnectorProtocol.format else { throw Refusal(status: .badRequest, reason: "unknown format \(scope.format)") }
        guard scope.expiresAt > clock() else { throw Refusal(status: .unauthorized, reason: "the collection request has expired") }
        let fresh = state.withLock { $0.seen.insert(scope.requestId).inserted }
        guard fresh else { throw Refusal(status: .conflict, reason: "request \(scope.requestId) was already answered") }

        let plan = CollectionPlan(
            caseID: scope.caseId, caseNumber: scope.caseNumber, accounts: scope.accounts, categories: scope.categories, window: scope.window,
            asked: scope.categories, allowed: [], approved: [])
        let host = request.head.authority ?? "127.0.0.1"
        let encoder = CustosJSON.makeEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let records = source.records(for: plan)
        return Response(
            status: .ok, headers: [.contentType: "application/x-ndjson"],
            body: ResponseBody { writer in
                for try await record in records {
                    var line = ConnectorProtocol.ConnectorRecord(
                        account: record.account, category: record.category.rawValue, timestamp: record.timestamp, mediaType: record.mediaType,
                        id: record.sourceID, data: nil, blob: nil)
                    if let blobThreshold = self.blobThreshold, record.bytes.count > blobThreshold {
                        let token = UUID().uuidString.lowercased()
                        let url = "http://\(host)/blobs/\(token)"
                        self.state.withLock { $0.blobs[token] = (scope.requestId, url, record.bytes) }
                        line.blob = .init(url: url, sha256: Hex.encode(SHA256.hash(data: record.bytes)), size: record.bytes.count)
                    } else {
                        line.data = record.bytes.base64EncodedString()
                    }
                    var bytes = try encoder.encode(line)
                    bytes.append(UInt8(ascii: "\n"))
                    try await writer.write(ByteBuffer(data: bytes))
                }
                try await writer.finish(nil)
            })
    }

    func blob(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let token = context.parameters.get("token") ?? ""
        guard let entry = state.withLock({ $0.blobs[token] }),
            let requestID = request.headers[HTTPField.Name(ConnectorProtocol.requestIDHeader)!].flatMap(UUID.init(uuidString:)), requestID == entry.requestID,
            let signature = request.headers[HTTPField.Name(ConnectorProtocol.signatureHeader)!],
            ConnectorProtocol.isValid(signature: signature, over: ConnectorProtocol.signedBytes(ofBlob: entry.url, requestID: requestID), key: publicKey)
        else { throw Refusal(status: .notFound, reason: "no such blob for this request") }
        state.withLock { _ = $0.blobs.removeValue(forKey: token) }
        return Response(status: .ok, headers: [.contentType: "application/octet-stream"], body: .init(byteBuffer: ByteBuffer(data: entry.bytes)))
    }
}
