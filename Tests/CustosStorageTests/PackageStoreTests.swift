import CustosDomain
import CustosStorage
import Foundation
import Testing

/// Issue 5 on both databases: start_collection queues the build with its job in the case's own
/// transaction; one builder claims it; the result is recorded; retention finds it only once the
/// case is past release and leaves a tombstone once.
extension StorageContractTests {
    @Test(arguments: locations)
    func aPackageIsQueuedClaimedBuiltAndDeletedWithATombstone(location: DatabaseLocation) async throws {
        try await Self.withWorld(location) { world in
            let packages = PackageStore(store: world.database)
            let jobs = SQLJobQueue(store: world.database)
            var draft = try JSONDecoder().decode(DemandDraft.self, from: Data("""
                {"instrument": "us.subpoena", "jurisdiction": "US", "issuingAuthority": {"name": "GJ", "role": "prosecutor"},
                 "caseReference": "PK-1", "receivedAt": "2026-05-04T08:00:00Z", "targets": [{"type": "email", "value": "alice@example.com"}],
                 "categories": ["subscriber_info"]}
                """.utf8))
            draft.documents = nil
            let subject = try await Self.caseInReview(draft, world)
            let approvers = (1...2).map { Principal(id: UUID(), email: "ap\($0)@p.example", displayName: "AP\($0)", kind: .staff, roles: [.approver]) }
            let custodian = Principal(id: UUID(), email: "cu@p.example", displayName: "CU", kind: .staff, roles: [.custodian])
            var time = Self.t0.addingTimeInterval(120)
            for approver in approvers {
                _ = try await world.cases.apply(.approveScope(categories: [.subscriberInfo], excuse: nil), toCase: subject.id, at: time, by: approver.actor)
            }
            _ = try await world.cases.apply(.startCollection, toCase: subject.id, at: time, by: custodian.actor)
            let queued = try #require(try await packages.record(caseID: subject.id, purpose: .production))
            #expect(queued.status == .queued && queued.requestedBy == custodian.actor.auditName)
            let leased = try await jobs.lease(kinds: [PackageStore.buildJob], limit: 5, owner: "runner", at: time, leaseFor: 600)
            #expect(leased.map(\.payload) == ["\(subject.id.uuidString.lowercased()):production"])

            #expect(try await packages.claim(caseID: subject.id, purpose: .production, requestedBy: "runner", expected: 10, at: time))
            #expect(try await !packages.claim(caseID: subject.id, purpose: .production, requestedBy: "cli", expected: 10, at: time.addingTimeInterval(5)))
            try await packages.progress(caseID: subject.id, purpose: .production, read: 4, at: time.addingTimeInterval(1))
            #expect(try await packages.record(caseID: subject.id, purpose: .production)?.percent == 40)
            try await packages.built(caseID: subject.id, purpose: .production, read: 10, files: 7, bytes: 4096, manifestSHA256: "ab", merkleRoot: "cd", at: time)
            let built = try #require(try await packages.record(caseID: subject.id, purpose: .production))
            #expect(built.status == .built && built.files == 7 && built.bytes == 4096 && built.builtAt == time)

            // waiting for release: never deleted, however old
            let retention: TimeInterval = 90 * 86_400
            #expect(try await packages.dueForDeletion(productionRetention: retention, at: time.addingTimeInterval(365 * 86_400)).isEmpty)
            _ = try await world.cases.apply(.collectionFinished(recordCount: 7), toCase: subject.id, at: time, by: .system)
            #expect(try await packages.dueForDeletion(productionRetention: retention, at: time.addingTimeInterval(365 * 86_400)).isEmpty)
            _ = try await world.cases.apply(.withdraw(reason: "no longer needed"), toCase: subject.id, at: time, by: world.officer.actor)
            #expect(try await packages.dueForDeletion(productionRetention: retention, at: time.addingTimeInterval(retention - 1)).isEmpty)
            time = time.addingTimeInterval(retention)
            #expect(try await packages.dueForDeletion(productionRetention: retention, at: time).map(\.caseID) == [subject.id])

            try await packages.markDeleted(caseID: subject.id, purpose: .production, reason: "retention", by: "system", at: time)
            try await packages.markDeleted(caseID: subject.id, purpose: .production, reason: "retention", by: "system", at: time)
            #expect(try await packages.record(caseID: subject.id, purpose: .production)?.status == .deleted)
            let tombstones = try await world.cases.timeline(caseID: subject.id).filter { $0.record.action == "package.deleted" }
            #expect(tombstones.count == 1)
            #expect(tombstones.first?.record.details["manifestSHA256"] == "ab" && tombstones.first?.record.details["merkleRoot"] == "cd")
            #expect(try await packages.dueForDeletion(productionRetention: retention, at: time.addingTimeInterval(86_400)).isEmpty)
            // the audit chain still verifies with the tombstone in it
            try AuditChain.verify(try await world.cases.auditTrail())
        }
    }
}
