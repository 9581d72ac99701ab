import Crypto
import CustosDomain
import CustosStorage
import Foundation

extension CustosServices {
    /// Where finished packages are kept: `<data dir>/packages`, or a temporary folder for an
    /// in-memory database (tests).
    public var packagesFolder: URL {
        if configuration.inMemoryDatabase {
            return FileManager.default.temporaryDirectory.appendingPathComponent("custos-packages-\(ProcessInfo.processInfo.processIdentifier)")
        }
        return URL(fileURLWithPath: configuration.dataDirectory).appendingPathComponent("packages")
    }

    public func packageURL(caseID: UUID) -> URL {
        packagesFolder.appendingPathComponent("\(caseID.uuidString.lowercased()).zip")
    }

    /// Builds the production package of a case in `collecting` (C2, C3, C6, C9): derives the
    /// collection plan (asked ∩ allowed ∩ approved, for the accounts the order names), streams the
    /// records from the data source through the scope check, writes and signs the ZIP, records
    /// what was built and what was cut, and moves the case to `ready_for_release`.
    /// - Parameter progress: records read so far, for the case page and the CLI's progress bar.
    @discardableResult
    public func buildPackage(
        caseID: UUID, by actor: Actor, expected: @Sendable (Int?) -> Void = { _ in }, progress: @Sendable (Int) -> Void = { _ in }
    ) async throws -> PackageBuilder.Result {
        guard let subject = try await cases.findCase(id: caseID) else { throw Problem.notFound("case \(caseID)") }
        guard subject.state == .collecting else {
            throw Problem(.conflict, title: "Not collecting", detail: "case \(subject.number) is \(subject.state.rawValue); a package is built after start_collection")
        }
        guard let demand = try await cases.findDemand(id: subject.demandID) else { throw Problem.notFound("demand of case \(caseID)") }
        let plan: CollectionPlan
        do {
            plan = try CollectionPlan.derive(for: subject, demand: demand, accounts: try await directory.accountIDs(for: demand.targets))
        } catch {
            throw Problem(.conflict, title: "Nothing to collect", detail: "case \(subject.number): \(error)")
        }
        var basis: [String] = []
        for citation in plan.categories.flatMap({ subject.assessment?.categories[$0]?.citations ?? [] }) where !basis.contains(citation) {
            basis.append(citation)
        }
        let facts = PackageBuilder.CaseFacts(
            instrument: demand.instrument.rawValue, jurisdiction: [demand.jurisdiction.country, demand.jurisdiction.subdivision].compactMap { $0 }.joined(separator: "/"),
            issuingAuthority: demand.issuingAuthority.name, requesterReference: demand.caseReference,
            legalBasis: basis, rulebookVersion: subject.assessment?.rulebookVersion ?? "")
        expected(try? await dataSource.expectedCount(for: plan))
        try FileManager.default.createDirectory(at: packagesFolder, withIntermediateDirectories: true)
        let result = try await PackageBuilder(key: signingKey, renderer: renderer).build(
            plan: plan, facts: facts, source: dataSource, at: now(), destination: packageURL(caseID: caseID), progress: progress)

        let manifest = result.manifest
        var details: [String: String] = [
            "merkleRoot": manifest.merkleRoot, "files": String(manifest.files.count), "packageBytes": String(result.packageBytes),
            "manifestSHA256": PackageBuilder.hex(SHA256.hash(data: result.manifestBytes)), "signingKey": manifest.signingKeyID,
            "source": manifest.source, "categories": plan.categories.map(\.rawValue).joined(separator: ","),
            "accounts": plan.accounts.joined(separator: ","),
        ]
        for (reason, count) in manifest.cut { details["cut." + reason] = String(count) }
        try await cases.record(AuditRecord(
            caseID: caseID, subject: "case:\(caseID.uuidString.lowercased())", action: "production.built", actor: actor.auditName, at: now(),
            details: details))
        if !result.cutNotes.isEmpty {
            // C2/C9: what the source returned outside the plan is on record (reason, account,
            // category, the source's id), never its content.
            try await cases.record(AuditRecord(
                caseID: caseID, subject: "case:\(caseID.uuidString.lowercased())", action: "production.cut", actor: actor.auditName, at: now(),
                details: [
                    "total": String(manifest.cutTotal),
                    "examples": result.cutNotes.map { "\($0.reason.rawValue) \($0.account) \($0.category.rawValue) \($0.sourceID ?? "")" }
                        .joined(separator: "; "),
                ]))
        }
        do {
            _ = try await cases.apply(.collectionFinished(recordCount: manifest.files.count), toCase: caseID, at: now(), by: actor)
        } catch let refusal as WorkflowRefusal {
            throw refusal.problem
        }
        return result
    }
}
