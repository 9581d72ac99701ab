import Crypto
import Foundation
import MerkleLog

/// The selective-disclosure commitment of tlog.md §6.4: a record is a fixed list of named fields;
/// each field leaf carries a salt derived from a per-record secret key, and the record root is the
/// RFC 6962 tree hash over the field leaves. Opening one field (its salt, value and audit path)
/// proves it without revealing anything about the others, and without revealing the key.
public struct RecordCommitment: Sendable {
    public struct Field: Equatable, Sendable {
        public var name: String
        public var value: String
        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    /// One revealed field and the path that ties it to the record root.
    public struct Opening: Equatable, Sendable {
        public var index: Int
        public var name: String
        public var salt: Data
        public var value: String
        public var path: [Data]

        public init(index: Int, name: String, salt: Data, value: String, path: [Data]) {
            self.index = index
            self.name = name
            self.salt = salt
            self.value = value
            self.path = path
        }

        /// Whether this opening belongs to a record with `root` and `fieldCount` fields.
        public func verifies(root: Data, fieldCount: Int) -> Bool {
            guard index >= 0, index < fieldCount else { return false }
            let leaf = MerkleHash.leaf(RecordCommitment.fieldLeaf(salt: salt, name: name, value: value))
            return (try? ProofVerification.verifyInclusion(
                index: UInt64(index), size: UInt64(fieldCount), leafHash: leaf, proof: path, root: root)) != nil
        }
    }

    /// The record's secret key K_r: kept in the sealed vault, never published.
    public let key: Data
    public let fields: [Field]
    private let tree: MerkleTree

    public init(key: Data, fields: [Field]) {
        precondition(key.count == 32, "a record key is 32 random bytes")
        self.key = key
        self.fields = fields
        self.tree = MerkleTree(leafData: fields.map { Self.fieldLeaf(salt: Self.salt(key: key, name: $0.name), name: $0.name, value: $0.value) })
    }

    /// salt_i = HMAC-SHA256(K_r, "lplog/v1 salt\n" || name_i)
    public static func salt(key: Data, name: String) -> Data {
        Data(HMAC<SHA256>.authenticationCode(for: Data("lplog/v1 salt\n\(name)".utf8), using: SymmetricKey(data: key)))
    }

    /// F_i = "lplog/v1 field\n" || salt_i || name_i || "\n" || value_i
    public static func fieldLeaf(salt: Data, name: String, value: String) -> Data {
        Data("lplog/v1 field\n".utf8) + salt + Data("\(name)\n\(value)".utf8)
    }

    /// R, the record root published in the log.
    public var root: Data { (try? tree.root()) ?? MerkleHash.emptyRoot }

    public func opening(_ index: Int) -> Opening {
        let field = fields[index]
        return Opening(
            index: index, name: field.name, salt: Self.salt(key: key, name: field.name), value: field.value,
            path: (try? tree.inclusionProof(index: UInt64(index))) ?? [])
    }

    public func opening(named name: String) -> Opening? {
        fields.firstIndex { $0.name == name }.map(opening)
    }
}
