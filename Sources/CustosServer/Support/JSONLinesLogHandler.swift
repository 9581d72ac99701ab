import CustosDomain
import Foundation
import Logging

/// `CUSTOS_LOG_FORMAT=json`: one JSON object per line on standard error (time, level, label,
/// message, metadata, source), what log collectors read without a parsing rule. Written by hand:
/// swift-log ships only the plain-text handler, and no JSON handler is among the available packages.
public struct JSONLinesLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    let label: String

    public init(label: String) { self.label = label }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(
        level: Logger.Level, message: Logger.Message, metadata explicit: Logger.Metadata?, source: String, file: String, function: String, line: UInt
    ) {
        var fields: [String: String] = [:]
        for (key, value) in metadata.merging(explicit ?? [:], uniquingKeysWith: { _, new in new }) { fields[key] = "\(value)" }
        let entry = Entry(time: Timestamp.format(Date()), level: level.rawValue, label: label, message: message.description, metadata: fields, source: source)
        guard var data = try? Self.encoder.encode(entry) else { return }
        data.append(0x0A)
        FileHandle.standardError.write(data)
    }

    struct Entry: Encodable {
        var time: String
        var level: String
        var label: String
        var message: String
        var metadata: [String: String]
        var source: String
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()
}
