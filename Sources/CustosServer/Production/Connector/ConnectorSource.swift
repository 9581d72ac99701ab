import AsyncHTTPClient
import Crypto
import CustosDomain
import Foundation
import NIOCore
import NIOHTTP1

/// `CustomerDataSource` over the connector protocol (`ConnectorProtocol`): sends the signed scope,
/// reads the NDJSON answer as it streams in (memory holds one record at a time) and fetches blob
/// references from the connector's own origin only. A line that cannot be read fails the build:
/// a package is complete or it is not made.
public struct ConnectorSource: CustomerDataSource {
    public let url: String
    let key: PackageSigningKey
    let maxRecordBytes: Int
    let timeout: TimeAmount
    let purpose: PackagePurpose
    let clock: @Sendable () -> Date

    public var name: String { "connector:\(url)" }

    public init(
        url: String, key: PackageSigningKey, maxRecordBytes: Int = 64 * 1024 * 1024, timeout: TimeAmount = .minutes(30),
        purpose: PackagePurpose = .production, clock: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.url = url
        self.key = key
        self.maxRecordBytes = maxRecordBytes
        self.timeout = timeout
        self.purpose = purpose
        self.clock = clock
    }

    /// The origin (`scheme://host:port`) blob references must share with the connector.
    static func origin(of url: String) -> String? {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(), let host = components.host?.lowercased() else {
            return nil
        }
        let port = components.port ?? (scheme == "https" ? 443 : 80)
        return "\(scheme)://\(host):\(port)"
    }

    public func records(for plan: CollectionPlan) -> AsyncThrowingStream<CustomerRecord, any Error> {
        // Pulled line by line as the package builder asks: memory holds one record at a time.
        let reader = Reader(source: self, plan: plan)
        return AsyncThrowingStream(unfolding: { try await reader.next() })
    }

    /// Sends the signed request on the first pull, then reads the NDJSON body one line per record.
    /// The body's iterator is not Sendable, so it is only ever advanced on this actor's isolation.
    actor Reader {
        let source: ConnectorSource
        let plan: CollectionPlan
        var body: HTTPClientResponse.Body.AsyncIterator?
        var requestID = UUID()
        var pending = ByteBuffer()
        var lineNumber = 0
        var finished = false
        let decoder = CustosJSON.makeDecoder()

        init(source: ConnectorSource, plan: CollectionPlan) {
            self.source = source
            self.plan = plan
        }

        func next() async throws -> CustomerRecord? {
            if body == nil { body = try await source.send(plan, requestID: requestID).makeAsyncIterator() }
            while true {
                if let newline = pending.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) {
                    let line = pending.readSlice(length: newline - pending.readerIndex)!
                    pending.moveReaderIndex(forwardBy: 1)
                    lineNumber += 1
                    if let record = try await decode(line) { return record }
                    continue
                }
                if finished {
                    guard pending.readableBytes > 0 else { return nil }
                    let line = pending.readSlice(length: pending.readableBytes)!
                    lineNumber += 1
                    if let record = try await decode(line) { return record }
                    continue
                }
                guard pending.readableBytes <= source.maxLineBytes else {
                    throw ConnectorError("connector line \(lineNumber + 1) is longer than \(source.maxLineBytes) bytes (CUSTOS_CONNECTOR_MAX_RECORD_BYTES)")
                }
                pending.discardReadBytes()
                var iterator = body!
                let next = try await iterator.next(isolation: self)
                body = iterator
                if var chunk = next {
                    pending.writeBuffer(&chunk)
                } else {
                    finished = true
                }
            }
        }

        func decode(_ line: ByteBuffer) async throws -> CustomerRecord? {
            guard line.readableBytesView.contains(where: { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\r") }) else { return nil }
            let wire: ConnectorProtocol.ConnectorRecord
            do {
                wire = try decoder.decode(ConnectorProtocol.ConnectorRecord.self, from: Data(line.readableBytesView))
            } catch {
                throw ConnectorError("connector line \(lineNumber) is not a record: \(error)")
            }
            return try await source.record(from: wire, line: lineNumber, requestID: requestID)
        }
    }

    /// base64 grows bytes by 4/3; the rest of a line is small.
    var maxLineBytes: Int { maxRecordBytes / 3 * 4 + 64 * 1024 }

    /// Posts the signed collection request; returns the streaming body of a 200 answer.
    func send(_ plan: CollectionPlan, requestID: UUID) async throws -> HTTPClientResponse.Body {
        let scope = ConnectorProtocol.CollectionRequest(plan: plan, purpose: purpose, requestId: requestID, at: clock())
        let encoder = CustosJSON.makeEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let body = try encoder.encode(scope)
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Accept", value: "application/x-ndjson")
        request.headers.add(name: ConnectorProtocol.keyIDHeader, value: key.keyID)
        request.headers.add(name: ConnectorProtocol.requestIDHeader, value: requestID.uuidString.lowercased())
        request.headers.add(name: ConnectorProtocol.signatureHeader, value: try key.sign(ConnectorProtocol.signedBytes(ofRequestBody: body)).base64EncodedString())
        request.body = .bytes(ByteBuffer(data: body))
        let response = try await HTTPClient.shared.execute(request, timeout: timeout)
        guard response.status == .ok else {
            let text = (try? await response.body.collect(upTo: 4096)).map { String(buffer: $0) } ?? ""
            throw ConnectorError("connector \(url) answered HTTP \(response.status.code): \(text.prefix(500))")
        }
        return response.body
    }

    func record(from wire: ConnectorProtocol.ConnectorRecord, line: Int, requestID: UUID) async throws -> CustomerRecord {
        guard let category = DataCategory(rawValue: wire.category) else {
            throw ConnectorError("connector line \(line): unknown category \"\(wire.category)\"")
        }
        let bytes: Data
        switch (wire.data, wire.blob) {
        case (let data?, nil):
            guard let decoded = Data(base64Encoded: data) else { throw ConnectorError("connector line \(line): data is not base64") }
            bytes = decoded
        case (nil, let blob?):
            bytes = try await fetch(blob, line: line, requestID: requestID)
        default:
            throw ConnectorError("connector line \(line): give exactly one of data and blob")
        }
        guard bytes.count <= maxRecordBytes else { throw ConnectorError("connector line \(line): record larger than \(maxRecordBytes) bytes") }
        return CustomerRecord(account: wire.account, category: category, timestamp: wire.timestamp, mediaType: wire.mediaType, bytes: bytes, sourceID: wire.id)
    }

    /// Fetches a blob, from the connector's own origin only (a connector cannot make Custos call
    /// anywhere else), and checks its size and hash.
    func fetch(_ blob: ConnectorProtocol.ConnectorRecord.Blob, line: Int, requestID: UUID) async throws -> Data {
        guard let expected = Self.origin(of: url), Self.origin(of: blob.url) == expected else {
            throw ConnectorError("connector line \(line): blob \(blob.url) is not on the connector's origin")
        }
        if let size = blob.size, size > maxRecordBytes { throw ConnectorError("connector line \(line): blob larger than \(maxRecordBytes) bytes") }
        var request = HTTPClientRequest(url: blob.url)
        request.headers.add(name: ConnectorProtocol.keyIDHeader, value: key.keyID)
        request.headers.add(name: ConnectorProtocol.requestIDHeader, value: requestID.uuidString.lowercased())
        request.headers.add(
            name: ConnectorProtocol.signatureHeader,
            value: try key.sign(ConnectorProtocol.signedBytes(ofBlob: blob.url, requestID: requestID)).base64EncodedString())
        let response = try await HTTPClient.shared.execute(request, timeout: timeout)
        guard response.status == .ok else { throw ConnectorError("connector line \(line): blob \(blob.url) answered HTTP \(response.status.code)") }
        let bytes = Data(buffer: try await response.body.collect(upTo: maxRecordBytes))
        if let sha256 = blob.sha256, PackageBuilder.hex(SHA256.hash(data: bytes)) != sha256.lowercased() {
            throw ConnectorError("connector line \(line): blob \(blob.url) does not match its SHA-256")
        }
        return bytes
    }
}
