import Crypto
import Foundation

/// RFC 6962 §2.1 hashing with domain separation: leaves are hashed with a 0x00 prefix, interior
/// nodes with 0x01, so a leaf can never be passed off as a node. Written by hand because no
/// available package implements RFC 6962; the full tree, proofs and signed checkpoints follow in
/// the verifiable-log issue.
public enum MerkleHash {
    public static func leaf(_ data: some DataProtocol) -> Data {
        var hasher = SHA256()
        hasher.update(data: [0x00])
        hasher.update(data: data)
        return Data(hasher.finalize())
    }

    public static func node(_ left: Data, _ right: Data) -> Data {
        var hasher = SHA256()
        hasher.update(data: [0x01])
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
