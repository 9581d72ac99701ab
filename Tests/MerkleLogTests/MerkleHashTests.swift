import Foundation
import MerkleLog
import Testing

/// Root hashes from transparency-dev/merkle testonly/constants.go (see ../shared/design/tlog.md §1.6).
@Suite struct MerkleHashTests {
    static let leafHex = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"]
    static let roots = [
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ]

    static func bytes(_ hex: String) -> Data {
        var data = Data()
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            data.append(UInt8(hex[index..<next], radix: 16)!)
            index = next
        }
        return data
    }

    @Test(arguments: 0...8)
    func rootMatchesTransparencyDevVector(size: Int) {
        let leaves = Self.leafHex.prefix(size).map(Self.bytes)
        let root = MerkleHash.root(ofLeaves: Array(leaves))
        #expect(root.map { String(format: "%02x", $0) }.joined() == Self.roots[size])
    }

    @Test(arguments: 0...8)
    func theIncrementalRootMatchesTheVectorsToo(size: Int) {
        var builder = MerkleRootBuilder()
        for hex in Self.leafHex.prefix(size) { builder.append(leaf: Self.bytes(hex)) }
        #expect(builder.count == size)
        #expect(builder.root.map { String(format: "%02x", $0) }.joined() == Self.roots[size])
    }

    /// Every size up to 200 (so every shape of the final fold), against the recursive definition.
    @Test func theIncrementalRootEqualsTheRecursiveOneForEverySize() {
        var builder = MerkleRootBuilder()
        var leaves: [Data] = []
        for index in 0..<200 {
            #expect(builder.root == MerkleHash.root(ofLeaves: leaves), "size \(index)")
            let leaf = Data("leaf \(index)".utf8)
            leaves.append(leaf)
            builder.append(leaf: leaf)
        }
    }
}

/// Verification folds whole perfect subtrees at once (`PerfectSubtree`, `append(subtreeHash:)`)
/// and takes roots at sizes inside them from the subtree's levels; each must equal the tree of
/// the same leaves appended one by one (RFC 6962 §2.1).
@Suite struct PerfectSubtreeTests {
    static func leaf(_ number: Int) -> Data { MerkleHash.leaf(Data("leaf \(number)".utf8)) }

    @Test(arguments: [1, 2, 8, 64])
    func aSubtreeAndEveryPrefixOfItEqualTheLeavesOneByOne(leaves: Int) {
        // The subtree starts after a prefix of the log that is a multiple of its size.
        let before = 3 * leaves
        var base = MerkleRootBuilder()
        for number in 0..<before { base.append(leafHash: Self.leaf(number)) }
        let hashes = (before..<before + leaves).flatMap { Array(Self.leaf($0)) }
        let subtree = PerfectSubtree(leafHashes: hashes)
        #expect(subtree.leafCount == leaves)
        #expect(subtree.root == MerkleHash.root(ofLeaves: (before..<before + leaves).map { Data("leaf \($0)".utf8) }))
        var oneByOne = base
        for prefix in 0...leaves {
            var partial = base
            subtree.appendPrefix(prefix, to: &partial)
            #expect(partial.count == before + prefix)
            #expect(partial.root == oneByOne.root, "prefix \(prefix)")
            if prefix < leaves { oneByOne.append(leafHash: Self.leaf(before + prefix)) }
        }
        var whole = base
        subtree.append(to: &whole)
        #expect(whole.count == before + leaves && whole.root == oneByOne.root)
        // And the builder goes on as if the leaves had come singly.
        whole.append(leafHash: Self.leaf(0))
        oneByOne.append(leafHash: Self.leaf(0))
        #expect(whole.root == oneByOne.root)
    }

    @Test func theIncrementalRootMatchesTheRecursiveDefinitionForEverySize() {
        var builder = MerkleRootBuilder()
        var leaves: [Data] = []
        for number in 0..<70 {
            #expect(builder.root == MerkleHash.root(ofLeaves: leaves))
            leaves.append(Data("entry \(number)".utf8))
            builder.append(leaf: leaves.last!)
        }
    }
}
