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
    /// The perfect subtrees' roots, largest first, held inline: verification folds a million
    /// leaves, and a `Data` per node was a heap allocation per node.
    private var subtrees: [(height: Int, hash: InlineHash)] = []
    public private(set) var count = 0

    public init() {}

    public mutating func append(leaf data: some DataProtocol) {
        append(leafHash: MerkleHash.leaf(data))
    }

    /// Appends a leaf whose hash is already known (verification streams stored leaf hashes).
    public mutating func append(leafHash: Data) {
        precondition(leafHash.count == 32, "a SHA-256 leaf hash")
        leafHash.withUnsafeBytes { append(leafHash: $0) }
    }

    /// Appends a leaf hash given as its 32 bytes in memory (a subtree of height 0).
    public mutating func append(leafHash bytes: UnsafeRawBufferPointer) {
        append(subtreeHash: bytes, height: 0)
    }

    /// Appends the 2^`height` leaves of a perfect subtree at once, given its root: the leaves so
    /// far must be a multiple of 2^`height`, so the subtree is exactly one of §2.1's left
    /// subtrees and the result equals appending its leaves one by one.
    public mutating func append(subtreeHash bytes: UnsafeRawBufferPointer, height: Int) {
        precondition(count % (1 << height) == 0, "a perfect subtree must start at a multiple of its size")
        var hash = InlineHash(bytes)
        var height = height
        let added = 1 << height
        while let last = subtrees.last, last.height == height {
            subtrees.removeLast()
            hash = InlineHash.node(last.hash, hash)
            height += 1
        }
        subtrees.append((height, hash))
        count += added
    }

    /// The tree hash of the leaves so far (SHA-256 of nothing for none).
    public var root: Data {
        guard var hash = subtrees.last?.hash else { return Data(SHA256.hash(data: Data())) }
        for subtree in subtrees.dropLast().reversed() { hash = InlineHash.node(subtree.hash, hash) }
        return hash.data
    }
}

/// A SHA-256 value stored in the struct itself, and RFC 6962's interior node hash over two of them.
struct InlineHash: Sendable {
    private var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

    init(_ bytes: UnsafeRawBufferPointer) {
        precondition(bytes.count == 32, "a SHA-256 hash")
        withUnsafeMutableBytes(of: &words) { $0.copyMemory(from: bytes) }
    }

    var data: Data { withUnsafeBytes(of: words) { Data($0) } }

    func write(to out: UnsafeMutableRawPointer) {
        withUnsafeBytes(of: words) { out.copyMemory(from: $0.baseAddress!, byteCount: 32) }
    }

    /// `MerkleHash.node`: SHA-256(0x01 ‖ left ‖ right), fed to the hasher as one 65-byte block
    /// assembled on the stack.
    static func node(_ left: InlineHash, _ right: InlineHash) -> InlineHash {
        withUnsafeTemporaryAllocation(byteCount: 65, alignment: 8) { input in
            input.storeBytes(of: 0x01, as: UInt8.self)
            withUnsafeBytes(of: left.words) { input.baseAddress!.advanced(by: 1).copyMemory(from: $0.baseAddress!, byteCount: 32) }
            withUnsafeBytes(of: right.words) { input.baseAddress!.advanced(by: 33).copyMemory(from: $0.baseAddress!, byteCount: 32) }
            var hasher = SHA256()
            hasher.update(bufferPointer: UnsafeRawBufferPointer(input))
            return hasher.finalize().withUnsafeBytes { InlineHash($0) }
        }
    }
}

/// Every level of a perfect subtree over 2^k leaf hashes, computed at once. Verification hashes
/// each page's subtrees on the cores beside the one that folds the log, and the levels give the
/// root at any size inside the subtree (a checkpoint may fall there) without hashing again.
public struct PerfectSubtree: Sendable {
    /// `levels[h]` holds the 2^(k−h) node hashes of height h, 32 bytes each, back to back.
    private let levels: [[UInt8]]

    public var height: Int { levels.count - 1 }
    public var leafCount: Int { 1 << height }

    /// `leafHashes` holds a power-of-two number of 32-byte leaf hashes, back to back.
    public init(leafHashes: [UInt8]) {
        let count = leafHashes.count / 32
        precondition(count > 0 && count & (count - 1) == 0 && leafHashes.count == count * 32, "a power of two of 32-byte hashes")
        var levels = [leafHashes]
        while levels.last!.count > 32 {
            let below = levels.last!
            let pairs = below.count / 64
            levels.append([UInt8](unsafeUninitializedCapacity: pairs * 32) { out, initialized in
                below.withUnsafeBytes { below in
                    for pair in 0..<pairs {
                        let left = InlineHash(UnsafeRawBufferPointer(rebasing: below[pair * 64..<pair * 64 + 32]))
                        let right = InlineHash(UnsafeRawBufferPointer(rebasing: below[pair * 64 + 32..<pair * 64 + 64]))
                        InlineHash.node(left, right).write(to: UnsafeMutableRawPointer(out.baseAddress! + pair * 32))
                    }
                }
                initialized = pairs * 32
            })
        }
        self.levels = levels
    }

    /// The subtree's root hash.
    public var root: Data { Data(levels[height]) }

    /// Appends the whole subtree to `builder`.
    public func append(to builder: inout MerkleRootBuilder) {
        levels[height].withUnsafeBytes { builder.append(subtreeHash: $0, height: height) }
    }

    /// Appends the subtree's first `leaves` leaves to `builder`, as the perfect subtrees their
    /// count's binary digits name (largest first), so `builder.root` is the tree at that size.
    public func appendPrefix(_ leaves: Int, to builder: inout MerkleRootBuilder) {
        precondition(leaves >= 0 && leaves <= leafCount, "a prefix of the subtree")
        var offset = 0
        for level in stride(from: height, through: 0, by: -1) where leaves & (1 << level) != 0 {
            let index = offset >> level
            levels[level].withUnsafeBytes { builder.append(subtreeHash: UnsafeRawBufferPointer(rebasing: $0[index * 32..<index * 32 + 32]), height: level) }
            offset += 1 << level
        }
    }
}
