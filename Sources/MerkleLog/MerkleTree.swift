import Crypto
import Foundation

extension MerkleHash {
    /// MTH({}) = SHA-256 of nothing (RFC 6962 §2.1).
    public static let emptyRoot = Data(SHA256.hash(data: Data()))
}

/// An RFC 6962 tree held in memory as its perfect subtrees, level by level. Used for small trees
/// (a record's field commitment, tests) and as the reference the stored trees are checked against.
public struct MerkleTree: Sendable {
    /// `levels[h][i]` is the hash of the perfect subtree `NodeID(height: h, index: i)`.
    public private(set) var levels: [[Data]] = [[]]

    public init() {}

    public init(leafData: [Data]) {
        for data in leafData { append(leafHash: MerkleHash.leaf(data)) }
    }

    public var size: UInt64 { UInt64(levels[0].count) }

    public mutating func append(leafHash: Data) {
        levels[0].append(leafHash)
        var height = 0
        while levels[height].count % 2 == 0 {
            let count = levels[height].count
            let parent = MerkleHash.node(levels[height][count - 2], levels[height][count - 1])
            if levels.count == height + 1 { levels.append([]) }
            levels[height + 1].append(parent)
            height += 1
        }
    }

    public func node(_ id: NodeID) -> Data? {
        guard id.height < levels.count, id.index < UInt64(levels[id.height].count) else { return nil }
        return levels[id.height][Int(id.index)]
    }

    func nodes(_ ids: Set<NodeID>) throws(MerkleError) -> [NodeID: Data] {
        var found: [NodeID: Data] = [:]
        for id in ids {
            guard let hash = node(id) else { throw .missingNode(id) }
            found[id] = hash
        }
        return found
    }

    /// The tree hash of the first `size` leaves.
    public func root(size: UInt64? = nil) throws(MerkleError) -> Data {
        let size = size ?? self.size
        guard size <= self.size else { throw .indexOutOfRange(index: size, size: self.size) }
        guard size > 0 else { return MerkleHash.emptyRoot }
        let range = LeafRange(0, size)
        return try range.hash(from: nodes(Set(range.pieces)))
    }

    public func inclusionProof(index: UInt64, size: UInt64? = nil) throws(MerkleError) -> [Data] {
        let size = size ?? self.size
        guard index < size, size <= self.size else { throw .indexOutOfRange(index: index, size: size) }
        let ranges = TreeShape.inclusionRanges(index: index, size: size)
        let hashes = try nodes(TreeShape.nodes(for: ranges))
        var proof: [Data] = []
        for range in ranges { proof.append(try range.hash(from: hashes)) }
        return proof
    }

    public func consistencyProof(oldSize: UInt64, newSize: UInt64? = nil) throws(MerkleError) -> [Data] {
        let newSize = newSize ?? self.size
        guard oldSize <= newSize, newSize <= self.size else { throw .badSizes(old: oldSize, new: newSize) }
        if oldSize == 0 || oldSize == newSize { return [] }
        let ranges = TreeShape.consistencyRanges(oldSize: oldSize, newSize: newSize)
        let hashes = try nodes(TreeShape.nodes(for: ranges))
        var proof: [Data] = []
        for range in ranges { proof.append(try range.hash(from: hashes)) }
        return proof
    }
}
