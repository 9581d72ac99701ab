import Foundation

/// A tlog-policy file: the log's key, the witnesses, groups with thresholds, and the quorum a
/// checkpoint's cosignatures must meet before anyone should trust it (or we publish it).
public struct WitnessPolicy: Sendable {
    public struct Witness: Sendable {
        public var name: String
        public var verifier: CosignatureV1Verifier
        public var url: String?
    }

    public struct Group: Sendable {
        public enum Threshold: Sendable, Equatable {
            case count(Int)
            case all
        }
        public var name: String
        public var threshold: Threshold
        public var members: [String]

        public init(name: String, threshold: Threshold, members: [String]) {
            self.name = name
            self.threshold = threshold
            self.members = members
        }
    }

    public var logs: [(vkey: String, url: String?)] = []
    public var witnesses: [String: Witness] = [:]
    public var groups: [String: Group] = [:]
    /// Group names in definition order (a group may only name members defined before it).
    public var groupOrder: [String] = []
    /// The group or witness that must be satisfied; nil means `quorum none`.
    public var quorum: String?

    public init() {}

    public struct ParseError: Error, Equatable, Sendable, CustomStringConvertible {
        public var line: Int
        public var message: String
        public var description: String { "policy line \(line): \(message)" }
    }

    public init(parsing text: String) throws(ParseError) {
        var sawQuorum = false
        for (offset, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let number = offset + 1
            let line = rawLine.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)[0]
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard let keyword = words.first else { continue }
            switch keyword {
            case "log":
                guard words.count == 2 || words.count == 3 else { throw ParseError(line: number, message: "log <vkey> [<url>]") }
                do { _ = try NoteKey.parseVerifierKey(words[1]) } catch { throw ParseError(line: number, message: error.description) }
                logs.append((words[1], words.count == 3 ? words[2] : nil))
            case "witness":
                guard words.count == 3 || words.count == 4 else { throw ParseError(line: number, message: "witness <name> <vkey> [<url>]") }
                guard witnesses[words[1]] == nil, groups[words[1]] == nil else { throw ParseError(line: number, message: "\(words[1]) is defined twice") }
                let verifier: any NoteVerifier
                do { verifier = try NoteKey.verifier(words[2]) } catch { throw ParseError(line: number, message: error.description) }
                guard let cosigner = verifier as? CosignatureV1Verifier else {
                    throw ParseError(line: number, message: "a witness key must be a cosignature/v1 (type 0x04) key")
                }
                witnesses[words[1]] = Witness(name: words[1], verifier: cosigner, url: words.count == 4 ? words[3] : nil)
            case "group":
                guard words.count >= 4 else { throw ParseError(line: number, message: "group <name> <k|all|any> <members…>") }
                guard witnesses[words[1]] == nil, groups[words[1]] == nil else { throw ParseError(line: number, message: "\(words[1]) is defined twice") }
                let members = Array(words.dropFirst(3))
                for member in members where witnesses[member] == nil && groups[member] == nil {
                    throw ParseError(line: number, message: "\(member) is not defined above")
                }
                let threshold: Group.Threshold
                switch words[2] {
                case "all": threshold = .all
                case "any": threshold = .count(1)
                default:
                    guard let k = StrictDecimal.parse(words[2]), k >= 1, k <= UInt64(members.count) else {
                        throw ParseError(line: number, message: "the threshold must be all, any or 1…\(members.count)")
                    }
                    threshold = .count(Int(k))
                }
                groups[words[1]] = Group(name: words[1], threshold: threshold, members: members)
                groupOrder.append(words[1])
            case "quorum":
                guard words.count == 2, !sawQuorum else { throw ParseError(line: number, message: "one quorum <name|none> line") }
                sawQuorum = true
                if words[1] != "none" {
                    guard witnesses[words[1]] != nil || groups[words[1]] != nil else {
                        throw ParseError(line: number, message: "\(words[1]) is not defined above")
                    }
                    quorum = words[1]
                }
            default:
                throw ParseError(line: number, message: "unknown keyword \(keyword)")
            }
        }
        guard sawQuorum else { throw ParseError(line: 0, message: "the policy has no quorum line") }
    }

    /// Whether the witnesses named in `cosigned` satisfy the quorum.
    public func isSatisfied(by cosigned: Set<String>) -> Bool {
        guard let quorum else { return true }
        return satisfied(quorum, cosigned)
    }

    private func satisfied(_ name: String, _ cosigned: Set<String>) -> Bool {
        if witnesses[name] != nil { return cosigned.contains(name) }
        guard let group = groups[name] else { return false }
        let met = group.members.filter { satisfied($0, cosigned) }.count
        switch group.threshold {
        case .all: return met == group.members.count
        case .count(let k): return met >= k
        }
    }
}
