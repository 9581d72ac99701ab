import Crypto
import Foundation

/// RFC 6962 §2.1 hashing with domain separation: leaves are hashed with a 0x00 prefix, interior
/// nodes with 0x01, so a leaf can never be passed off as a node. Written by hand because no
/// available package implements RFC 6962.
public enum MerkleHash {
    private static let leafPrefix = Data([0x00])
    private static let nodePrefix = Data([0x01])

    public static func leaf(_ data: some DataProtocol) -> Data {
        var hasher = SHA256()
        hasher.update(data: leafPrefix)
        hasher.update(data: data)
        return Data(hasher.finalize())
    }

    public static func node(_ left: Data, _ right: Data) -> Data {
        var hasher = SHA256()
        hasher.update(data: nodePrefix)
        hasher.update(data: left)
        hasher.update(data: right)
        return Data(hasher.finalize())
    }

    /// The Merkle tree hash of a list of leaves (RFC 6962 §2.1): split at the largest power of two
    /// smaller than n. The empty tree hashes to SHA-256 of the empty string.
    public static func root(ofLeaves leaves: [Data]) -> Data {
        switch leaves.count {
        case 0: return Data(SHA256.hash(data: Data()))
        case 1: return leaf(leaves[0])
        default:
            var split = 1
            while split * 2 < leaves.count { split *= 2 }
            return node(root(ofLeaves: Array(leaves[..<split])), root(ofLeaves: Array(leaves[split...])))
        }
    }
}

/// The RFC 6962 tree hash computed as leaves arrive, in O(log n) memory: it keeps the roots of the
/// perfect subtrees seen so far, which are exactly the left subtrees §2.1's split produces, so the
/// result equals `MerkleHash.root(ofLeaves:)` without holding the leaves (a package build hashes
/// one file at a time).
public struct MerkleRootBuilder: Sendable {
    private var subtrees: [(height: Int, hash: Data)] = []
    public private(set) var count = 0

    public init() {}

    public mutating func append(leaf data: some DataProtocol) {
        append(leafHash: MerkleHash.leaf(data))
    }

    /// Appends a leaf whose hash is already known (verification streams stored leaf hashes).
    public mutating func append(leafHash: Data) {
        var hash = leafHash
        var height = 0
        while let last = subtrees.last, last.height == height {
            subtrees.removeLast()
            hash = MerkleHash.node(last.hash, hash)
            height += 1
        }
        subtrees.append((height, hash))
        count += 1
    }

    /// The tree hash of the leaves so far (SHA-256 of nothing for none).
    public var root: Data {
        guard var hash = subtrees.last?.hash else { return Data(SHA256.hash(data: Data())) }
        for subtree in subtrees.dropLast().reversed() { hash = MerkleHash.node(subtree.hash, hash) }
        return hash
    }
}
