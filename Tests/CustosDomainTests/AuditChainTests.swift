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
