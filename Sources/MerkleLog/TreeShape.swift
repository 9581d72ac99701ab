import Foundation

/// A perfect (complete) subtree of an RFC 6962 tree: `2^height` leaves starting at
/// `index << height`. Only these nodes are ever stored; every other hash a proof needs is folded
/// from them, so a store never rewrites a node once written.
public struct NodeID: Hashable, Sendable, Comparable {
    public let height: Int
    public let index: UInt64

    public init(height: Int, index: UInt64) {
        self.height = height
        self.index = index
    }

    public static func < (lhs: NodeID, rhs: NodeID) -> Bool {
        (lhs.height, lhs.index) < (rhs.height, rhs.index)
    }
}

/// A range of leaves `[start, end)` whose tree hash a proof needs.
public struct LeafRange: Hashable, Sendable {
    public let start: UInt64
    public let end: UInt64

    public init(_ start: UInt64, _ end: UInt64) {
        precondition(start < end, "a leaf range is never empty")
        self.start = start
        self.end = end
    }

    /// The perfect subtrees covering the range, largest first. For the ranges RFC 6962's
    /// recursion produces (the start aligned to a power of two at least the range's size) these
    /// are exactly the subtrees the tree hash combines, so `hash(from:)` folds them right to left.
    public var pieces: [NodeID] {
        var pieces: [NodeID] = []
        var start = self.start
        while start < end {
            var height = start == 0 ? 63 : start.trailingZeroBitCount
            while height > 0 && (UInt64(1) << UInt64(height) > end - start) { height -= 1 }
            pieces.append(NodeID(height: height, index: start >> UInt64(height)))
            start += UInt64(1) << UInt64(height)
        }
        return pieces
    }
}

/// Which subtree hashes RFC 9162's proofs consist of (§2.1.3.1 PATH and §2.1.4.1 PROOF), as leaf
/// ranges. Separating the shape from the hashing lets a database fetch every node a proof needs
/// in one query. Written by hand: no available Swift package implements RFC 6962/9162.
public enum TreeShape {
    /// The largest power of two smaller than `n` (n > 1).
    static func split(_ n: UInt64) -> UInt64 {
        var k: UInt64 = 1
        while k << 1 < n { k <<= 1 }
        return k
    }

    /// PATH(m, D[n]): the audit path of leaf `index` in a tree of `size`, leaf sibling first.
    public static func inclusionRanges(index: UInt64, size: UInt64) -> [LeafRange] {
        precondition(index < size, "the leaf must be in the tree")
        var ranges: [LeafRange] = []
        var low: UInt64 = 0
        var high = size
        // Walk down from the root, remembering the sibling of each step; the path lists them bottom-up.
        while high - low > 1 {
            let k = split(high - low)
            if index - low < k {
                ranges.append(LeafRange(low + k, high))
                high = low + k
            } else {
                ranges.append(LeafRange(low, low + k))
                low += k
            }
        }
        return ranges.reversed()
    }

    /// PROOF(m, D[n]) for 0 < m < n: what shows the tree of `newSize` extends the tree of `oldSize`.
    public static func consistencyRanges(oldSize: UInt64, newSize: UInt64) -> [LeafRange] {
        precondition(0 < oldSize && oldSize < newSize, "consistency proofs are defined for 0 < m < n")
        return subproof(oldSize, low: 0, high: newSize, complete: true)
    }

    private static func subproof(_ m: UInt64, low: UInt64, high: UInt64, complete: Bool) -> [LeafRange] {
        let n = high - low
        if m == n { return complete ? [] : [LeafRange(low, high)] }
        let k = split(n)
        if m <= k {
            return subproof(m, low: low, high: low + k, complete: complete) + [LeafRange(low + k, high)]
        }
        return subproof(m - k, low: low + k, high: high, complete: false) + [LeafRange(low, low + k)]
    }

    /// The perfect subtrees whose hashes give the tree hash of a range.
    public static func nodes(for ranges: [LeafRange]) -> Set<NodeID> {
        Set(ranges.flatMap(\.pieces))
    }

    /// The perfect subtrees that complete when the leaf at `index` is appended: the leaf itself and
    /// each ancestor whose last leaf it is.
    public static func completedNodes(byAppending index: UInt64) -> [NodeID] {
        var nodes = [NodeID(height: 0, index: index)]
        var position = index
        var height = 0
        while position & 1 == 1 {
            position >>= 1
            height += 1
            nodes.append(NodeID(height: height, index: position))
        }
        return nodes
    }
}

extension LeafRange {
    /// The tree hash of the range from its perfect subtrees' hashes.
    public func hash(from nodes: [NodeID: Data]) throws(MerkleError) -> Data {
        let pieces = self.pieces
        guard var hash = nodes[pieces[pieces.count - 1]] else { throw .missingNode(pieces[pieces.count - 1]) }
        for piece in pieces.dropLast().reversed() {
            guard let left = nodes[piece] else { throw .missingNode(piece) }
            hash = MerkleHash.node(left, hash)
        }
        return hash
    }
}

public enum MerkleError: Error, Equatable, Sendable, CustomStringConvertible {
    case missingNode(NodeID)
    case indexOutOfRange(index: UInt64, size: UInt64)
    case badSizes(old: UInt64, new: UInt64)

    public var description: String {
        switch self {
        case .missingNode(let node): "the stored tree lacks node height \(node.height) index \(node.index)"
        case .indexOutOfRange(let index, let size): "index \(index) is not in a tree of size \(size)"
        case .badSizes(let old, let new): "no consistency proof from size \(old) to \(new)"
        }
    }
}
