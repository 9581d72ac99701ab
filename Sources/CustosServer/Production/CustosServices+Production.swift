import Crypto
import CustosDomain
import CustosStorage
import Foundation
import Synchronization

extension CustosServices {
    /// The blob key of a case's package: `packages/<case id>.zip.sealed` (a production) or
    /// `preservations/<case id>.zip.sealed` (a snapshot), the ZIP sealed under the storage key
    /// (issue 10), in the installation's blob store (issue 28: the data folder, the database or S3).
    public static func packageKey(caseID: UUID, purpose: PackagePurpose = .production) -> String {
        "\(purpose == .production ? "packages" : "preservations")/\(caseID.uuidString.lowercased()).zip.sealed"
    }

    /// The stored key of a case's package: the sealed one, or a plain `<case id>.zip` a version
    /// before sealing left in a data folder (used while no sealed one exists; `keys rotate` seals it).
    func storedPackageKey(caseID: UUID, purpose: PackagePurpose) async throws -> String? {
        let sealed = Self.packageKey(caseID: caseID, purpose: purpose)
        if try await blobs.exists(sealed) { return sealed }
        let plain = String(sealed.dropLast(7))
        if !blobs.isShared, try await blobs.exists(plain) { return plain }
        return nil
    }

    /// Where a case's package lies when blobs are kept in a data folder (the embedded default).
    /// Tests and the folder's own tools use it; with a shared store there is no such file.
    public func packageURL(caseID: UUID, purpose: PackagePurpose = .production) -> URL {
        let folder = (blobs as? FolderBlobStore)?.root ?? URL(fileURLWithPath: configuration.dataDirectory)
        let sealed = folder.appendingPathComponent(Self.packageKey(caseID: caseID, purpose: purpose))
        let plain = sealed.deletingPathExtension()
        if !FileManager.default.fileExists(atPath: sealed.path), FileManager.default.fileExists(atPath: plain.path) { return plain }
        return sealed
    }

    /// Whether a case's package is stored (any instance may have built it).
    public func storedPackageExists(caseID: UUID, purpose: PackagePurpose = .production) async -> Bool {
        (try? await storedPackageKey(caseID: caseID, purpose: purpose)) != nil
    }

    /// Opens a stored package for reading its plain ZIP in order, each piece authenticated; nil
    /// when none is stored.
    public func openPackage(caseID: UUID, purpose: PackagePurpose = .production) async throws -> SealedBlobReader? {
        guard let key = try await storedPackageKey(caseID: caseID, purpose: purpose), let blob = try await blobs.open(key) else { return nil }
        return try await SealedBlobReader.open(
            blob, name: key, sealer: database.sealer, context: key.hasSuffix(".sealed") ? PackageBuilder.sealContext(caseID: caseID, purpose: purpose) : nil)
    }

    /// Checks a stored package with this installation's signing key (and its storage keys),
    /// wherever it is stored.
    public func verifyStoredPackage(caseID: UUID, purpose: PackagePurpose = .production) async -> PackageVerifier.Report {
        let context = PackageBuilder.sealContext(caseID: caseID, purpose: purpose)
        if blobs is FolderBlobStore {
            return await PackageVerifier.verify(packageURL(caseID: caseID, purpose: purpose), publicKey: signingKey.publicKey, sealer: database.sealer, context: context)
        }
        do {
            guard let stored = try await openPackage(caseID: caseID, purpose: purpose) else {
                return PackageVerifier.Report(manifest: nil, problems: ["no \(purpose.rawValue) package of case \(caseID.uuidString.lowercased()) is stored in \(blobs.description)"])
            }
            return await PackageVerifier.verify(stored, publicKey: signingKey.publicKey)
        } catch {
            return PackageVerifier.Report(manifest: nil, problems: ["the stored package cannot be read: \(error)"])
        }
    }

    /// Reseals every stored package and preservation snapshot with the current storage key
    /// (`custos keys rotate`, issue 10), and seals plain ones left from before sealing existed.
    /// Each is written to a local file and put back whole (a rename in a folder, a replace in
    /// one transaction or PUT in a shared store), so a rotation that stops halfway leaves every
    /// package readable (the old keys stay until it finishes). In a data folder, the servers and
    /// the CLI take turns (a lock file in the folder).
    /// - Returns: how many packages were resealed.
    public func resealPackages() async throws -> Int {
        let folder = (blobs as? FolderBlobStore)?.root.path ?? configuration.dataDirectory
        let lock = blobs.isShared ? nil : try DataFolderLock(folder: folder, waitingFor: "packages.lock")
        defer { withExtendedLifetime(lock) {} }
        let sealer = database.sealer
        var resealed = 0
        for purpose in PackagePurpose.allCases {
            let folder = purpose == .production ? "packages/" : "preservations/"
            for key in try await blobs.keys(prefix: folder) {
                let name = String(key.dropFirst(folder.count))
                let stem = name.hasSuffix(".zip.sealed") ? String(name.dropLast(11)) : name.hasSuffix(".zip") ? String(name.dropLast(4)) : ""
                guard let caseID = UUID(uuidString: stem) else { continue }
                let target = Self.packageKey(caseID: caseID, purpose: purpose)
                if key != target, try await blobs.exists(target) {
                    // A plain copy a crash left beside its rebuilt, sealed package: the sealed one is the package.
                    try await blobs.delete(key)
                    continue
                }
                let context = PackageBuilder.sealContext(caseID: caseID, purpose: purpose)
                guard let blob = try await blobs.open(key) else { continue }
                let reader = try await SealedBlobReader.open(blob, name: key, sealer: sealer, context: key.hasSuffix(".sealed") ? context : nil)
                if let header = reader.header, sealer.isCurrent(header) { continue }
                let scratch = blobs.scratchFolder(for: target)
                try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
                let partial = scratch.appendingPathComponent(".\(caseID.uuidString.lowercased()).\(purpose.rawValue).reseal")
                try? FileManager.default.removeItem(at: partial)
                do {
                    let writer = try SealedFileWriter(creating: partial, sealer: sealer, context: context)
                    try await reader.forEach { try writer.write($0) }
                    try writer.finish()
                    try await blobs.put(target, from: partial)
                } catch {
                    try? FileManager.default.removeItem(at: partial)
                    throw PackageError("\(key) cannot be resealed: \(error)")
                }
                if key != target { try await blobs.delete(key) }
                resealed += 1
            }
        }
        return resealed
    }

    /// Builds a package of a case (C2, C3, C6, C9): for a production, the case must be
    /// `collecting`; it derives the collection plan (asked ∩ allowed ∩ approved, for the accounts the
    /// order names), streams the records from the data source through the scope check, writes and
    /// signs the ZIP, records what was built and what was cut, and moves the case to
    /// `ready_for_release`. For a preservation, the case must be `preserving`; the snapshot covers
    /// what the demand names (never key material), is kept apart and is never offered for download.
    /// The build is claimed first, so the package runner and the CLI never build one package twice
    /// at once; progress is stored for the case page.
    /// - Parameter progress: records read so far, for the CLI's progress bar.
    @discardableResult
    public func buildPackage(
        caseID: UUID, purpose: PackagePurpose = .production, by actor: Actor, expected: @Sendable (Int?) -> Void = { _ in },
        progress: @escaping @Sendable (Int) -> Void = { _ in }
    ) async throws -> PackageBuilder.Result {
        guard let subject = try await cases.findCase(id: caseID) else { throw Problem.notFound("case \(caseID)") }
        guard subject.state == purpose.buildState else { throw PackageBuildRefusal.notBuildable(Self.notBuildable(subject, purpose)) }
        guard let demand = try await cases.findDemand(id: subject.demandID) else { throw Problem.notFound("demand of case \(caseID)") }
        let plan: CollectionPlan
        do {
            let accounts = try await directory.accountIDs(for: demand.targets)
            plan = purpose == .production
                ? try CollectionPlan.derive(for: subject, demand: demand, accounts: accounts)
                : try CollectionPlan.preservation(for: subject, demand: demand, accounts: accounts)
        } catch let error as PlanError {
            try await packages.failed(caseID: caseID, purpose: purpose, error: error.description, at: now())
            throw PackageBuildRefusal.nothingToCollect("case \(subject.number): \(error)")
        }
        var basis: [String] = []
        for citation in plan.categories.flatMap({ subject.assessment?.categories[$0]?.citations ?? [] }) where !basis.contains(citation) {
            basis.append(citation)
        }
        let facts = PackageBuilder.CaseFacts(
            instrument: demand.instrument.rawValue, jurisdiction: [demand.jurisdiction.country, demand.jurisdiction.subdivision].compactMap { $0 }.joined(separator: "/"),
            issuingAuthority: demand.issuingAuthority.name, requesterReference: demand.caseReference,
            legalBasis: basis, rulebookVersion: subject.assessment?.rulebookVersion ?? "")
        let source = dataSource(for: purpose)
        let expectedCount = try? await source.expectedCount(for: plan)
        expected(expectedCount)
        guard try await packages.claim(caseID: caseID, purpose: purpose, requestedBy: actor.auditName, expected: expectedCount, at: now()) else {
            throw PackageBuildRefusal.alreadyBuilding("the \(purpose.rawValue) package of case \(subject.number) is being built")
        }
        // Built in a local file (beside its place in a data folder, in this instance's scratch
        // folder for a shared store), then handed to the blob store whole.
        let key = Self.packageKey(caseID: caseID, purpose: purpose)
        let destination = blobs.scratchFolder(for: key).appendingPathComponent((key as NSString).lastPathComponent)
        let result: PackageBuilder.Result
        do {
            try FileManager.default.createDirectory(at: destination.deletingLastPathComponent(), withIntermediateDirectories: true)
            // Progress goes to the case page at most every half second, and to the caller on every record.
            let lastStored = Mutex(Date.distantPast)
            let store = packages
            let clock = now
            result = try await PackageBuilder(key: signingKey, renderer: renderer, sealer: database.sealer).build(
                plan: plan, facts: facts, source: source, at: now(), destination: destination, purpose: purpose
            ) { read in
                progress(read)
                let time = clock()
                let due = lastStored.withLock { last in
                    guard time.timeIntervalSince(last) >= 0.5 else { return false }
                    last = time
                    return true
                }
                if due { try? await store.progress(caseID: caseID, purpose: purpose, read: read, at: time) }
            }
            try await blobs.put(key, from: destination)
        } catch {
            if blobs.isShared { try? FileManager.default.removeItem(at: destination) }
            try? await packages.failed(caseID: caseID, purpose: purpose, error: "\(error)", at: now())
            throw error
        }
        // A plain package from before sealing existed is replaced by the sealed one.
        if !blobs.isShared { try? await blobs.delete(String(key.dropLast(7))) }

        let manifest = result.summary
        var details: [String: String] = [
            "merkleRoot": manifest.merkleRoot, "files": String(result.fileCount), "packageBytes": String(result.packageBytes),
            "manifestSHA256": PackageBuilder.hex(SHA256.hash(data: result.manifestBytes)), "signingKey": manifest.signingKeyID,
            "source": manifest.source, "categories": plan.categories.map(\.rawValue).joined(separator: ","),
            "accounts": plan.accounts.joined(separator: ","),
        ]
        for (reason, count) in manifest.cut { details["cut." + reason] = String(count) }
        if purpose == .preservation { details["until"] = subject.preservedUntil.map(Timestamp.format) ?? "" }
        let caseSubject = "case:\(caseID.uuidString.lowercased())"
        var audits = [AuditRecord(
            caseID: caseID, subject: caseSubject, action: purpose == .production ? "production.built" : "preservation.snapshot",
            actor: actor.auditName, at: now(), details: details)]
        if !result.cutNotes.isEmpty {
            // C2/C9: what the source returned outside the plan is on record (reason, account,
            // category, the source's id), never its content.
            audits.append(AuditRecord(
                caseID: caseID, subject: caseSubject, action: "production.cut", actor: actor.auditName, at: now(),
                details: [
                    "total": String(manifest.cutTotal),
                    "examples": result.cutNotes.map { "\($0.reason.rawValue) \($0.account) \($0.category.rawValue) \($0.sourceID ?? "")" }
                        .joined(separator: "; "),
                ]))
        }
        // The record, its entries and (for a production) the case's move to ready-for-release in
        // one transaction: saved in steps, a crash between them left a built package on a case
        // still collecting, which the runner then took as done.
        let built = PackageStore.BuiltPackage(
            caseID: caseID, purpose: purpose, read: result.fileCount + manifest.cutTotal, files: result.fileCount, bytes: result.packageBytes,
            manifestSHA256: details["manifestSHA256"]!, merkleRoot: manifest.merkleRoot)
        let outcome: Result<Case, WorkflowRefusal>?
        do {
            outcome = try await cases.finishBuild(
                built, audits: audits, event: purpose == .production ? .collectionFinished(recordCount: result.fileCount) : nil, at: now(), by: .system)
        } catch {
            // Nothing of the finish was saved: the claim is released, so the build can be taken again.
            try? await packages.failed(caseID: caseID, purpose: purpose, error: "saving the finished build: \(error)", at: now())
            throw error
        }
        if case .failure(let refusal) = outcome { throw refusal.problem }
        return result
    }

    static func notBuildable(_ subject: Case, _ purpose: PackagePurpose) -> String {
        "case \(subject.number) is \(subject.state.rawValue); a \(purpose.rawValue) package is built in \(purpose.buildState.rawValue), after \(purpose.startingEvent.rawValue)"
    }

    /// Queues a package's build again (a failed build's retry), for the API and the case page.
    func requeuePackage(caseID: UUID, purpose: PackagePurpose, by principal: Principal) async throws {
        guard let subject = try await cases.findCase(id: caseID) else { throw Problem.notFound("case \(caseID)") }
        guard subject.state == purpose.buildState else {
            throw PackageBuildRefusal.notBuildable(Self.notBuildable(subject, purpose)).problem
        }
        do {
            try await packages.requeue(caseID: caseID, purpose: purpose, by: principal.actor.auditName, at: now())
        } catch StorageError.conflict(let message) {
            throw PackageBuildRefusal.alreadyBuilding(message).problem
        }
    }
}

/// Why a package was not built. The runner tells them apart: an ongoing build is waited for,
/// a plan that cannot be made is not retried.
public enum PackageBuildRefusal: Error, Equatable, CustomStringConvertible {
    /// The case is not in the state its package is built in.
    case notBuildable(String)
    /// asked ∩ allowed ∩ approved is empty, or the order names no account of this provider.
    case nothingToCollect(String)
    /// Another builder holds the claim.
    case alreadyBuilding(String)

    public var description: String {
        switch self {
        case .notBuildable(let reason), .nothingToCollect(let reason), .alreadyBuilding(let reason): reason
        }
    }

    var problem: Problem {
        switch self {
        case .notBuildable(let reason): Problem(.conflict, title: "Not buildable now", detail: reason)
        case .nothingToCollect(let reason): Problem(.conflict, title: "Nothing to collect", detail: reason)
        case .alreadyBuilding(let reason): Problem(.conflict, title: "Already building", detail: reason)
        }
    }
}
