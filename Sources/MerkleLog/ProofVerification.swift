import Foundation

/// RFC 9162 §2.1.3.2 and §2.1.4.2 proof verification, in the bit-arithmetic form of
/// transparency-dev/merkle (`proof/verify.go`): the expected proof length is computed first,
/// which rejects inserted or removed components before any hashing. Conventions (tlog.md §1.4):
/// equal sizes need an empty proof and equal roots; a proof from size 0 is refused here (the
/// witness protocol handles old size 0 before calling this); every hash must be 32 bytes.
public enum ProofVerification {
    public enum Failure: Error, Equatable, Sendable, CustomStringConvertible {
        case indexOutOfRange
        case wrongProofSize(got: Int, want: Int)
        case badHashLength
        case rootMismatch
        case sizesOutOfOrder
        case emptyProof
        case emptyOldTree
        case proofForEqualSizes

        public var description: String {
            switch self {
            case .indexOutOfRange: "the index is not inside the tree"
            case .wrongProofSize(let got, let want): "the proof has \(got) hashes, \(want) expected"
            case .badHashLength: "a hash is not 32 bytes"
            case .rootMismatch: "the proof does not lead to the root"
            case .sizesOutOfOrder: "the new tree is smaller than the old one"
            case .emptyProof: "the proof is empty"
            case .emptyOldTree: "a consistency proof from the empty tree is meaningless"
            case .proofForEqualSizes: "trees of equal size need an empty proof"
            }
        }
    }

    /// The root an inclusion proof leads to.
    public static func rootFromInclusion(
        index: UInt64, size: UInt64, leafHash: Data, proof: [Data]
    ) throws(Failure) -> Data {
        guard index < size else { throw .indexOutOfRange }
        guard leafHash.count == 32, proof.allSatisfy({ $0.count == 32 }) else { throw .badHashLength }
        let (inner, border) = decompose(index: index, size: size)
        guard proof.count == inner + border else { throw .wrongProofSize(got: proof.count, want: inner + border) }
        let seed = chainInner(leafHash, proof[..<inner], index: index)
        return chainBorderRight(seed, proof[inner...])
    }

    public static func verifyInclusion(
        index: UInt64, size: UInt64, leafHash: Data, proof: [Data], root: Data
    ) throws(Failure) {
        guard root.count == 32 else { throw .badHashLength }
        guard try rootFromInclusion(index: index, size: size, leafHash: leafHash, proof: proof) == root else {
            throw .rootMismatch
        }
    }

    public static func verifyConsistency(
        oldSize: UInt64, newSize: UInt64, oldRoot: Data, newRoot: Data, proof: [Data]
    ) throws(Failure) {
        guard oldRoot.count == 32, newRoot.count == 32, proof.allSatisfy({ $0.count == 32 }) else { throw .badHashLength }
        guard oldSize <= newSize else { throw .sizesOutOfOrder }
        if oldSize == newSize {
            guard proof.isEmpty else { throw .proofForEqualSizes }
            guard oldRoot == newRoot else { throw .rootMismatch }
            return
        }
        guard oldSize > 0 else { throw .emptyOldTree }
        guard !proof.isEmpty else { throw .emptyProof }
        var (inner, border) = decompose(index: oldSize - 1, size: newSize)
        let shift = oldSize.trailingZeroBitCount
        inner -= shift
        // The proof carries the hash of the subtree of size 2^shift, unless the old tree is that subtree.
        var seed = proof[0]
        var start = 1
        if oldSize == UInt64(1) << UInt64(shift) {
            seed = oldRoot
            start = 0
        }
        guard proof.count == start + inner + border else {
            throw .wrongProofSize(got: proof.count, want: start + inner + border)
        }
        let path = proof[start...]
        let innerPath = path.prefix(inner)
        let borderPath = path.dropFirst(inner)
        let mask = (oldSize - 1) >> UInt64(shift)
        let old = chainBorderRight(chainInnerRight(seed, innerPath, index: mask), borderPath)
        guard old == oldRoot else { throw .rootMismatch }
        let new = chainBorderRight(chainInner(seed, innerPath, index: mask), borderPath)
        guard new == newRoot else { throw .rootMismatch }
    }

    /// How many proof hashes lie below the point where the paths to `index` and to the last leaf
    /// part (`inner`), and how many are left siblings on the right border above it (`border`).
    static func decompose(index: UInt64, size: UInt64) -> (inner: Int, border: Int) {
        let inner = 64 - (index ^ (size - 1)).leadingZeroBitCount
        let border = (index >> UInt64(inner)).nonzeroBitCount
        return (inner, border)
    }

    static func chainInner(_ seed: Data, _ proof: some Collection<Data>, index: UInt64) -> Data {
        var hash = seed
        for (level, sibling) in proof.enumerated() {
            hash = (index >> UInt64(level)) & 1 == 0 ? MerkleHash.node(hash, sibling) : MerkleHash.node(sibling, hash)
        }
        return hash
    }

    static func chainInnerRight(_ seed: Data, _ proof: some Collection<Data>, index: UInt64) -> Data {
        var hash = seed
        for (level, sibling) in proof.enumerated() where (index >> UInt64(level)) & 1 == 1 {
            hash = MerkleHash.node(sibling, hash)
        }
        return hash
    }

    static func chainBorderRight(_ seed: Data, _ proof: some Collection<Data>) -> Data {
        var hash = seed
        for sibling in proof { hash = MerkleHash.node(sibling, hash) }
        return hash
    }
}
