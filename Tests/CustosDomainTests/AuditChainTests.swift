import CustosDomain
import Foundation
import MerkleLog
import Testing

@Suite struct AuditChainTests {
    func chain(_ count: Int) throws -> [AuditEntry] {
        var entries: [AuditEntry] = []
        for index in 0..<count {
            let record = AuditRecord(caseID: nil, subject: "case:x", action: "case.event\(index)", actor: "staff:a", at: Fixture.t0.addingTimeInterval(Double(index)))
            entries.append(try AuditChain.append(record, after: entries.last.map { ($0.sequence, $0.hash) }))
        }
        return entries
    }

    @Test func intactChainVerifies() throws {
        let entries = try chain(5)
        #expect(entries.first?.previousHash == AuditChain.genesisHash)
        #expect(throws: Never.self) { try AuditChain.verify(entries) }
    }

    @Test func alteredRecordIsDetected() throws {
        var entries = try chain(5)
        entries[2].record.actor = "staff:mallory"
        #expect(throws: AuditChain.VerificationFailure.alteredEntry(sequence: 3)) { try AuditChain.verify(entries) }
    }

    @Test func removedEntryIsDetected() throws {
        var entries = try chain(5)
        entries.remove(at: 1)
        #expect(throws: AuditChain.VerificationFailure.gap(expected: 2, found: 3)) { try AuditChain.verify(entries) }
    }

    @Test func canonicalBytesSurviveAJSONRoundTrip() throws {
        let record = AuditRecord(caseID: UUID(), subject: "s", action: "a", actor: "x", at: Timestamp.truncatedToMilliseconds(Date(timeIntervalSince1970: 1_780_000_000.123_456)), details: ["b": "2", "a": "1"])
        let text = try CustosJSON.string(record)
        let decoded = try CustosJSON.decode(AuditRecord.self, from: text)
        #expect(try AuditChain.recordBytes(decoded) == AuditChain.recordBytes(record))
    }
}

/// Stored chains and audit leaves hash `AuditRecord.canonicalJSON()`, written by hand for speed; these
/// tests pin it byte for byte to Foundation's `JSONEncoder` in the `CustosJSON` dialect, which
/// defined the bytes of every entry written before the hand-written encoder existed.
@Suite struct AuditRecordCanonicalJSONTests {
    func reference(_ record: AuditRecord) throws -> [UInt8] {
        Array(try CustosJSON.makeEncoder().encode(record))
    }

    @Test func everyASCIICharacterAndSomeUnicodeEscapeAsJSONEncoderDoes() throws {
        let ascii = String(decoding: (0..<0x80).map { UInt8($0) }, as: UTF8.self)
        let tricky = ascii + "\u{2028}\u{2029}\u{FEFF}é😀\u{85}e\u{301}/\\\""
        let record = AuditRecord(
            caseID: UUID(), subject: tricky, action: tricky, outcome: .refused, actor: tricky,
            at: Date(timeIntervalSince1970: 1_790_000_000.123), details: [tricky: tricky, "": "", "plain": ""])
        #expect(record.canonicalJSON() == (try reference(record)))
    }

    /// `JSONEncoder` orders keys by their UTF-8 bytes, not by Swift's `<` (which compares normalised
    /// scalars): "e\u{302}" (65 CC 82) comes before "\u{E9}" (C3 A9) although "é" < "ê".
    @Test func detailKeysAreOrderedByTheirUTF8Bytes() throws {
        let record = AuditRecord(
            caseID: nil, subject: "s", action: "a", actor: "x", at: Date(timeIntervalSince1970: 0),
            details: ["\u{E9}": "1", "e\u{302}": "2", "a10": "", "a9": "", "B": "", "_": "", "ｚ": "", "😀": ""])
        let json = record.canonicalJSON()
        #expect(json == (try reference(record)))
        let text = String(decoding: json, as: UTF8.self)
        #expect(text.contains("{\"B\":\"\",\"_\":\"\",\"a10\":\"\",\"a9\":\"\",\"e\u{302}\":\"2\",\"\u{E9}\":\"1\",\"ｚ\":\"\",\"😀\":\"\"}"))
    }

    @Test func absentCaseAndEmptyDetailsAndEveryOutcome() throws {
        for outcome in [AuditRecord.Outcome.accepted, .refused, .read] {
            for caseID in [nil, UUID()] {
                let record = AuditRecord(caseID: caseID, subject: "case:1", action: "case.opened", outcome: outcome, actor: "system", at: Date(timeIntervalSince1970: -86_400.5))
                #expect(record.canonicalJSON() == (try reference(record)))
            }
        }
    }

    /// Two thousand records with random strings drawn from characters that JSON treats specially.
    @Test func randomRecordsMatchJSONEncoder() throws {
        var random = SplitMix64(seed: 0xC057_05)
        let alphabet: [Character] = Array("aZ09 _-./:@\"\\\u{0}\u{1}\u{8}\t\n\u{b}\u{c}\r\u{1f}\u{7f}é€😀\u{301}\u{2028}ｚ")
        func text() -> String {
            String((0..<Int(random.next() % 12)).map { _ in alphabet[Int(random.next() % UInt64(alphabet.count))] })
        }
        for _ in 0..<2000 {
            var details: [String: String] = [:]
            for _ in 0..<Int(random.next() % 5) { details[text()] = text() }
            let millis = Int64(bitPattern: random.next() % 8_000_000_000_000) - 1_000_000_000_000
            let record = AuditRecord(
                caseID: random.next() % 2 == 0 ? nil : UUID(), subject: text(), action: text(),
                outcome: [.accepted, .refused, .read][Int(random.next() % 3)], actor: text(),
                at: Date(timeIntervalSince1970: Double(millis) / 1000), details: details)
            let expected = try reference(record)
            #expect(record.canonicalJSON() == expected, "\(String(decoding: expected, as: UTF8.self))")
        }
    }
}

/// A small seeded generator, so a failing random case reproduces.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite struct AuditChainFastPathTests {
    /// The hashed bytes of an entry must be exactly what `JSONEncoder` gave for the entry's
    /// canonical struct (sequence, previous hash, record), or stored chains would stop verifying.
    @Test func assembledCanonicalBytesEqualTheEncodedOnes() throws {
        struct Canonical: Encodable {
            let sequence: Int
            let previousHash: String
            let record: AuditRecord
        }
        let record = AuditRecord(
            caseID: UUID(), subject: "case:x", action: "case.opened", outcome: .accepted, actor: "staff:ä@example.com/\"q\"",
            at: Date(timeIntervalSince1970: 1_790_000_000.123), details: ["b": "2", "a": "1 / 2"])
        let previous = String(repeating: "a", count: 64)
        let reference = try CustosJSON.makeEncoder().encode(Canonical(sequence: 42, previousHash: previous, record: record))
        #expect(try AuditChain.canonicalBytes(sequence: 42, previousHash: previous, record: record) == reference)
        let chained = AuditChain.append(recordJSON: try AuditChain.recordBytes(record), after: (41, previous))
        #expect(chained.hash == AuditChain.hash(of: reference) && chained.sequence == 42)
        #expect(try AuditChain.append(record, after: (41, previous)).hash == chained.hash)
    }
}

@Suite struct AuditLeafHashTests {
    /// The append path hashes a leaf piece by piece; it must be the RFC 6962 leaf hash of exactly
    /// the bytes verification rebuilds, or every appended leaf would fail `custos log verify`.
    @Test func pieceByPieceHashEqualsTheHashOfTheAssembledLeaf() throws {
        var random = SplitMix64(seed: 6962)
        // Every length up to 20 meets each of the base64 loops (six bytes, three, the padded end).
        for size in Array(0...20) + [55, 56, 63, 64, 65, 400, 1000] {
            let json = Data((0..<size).map { _ in UInt8(truncatingIfNeeded: random.next()) })
            let nonce = Data((0..<32).map { _ in UInt8(truncatingIfNeeded: random.next()) }).base64EncodedString()
            #expect(AuditLeaf.leafHash(nonceBase64: nonce, recordJSON: json) == MerkleHash.leaf(AuditLeaf.bytes(nonceBase64: nonce, recordJSON: json)))
        }
    }

    /// The hand-written base64 looks up 12 bits at a time; input whose triples carry every
    /// 12-bit value in both halves pins every table entry to Foundation's encoding.
    @Test func everyTwelveBitValueEncodesAsFoundationDoes() {
        var json = Data()
        for value in 0..<4096 {
            let other = 4095 - value
            json.append(contentsOf: [UInt8(value >> 4), UInt8((value & 0xF) << 4 | other >> 8), UInt8(other & 0xFF)])
        }
        let nonce = "bm9uY2U="
        #expect(AuditLeaf.leafHash(nonceBase64: nonce, recordJSON: json) == MerkleHash.leaf(AuditLeaf.bytes(nonceBase64: nonce, recordJSON: json)))
    }
}
