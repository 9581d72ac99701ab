import Foundation
import MerkleLog
import Testing

private func hex(_ text: String) -> Data { MerkleHashTests.bytes(text) }
private func b64(_ text: String) -> Data { Data(base64Encoded: text)! }

/// Vectors of tlog.md §1.2 and §1.6 (transparency-dev/merkle, Apache-2.0): the happy-path probes
/// verbatim, the quoted failing probes verbatim, and the corpus's mutation families applied to
/// every happy path (the corpus is made of exactly these mutations).
@Suite struct ProofTests {
    static let leaves = MerkleHashTests.leafHex.map(hex)
    static let tree = MerkleTree(leafData: leaves)
    static func root(_ size: Int) -> Data { hex(MerkleHashTests.roots[size]) }

    struct Inclusion: CustomTestStringConvertible, Sendable {
        var index: UInt64, size: UInt64, leafHash: Data, proof: [Data], root: Data
        var testDescription: String { "inclusion \(index) of \(size)" }
    }

    struct Consistency: CustomTestStringConvertible, Sendable {
        var size1: UInt64, size2: UInt64, root1: Data, root2: Data, proof: [Data]
        var testDescription: String { "consistency \(size1) → \(size2)" }
    }

    static let inclusionHappyPaths: [Inclusion] = [
        Inclusion(index: 0, size: 1, leafHash: root(1), proof: [], root: root(1)),
        Inclusion(
            index: 0, size: 8, leafHash: hex("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
            proof: [
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ].map(hex), root: root(8)),
        Inclusion(
            index: 5, size: 8, leafHash: hex("4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658"),
            proof: [
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ].map(hex), root: root(8)),
        Inclusion(
            index: 2, size: 3, leafHash: hex("0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7"),
            proof: [hex("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125")], root: root(3)),
        Inclusion(
            index: 1, size: 5, leafHash: hex("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
            proof: [
                "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            ].map(hex), root: root(5)),
    ]

    static let consistencyHappyPaths: [Consistency] = [
        Consistency(size1: 1, size2: 1, root1: root(1), root2: root(1), proof: []),
        Consistency(
            size1: 1, size2: 8, root1: root(1), root2: root(8),
            proof: [
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ].map(hex)),
        Consistency(
            size1: 6, size2: 8, root1: root(6), root2: root(8),
            proof: [
                "DrxdNDf74tsVi58Sah0RjjCBgQMdCpSfje3t68VY72o=", "yoVOoSjtBQtBs1/8G4e46yveRh6eO1WW7Oa51ZdaCuA=",
                "037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc=",
            ].map(b64)),
        Consistency(
            size1: 2, size2: 5, root1: root(2), root2: root(5),
            proof: [
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            ].map(hex)),
        Consistency(
            size1: 6, size2: 7, root1: root(6), root2: root(7),
            proof: [
                "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ].map(hex)),
    ]

    @Test(arguments: inclusionHappyPaths)
    func happyPathInclusionVerifiesAndIsWhatTheTreeGenerates(probe: Inclusion) throws {
        try ProofVerification.verifyInclusion(index: probe.index, size: probe.size, leafHash: probe.leafHash, proof: probe.proof, root: probe.root)
        #expect(try Self.tree.inclusionProof(index: probe.index, size: probe.size) == probe.proof)
        #expect(try Self.tree.root(size: probe.size) == probe.root)
    }

    @Test(arguments: consistencyHappyPaths)
    func happyPathConsistencyVerifiesAndIsWhatTheTreeGenerates(probe: Consistency) throws {
        try ProofVerification.verifyConsistency(oldSize: probe.size1, newSize: probe.size2, oldRoot: probe.root1, newRoot: probe.root2, proof: probe.proof)
        #expect(try Self.tree.consistencyProof(oldSize: probe.size1, newSize: probe.size2) == probe.proof)
    }

    /// The mutation families of the transparency-dev corpus, applied to an inclusion happy path.
    static func mutations(of p: Inclusion) -> [(String, Inclusion)] {
        var list: [(String, Inclusion)] = []
        func add(_ name: String, _ change: (inout Inclusion) -> Void) {
            var copy = p
            change(&copy)
            list.append((name, copy))
        }
        let garbage = Data(repeating: 0xAB, count: 32)
        add("empty root") { $0.root = Data() }
        add("random root") { $0.root = garbage }
        add("wrong leaf") { $0.leafHash = Data(repeating: 0x11, count: 32) }
        add("leafIdx + 1") { $0.index += 1 }
        if p.index > 0 { add("leafIdx - 1") { $0.index -= 1 } }
        add("leafIdx XOR 2") { $0.index ^= 2 }
        add("treeSize * 2") { $0.size *= 2 }
        if p.size > 1 { add("treeSize / 2") { $0.size /= 2 } }
        add("preceding garbage") { $0.proof.insert(garbage, at: 0) }
        add("trailing garbage") { $0.proof.append(garbage) }
        add("preceding root") { $0.proof.insert(p.root, at: 0) }
        add("trailing root") { $0.proof.append(p.root) }
        for i in p.proof.indices {
            add("modified proof[\(i)] bit 4") { $0.proof[i][$0.proof[i].startIndex] ^= 0x10 }
            add("removed component \(i)") { $0.proof.remove(at: i) }
            add("inserted component at \(i)") { $0.proof.insert(garbage, at: i) }
        }
        if !p.proof.isEmpty {
            add("truncated proof") { $0.proof.removeLast() }
            add("empty proof") { $0.proof = [] }
        }
        return list
    }

    static func mutations(of p: Consistency) -> [(String, Consistency)] {
        var list: [(String, Consistency)] = []
        func add(_ name: String, _ change: (inout Consistency) -> Void) {
            var copy = p
            change(&copy)
            list.append((name, copy))
        }
        let garbage = Data(repeating: 0xAB, count: 32)
        add("wrong root1") { $0.root1 = garbage }
        add("wrong root2") { $0.root2 = garbage }
        add("empty root1") { $0.root1 = Data() }
        add("size1 + 1") { $0.size1 += 1 }
        if p.size1 > 1 { add("size1 - 1") { $0.size1 -= 1 } }
        add("size1 XOR 2") { $0.size1 ^= 2 }
        add("size2 * 2") { $0.size2 *= 2 }
        if p.size2 > 1 { add("size2 / 2") { $0.size2 /= 2 } }
        add("preceding garbage") { $0.proof.insert(garbage, at: 0) }
        add("trailing garbage") { $0.proof.append(garbage) }
        add("preceding root1") { $0.proof.insert(p.root1, at: 0) }
        add("trailing root2") { $0.proof.append(p.root2) }
        if p.root1 != p.root2 { add("swapped roots") { ($0.root1, $0.root2) = (p.root2, p.root1) } }
        for i in p.proof.indices {
            add("modified proof[\(i)] bit 4") { $0.proof[i][$0.proof[i].startIndex] ^= 0x10 }
            add("removed component \(i)") { $0.proof.remove(at: i) }
        }
        if !p.proof.isEmpty {
            add("truncated proof") { $0.proof.removeLast() }
            add("empty proof") { $0.proof = [] }
        }
        return list
    }

    @Test(arguments: inclusionHappyPaths)
    func everyMutationOfAnInclusionProofFails(probe: Inclusion) {
        for (name, mutated) in Self.mutations(of: probe) {
            #expect(throws: ProofVerification.Failure.self, "\(name)") {
                try ProofVerification.verifyInclusion(
                    index: mutated.index, size: mutated.size, leafHash: mutated.leafHash, proof: mutated.proof, root: mutated.root)
            }
        }
    }

    @Test(arguments: consistencyHappyPaths)
    func everyMutationOfAConsistencyProofFails(probe: Consistency) {
        for (name, mutated) in Self.mutations(of: probe) {
            #expect(throws: ProofVerification.Failure.self, "\(name)") {
                try ProofVerification.verifyConsistency(
                    oldSize: mutated.size1, newSize: mutated.size2, oldRoot: mutated.root1, newRoot: mutated.root2, proof: mutated.proof)
            }
        }
    }

    /// The negative probes tlog.md §1.6 quotes verbatim.
    @Test func theQuotedFailingProbesFail() {
        let proofA = ["nqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c=", "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=", "a0eq8p7jwq+a+Im8H7klTavTEXfxYjLdaqsDXKOb9uQ="].map(b64)
        let leaf0 = b64("bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=")
        let root8 = b64("XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=")
        #expect(throws: ProofVerification.Failure.self) {
            try ProofVerification.verifyInclusion(index: 0, size: 8, leafHash: leaf0, proof: proofA, root: root8)
        }
        let proofB = ["lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c=", "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=", "a0eq8p7jwq+a+Im8H7klTavTEXfxYjLdaqsDXKOb9uQ="].map(b64)
        #expect(throws: ProofVerification.Failure.self) {
            try ProofVerification.verifyInclusion(index: 0, size: 16, leafHash: leaf0, proof: proofB, root: root8)
        }
        let proofC = ["bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=", "q6yroAAAAAAAAAAAAAAAAAAAAAAAAAAAAGAGHgASNFY=", "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=", "vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms="].map(b64)
        #expect(throws: ProofVerification.Failure.self) {
            try ProofVerification.verifyInclusion(
                index: 1, size: 5, leafHash: b64("lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c="), proof: proofC,
                root: b64("Tju7H3tHjc/nH7YxYxUZo7yhLJrvyhYSv85ME6hiZNQ="))
        }
        let proofD = ["DrxdNDf74tsVi58Sah0RjjCBgQMdCpSfje3t68VY72o=", "yoVOoSjtBQtBs1/8G4e46yveRh6eO1WW7Oa51ZdaCuA=", "037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc="].map(b64)
        #expect(throws: ProofVerification.Failure.self) {
            try ProofVerification.verifyConsistency(
                oldSize: 6, newSize: 8, oldRoot: root8, newRoot: b64("duZ9rbzfHhDht03cYIq9L5jfsW+851J3tSMqEn8gh+8="), proof: proofD)
        }
        #expect(throws: ProofVerification.Failure.self) {
            try ProofVerification.verifyConsistency(
                oldSize: 2, newSize: 5, oldRoot: b64("+sVCA+fMaWzw38tCySodnbr3CtnmIfS9jZhmLwDjwSU="),
                newRoot: b64("Tju7H3tHjc/nH7YxYxUZo7yhLJrvyhYSv85ME6hiZNQ="), proof: [b64("Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=")])
        }
    }

    /// tlog.md §1.4's conventions: a proof from the empty tree is refused; a single leaf whose hash
    /// and root are empty strings fails.
    @Test func theEdgeConventions() {
        #expect(throws: ProofVerification.Failure.emptyOldTree) {
            try ProofVerification.verifyConsistency(oldSize: 0, newSize: 0 + 3, oldRoot: MerkleHash.emptyRoot, newRoot: Self.root(3), proof: [])
        }
        #expect(throws: ProofVerification.Failure.badHashLength) {
            try ProofVerification.verifyInclusion(index: 0, size: 1, leafHash: Data(), proof: [], root: Data())
        }
        #expect(throws: ProofVerification.Failure.proofForEqualSizes) {
            try ProofVerification.verifyConsistency(oldSize: 3, newSize: 3, oldRoot: Self.root(3), newRoot: Self.root(3), proof: [Self.root(1)])
        }
    }

    /// The RFC's 7-leaf example (tlog.md §1.2): the proofs are exactly the named nodes.
    @Test func theRFCSevenLeafExample() throws {
        let n: [String: String] = [
            "a": "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d", "b": "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "c": "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7", "d": "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
            "f": "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658", "g": "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
            "h": "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e", "i": "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "j": "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f", "k": "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            "l": "837dbb152e9b079010717e84e865da4ebc0fa198a806d59d31bf15accef22d0e",
        ]
        func nodes(_ names: String) -> [Data] { names.map { hex(n[String($0)]!) } }
        #expect(try Self.tree.inclusionProof(index: 0, size: 7) == nodes("bhl"))
        #expect(try Self.tree.inclusionProof(index: 3, size: 7) == nodes("cgl"))
        #expect(try Self.tree.inclusionProof(index: 4, size: 7) == nodes("fjk"))
        #expect(try Self.tree.inclusionProof(index: 6, size: 7) == nodes("ik"))
        #expect(try Self.tree.consistencyProof(oldSize: 3, newSize: 7) == nodes("cdgl"))
        #expect(try Self.tree.consistencyProof(oldSize: 4, newSize: 7) == nodes("l"))
        #expect(try Self.tree.consistencyProof(oldSize: 6, newSize: 7) == nodes("ijk"))
    }

    /// Property test (tlog.md §8 item 3): for every size up to 70 and every index and old size,
    /// generated proofs verify, and flipping any bit of any component makes them fail.
    @Test func generatedProofsVerifyAndEveryBitFlipFails() throws {
        var tree = MerkleTree()
        var leaves: [Data] = []
        for size in 1...70 {
            let leaf = Data("entry \(size - 1)".utf8)
            leaves.append(leaf)
            tree.append(leafHash: MerkleHash.leaf(leaf))
            let root = MerkleHash.root(ofLeaves: leaves)
            #expect(try tree.root() == root)
            for index in 0..<UInt64(size) {
                let proof = try tree.inclusionProof(index: index)
                try ProofVerification.verifyInclusion(index: index, size: UInt64(size), leafHash: MerkleHash.leaf(leaves[Int(index)]), proof: proof, root: root)
                if size % 17 == 0 {
                    for component in proof.indices {
                        var bad = proof
                        bad[component][bad[component].startIndex + Int(index) % 32] ^= 1
                        #expect(throws: ProofVerification.Failure.rootMismatch) {
                            try ProofVerification.verifyInclusion(
                                index: index, size: UInt64(size), leafHash: MerkleHash.leaf(leaves[Int(index)]), proof: bad, root: root)
                        }
                    }
                }
            }
            for old in 1..<UInt64(size) {
                let proof = try tree.consistencyProof(oldSize: old, newSize: UInt64(size))
                let oldRoot = MerkleHash.root(ofLeaves: Array(leaves.prefix(Int(old))))
                try ProofVerification.verifyConsistency(oldSize: old, newSize: UInt64(size), oldRoot: oldRoot, newRoot: root, proof: proof)
                #expect(throws: ProofVerification.Failure.self) {
                    try ProofVerification.verifyConsistency(oldSize: old, newSize: UInt64(size), oldRoot: root, newRoot: oldRoot, proof: proof)
                }
            }
        }
    }

    @Test func completedNodesAreTheOnesAnAppendFinishes() {
        #expect(TreeShape.completedNodes(byAppending: 0) == [NodeID(height: 0, index: 0)])
        #expect(TreeShape.completedNodes(byAppending: 3) == [NodeID(height: 0, index: 3), NodeID(height: 1, index: 1), NodeID(height: 2, index: 0)])
        #expect(TreeShape.completedNodes(byAppending: 4) == [NodeID(height: 0, index: 4)])
    }
}
