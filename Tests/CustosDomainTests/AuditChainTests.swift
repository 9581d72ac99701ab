import CustosDomain
import Foundation
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

@Suite struct AuditChainFastPathTests {
    /// The append path assembles the hashed bytes around the record's JSON; they must be exactly the
    /// bytes the Encodable form gives, or stored chains would stop verifying.
    @Test func assembledCanonicalBytesEqualTheEncodedOnes() throws {
        let record = AuditRecord(
            caseID: UUID(), subject: "case:x", action: "case.opened", outcome: .accepted, actor: "staff:ä@example.com/\"q\"",
            at: Date(timeIntervalSince1970: 1_790_000_000.123), details: ["b": "2", "a": "1 / 2"])
        let json = try AuditChain.recordBytes(record)
        #expect(AuditChain.canonicalBytes(sequence: 42, previousHash: AuditChain.genesisHash, recordJSON: json)
            == (try AuditChain.canonicalBytes(sequence: 42, previousHash: AuditChain.genesisHash, record: record)))
        let chained = AuditChain.append(recordJSON: json, after: (41, String(repeating: "a", count: 64)))
        let encoded = try AuditChain.append(record, after: (41, String(repeating: "a", count: 64)))
        #expect(chained.hash == encoded.hash && chained.sequence == 42)
    }
}
