import Crypto
import Foundation
import MerkleLog
import Testing

/// Signed notes, checkpoints, cosignatures, tlog-proof, tlog-witness bodies and tlog-policy, with
/// the vectors of tlog.md §2 (C2SP, golang.org/x/mod, transparency-dev/formats) and §7.
@Suite struct NoteTests {
    static let seed = Data((0..<32).map { UInt8($0) })
    static let witnessSeed = Data((32..<64).map { UInt8($0) })
    static let origin = "transparency.example.com/legal-process-log"
    static var logSigner: Ed25519NoteSigner { Ed25519NoteSigner(name: origin, privateKey: try! .init(rawRepresentation: seed)) }
    static var witnessSigner: CosignatureV1Signer {
        CosignatureV1Signer(name: "witness.example.org/w1", privateKey: try! .init(rawRepresentation: witnessSeed))
    }

    @Test func theC2SPExampleNoteVerifies() throws {
        let note = try SignedNote(parsing: "This is an example message.\n\n\u{2014} example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n")
        let verifier = try NoteKey.verifier("example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k")
        #expect(try note.verify(with: [verifier]).count == 1)
    }

    static let peterText = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
    static let peterLine = "\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"

    @Test func golangNoteVectorsSignByteForByteAndVerify() throws {
        let signer = try Ed25519NoteSigner(privateKeyString: "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz")
        #expect(signer.verifierKey == "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")
        // Ed25519 is deterministic on Linux (BoringSSL); on Apple platforms only verification would match.
        #if os(Linux)
            #expect(try signer.sign(Self.peterText).serialized == Self.peterText + "\n" + Self.peterLine)
        #endif
        let note = try SignedNote(parsing: Self.peterText + "\n" + Self.peterLine
            + "\u{2014} EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n")
        let peter = try NoteKey.verifier("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")
        let enoch = try NoteKey.verifier("EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop")
        #expect(try note.verify(with: [peter, enoch]).count == 2)
        // Unknown keys are ignored; a known key with a broken signature rejects the whole note.
        #expect(try note.verify(with: [enoch]).count == 1)
        var broken = note
        broken.signatures[1].payload[broken.signatures[1].payload.startIndex] ^= 1
        #expect(throws: SignedNote.VerificationError.invalidSignature(name: "EnochRoot")) { try broken.verify(with: [peter, enoch]) }
        #expect(throws: SignedNote.VerificationError.noKnownSignature) {
            try note.verify(with: [try NoteKey.verifier("monkeys+db4d9f7e+AULaJMvTtDLHPUcUrjdDad9vDlh/PTfC2VV60JUtCfWT")])
        }
    }

    @Test func theSumGolangOrgCheckpointVerifiesAndParses() throws {
        let text = "go.sum database tree\n6476701\nmb8QLQIs0Z0yP5Cstq6guj87oXWeC9gEM8oVikmm9Wk=\n\n\u{2014} sum.golang.org Az3grsLX85Gz+s1SiTbgkuqxgItqFq7gsMUEyVnrsa9LM7Us9S+1xbFIGu95949rj4nPRYfvimWEPWL+o3GeoWwOoAw=\n"
        let note = try SignedNote(parsing: text)
        // The key material contains '+': the vkey splits at the first two only.
        let verifier = try NoteKey.verifier("sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8")
        try note.verify(with: [verifier])
        let checkpoint = try Checkpoint(text: note.text)
        #expect(checkpoint.origin == "go.sum database tree")
        #expect(checkpoint.size == 6_476_701)
        #expect(note.serialized == text)
    }

    @Test func badVerifierKeysAreRefused() throws {
        let good = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
        _ = try NoteKey.parseVerifierKey(good)
        // Every proper prefix and every single-byte increment (golang.org/x/mod note_test.go).
        let bytes = Array(good.utf8)
        for length in 0..<bytes.count {
            #expect(throws: NoteKey.ParseError.self) { try NoteKey.parseVerifierKey(String(decoding: bytes.prefix(length), as: UTF8.self)) }
        }
        for position in bytes.indices {
            var changed = bytes
            changed[position] &+= 1
            let text = String(decoding: changed, as: UTF8.self)
            #expect(throws: NoteKey.ParseError.self, "\(text)") { try NoteKey.parseVerifierKey(text) }
        }
        #expect(throws: NoteKey.ParseError.self) { try NoteKey.parseVerifierKey("PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==") }
        #expect(throws: NoteKey.ParseError.self) { try NoteKey.parseVerifierKey("PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW") }
        _ = try NoteKey.parseVerifierKey("remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2")
    }

    @Test func malformedNotesAreRefused() {
        for text in [
            "no blank line\n\u{2014} a AAAAAAAA\n", "text\n\n", "text\n\n- a AAAAAAAAAA==\n", "text\n\n\u{2014} a b c\n",
            "tab\there\n\n\u{2014} a AAAAAAAAAA==\n", "text\n\n\u{2014} a AAAAAAAAAA==",
        ] {
            #expect(throws: SignedNote.ParseError.self, "\(text)") { try SignedNote(parsing: text) }
        }
    }

    @Test func theCosignatureTimeVector() throws {
        let payload = Data(base64Encoded: "ZGhGuQAAAABm/qTPeyKXD+R2rzyQsxPiP8mXum7qq/iF0u4vanlqJyocWODBt97w9uL+8qT7S5gxEHWWOworDcFiEBYJXORmnFBOBA==")!
        #expect(CosignatureV1Verifier.time(of: payload.dropFirst(4)) == 1_727_964_367)
    }

    static let checkpoint6 = """
        transparency.example.com/legal-process-log
        6
        duZ9rbzfHhDht03cYIq9L5jfsW+851J3tSMqEn8gh+8=

        \u{2014} transparency.example.com/legal-process-log hiBpkFFBKMWn/zAud1Hqfth7ftaDDWFz37BO24OvPo/X9DWkw19A5P583v+m+gpZ2SojdlsVRY+ESAzHAXRWExqy6Q4=

        """
    static let checkpoint8 = """
        transparency.example.com/legal-process-log
        8
        XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=

        \u{2014} transparency.example.com/legal-process-log hiBpkM05Ch8zLsvvSSqLmC6cwGtoU8k+wDuEpQH0u1qPmx98KHoEAdGVMxOCSHQOWwVNKPY72XuKbdpepRovDcFdmg4=
        \u{2014} witness.example.org/w1 88CAtgAAAABpVbkAZrdA8EF+x3XKgKtrU7to1WWZzzxo82UO+ZV+vJ6MjVTP11SAqQUaOhYfYb/O2V8Qu5oyupPOt5WKwza+3s0GBQ==

        """

    @Test func ourCheckpointsAndCosignaturesMatchTheSelfGeneratedVectors() throws {
        #expect(Self.logSigner.verifierKey == "transparency.example.com/legal-process-log+86206990+AQOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4")
        #expect(Self.witnessSigner.verifierKey == "witness.example.org/w1+f3c080b6+BCmsuuFBvMrwsi4alNNNC8c2HlJtC/4SyJeUvJMilm3X")
        let tree = ProofTests.tree
        let text6 = Checkpoint(origin: Self.origin, size: 6, root: try tree.root(size: 6)).text
        let text8 = Checkpoint(origin: Self.origin, size: 8, root: try tree.root(size: 8)).text
        #if os(Linux)
            #expect(try Self.logSigner.sign(text6).serialized == Self.checkpoint6)
            var signed8 = try Self.logSigner.sign(text8)
            signed8.signatures.append(try Self.witnessSigner.cosign(text: text8, time: 1_767_225_600))
            #expect(signed8.serialized == Self.checkpoint8)
        #endif
        #expect(String(decoding: CosignatureV1Verifier.message(text: text8, time: 1_767_225_600), as: UTF8.self)
            == "cosignature/v1\ntime 1767225600\ntransparency.example.com/legal-process-log\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n")
        let parsed = try SignedCheckpoint(parsing: Self.checkpoint8)
        var policy = try WitnessPolicy(parsing: "witness w1 \(Self.witnessSigner.verifierKey)\nquorum w1\n")
        #expect(try parsed.verify(log: Self.logSigner.verifier, policy: policy) == ["w1"])
        #expect(CosignatureV1Verifier.time(of: parsed.note.signatures[1].payload) == 1_767_225_600)
        // Without the cosignature the quorum is not met.
        let unwitnessed = try SignedCheckpoint(parsing: Self.checkpoint6)
        #expect(throws: SignedCheckpoint.Failure.self) { try unwitnessed.verify(log: Self.logSigner.verifier, policy: policy) }
        policy.quorum = nil
        try unwitnessed.verify(log: Self.logSigner.verifier, policy: policy)
    }

    @Test func theTlogProofVectorVerifiesAndRoundTrips() throws {
        let text = """
            c2sp.org/tlog-proof@v1
            index 5
            vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms=
            yoVOoSjtBQtBs1/8G4e46yveRh6eO1WW7Oa51ZdaCuA=
            037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc=


            """ + Self.checkpoint8.dropLast(0)
        let fixed = text.replacingOccurrences(of: "=\n\n\ntransparency", with: "=\n\ntransparency")
        let proof = try TlogProof(parsing: fixed)
        #expect(proof.serialized == fixed)
        let policy = try WitnessPolicy(parsing: "witness w1 \(Self.witnessSigner.verifierKey)\nquorum w1\n")
        let leaf = MerkleHash.leaf(Data([0x40, 0x41, 0x42, 0x43]))
        #expect(try proof.verify(leafHash: leaf, log: Self.logSigner.verifier, policy: policy).size == 8)
        #expect(throws: TlogProof.Failure.self) { try proof.verify(leafHash: MerkleHash.leaf(Data([0x40])), log: Self.logSigner.verifier, policy: policy) }
        var wrongIndex = proof
        wrongIndex.index = 4
        #expect(throws: TlogProof.Failure.self) { try wrongIndex.verify(leafHash: leaf, log: Self.logSigner.verifier, policy: policy) }
    }

    @Test func theAddCheckpointBodyVectorRoundTrips() throws {
        let body = """
            old 6
            DrxdNDf74tsVi58Sah0RjjCBgQMdCpSfje3t68VY72o=
            yoVOoSjtBQtBs1/8G4e46yveRh6eO1WW7Oa51ZdaCuA=
            037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc=

            transparency.example.com/legal-process-log
            8
            XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=

            \u{2014} transparency.example.com/legal-process-log hiBpkM05Ch8zLsvvSSqLmC6cwGtoU8k+wDuEpQH0u1qPmx98KHoEAdGVMxOCSHQOWwVNKPY72XuKbdpepRovDcFdmg4=

            """
        let request = try AddCheckpointRequest(parsing: body)
        #expect(request.oldSize == 6 && request.proof.count == 3)
        #expect(request.body == body)
        let logs = [Self.origin: Self.logSigner.verifier]
        let six = WitnessedHead(size: 6, root: try ProofTests.tree.root(size: 6))
        #expect(try WitnessDecision.evaluate(request, logs: logs, latest: six).newHead.size == 8)
        // The table of c2sp.org/tlog-witness.
        #expect(throws: WitnessRefusal.unknownLog) { try WitnessDecision.evaluate(request, logs: [:], latest: six) }
        #expect(throws: WitnessRefusal.staleOldSize(latest: 7)) {
            try WitnessDecision.evaluate(request, logs: logs, latest: WitnessedHead(size: 7, root: try ProofTests.tree.root(size: 7)))
        }
        var badProof = request
        badProof.proof[0][badProof.proof[0].startIndex] ^= 1
        #expect(throws: WitnessRefusal.self) { try WitnessDecision.evaluate(badProof, logs: logs, latest: six) }
        #expect((try? WitnessDecision.evaluate(badProof, logs: logs, latest: six)) == nil)
        let other = Ed25519NoteSigner(name: Self.origin, privateKey: Curve25519.Signing.PrivateKey())
        #expect(throws: WitnessRefusal.self) { try WitnessDecision.evaluate(request, logs: [Self.origin: other.verifier], latest: six) }
        var fromZero = request
        fromZero.oldSize = 0
        #expect(throws: WitnessRefusal.self) { try WitnessDecision.evaluate(fromZero, logs: logs, latest: nil) }
        fromZero.proof = []
        #expect(try WitnessDecision.evaluate(fromZero, logs: logs, latest: nil).newHead.size == 8)
    }

    @Test func policyFilesParseAndQuorumsCount() throws {
        let w = (1...3).map { CosignatureV1Signer(name: "w\($0).example", privateKey: Curve25519.Signing.PrivateKey()).verifierKey }
        let policy = try WitnessPolicy(parsing: """
            # c2sp tlog-policy
            log \(Self.logSigner.verifierKey) https://example.com/log/
            witness X1 \(w[0])
            witness X2 \(w[1])
            witness X3 \(w[2])
            group two 2 X1 X2 X3
            group any1 any X3
            group both all two any1
            quorum both
            """)
        #expect(policy.isSatisfied(by: ["X1", "X3"]))
        #expect(!policy.isSatisfied(by: ["X1", "X2"]))
        #expect(!policy.isSatisfied(by: ["X3"]))
        #expect(throws: WitnessPolicy.ParseError.self) { try WitnessPolicy(parsing: "group g 1 X1\nquorum g\n") }
        #expect(throws: WitnessPolicy.ParseError.self) { try WitnessPolicy(parsing: "witness X1 \(Self.logSigner.verifierKey)\nquorum X1\n") }
        #expect(throws: WitnessPolicy.ParseError.self) { try WitnessPolicy(parsing: "witness X1 \(w[0])\n") }
    }

    @Test func tilePathsFollowTheSpec() throws {
        #expect(Tiles.encode(index: 1_234_067) == "x001/x234/067")
        #expect(Tiles.encode(index: 1000) == "x001/000")
        #expect(Tiles.encode(index: 5) == "005")
        #expect(Tiles.parse("0/x001/x234/067") == Tiles.Request(level: 0, index: 1_234_067, partialWidth: nil))
        #expect(Tiles.parse("1/001.p/17") == Tiles.Request(level: 1, index: 1, partialWidth: 17))
        #expect(Tiles.parse("entries/000.p/3") == Tiles.Request(level: nil, index: 0, partialWidth: 3))
        for bad in ["0/1234", "0/x001", "0/001/234", "64/000", "0/000.p/0", "0/000.p/256", "0/x000/001", "x/000"] {
            #expect(Tiles.parse(bad) == nil, "\(bad)")
        }
        // The size-70000 example: 273 full level-0 tiles and a partial of 112; level 1: one full
        // and a partial of 17; level 2: a partial of 1.
        #expect(Tiles.availableWidth(level: 0, index: 272, size: 70_000) == 256)
        #expect(Tiles.availableWidth(level: 0, index: 273, size: 70_000) == 112)
        #expect(Tiles.availableWidth(level: 0, index: 274, size: 70_000) == nil)
        #expect(Tiles.availableWidth(level: 1, index: 0, size: 70_000) == 256)
        #expect(Tiles.availableWidth(level: 1, index: 1, size: 70_000) == 17)
        #expect(Tiles.availableWidth(level: 2, index: 0, size: 70_000) == 1)
        #expect(Tiles.availableWidth(level: 3, index: 0, size: 70_000) == nil)
        // The largest index a path can spell (found by the hostile-request corpus: it trapped the server)
        let largest = try #require(Tiles.parse("0/x999/x999/x999/x999/x999/999")).index
        #expect(largest == 999_999_999_999_999_999)
        #expect(Tiles.availableWidth(level: 0, index: largest, size: .max) == nil)
        #expect(Tiles.availableWidth(level: 0, index: .max, size: .max) == nil)
        let entries = [Data("a".utf8), Data(), Data(repeating: 7, count: 300)]
        #expect(Tiles.unbundle(Tiles.bundle(entries)) == entries)
        #expect(Tiles.unbundle(Data([0, 5, 1])) == nil)
    }
}
