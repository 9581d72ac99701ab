import Crypto
import CustosDomain
import CustosStorage
import Foundation
import Synchronization

extension CustosServices {
    /// Where finished packages are kept: `<data dir>/packages`, or a temporary folder for an
    /// in-memory database (tests).
    public var packagesFolder: URL {
        if configuration.inMemoryDatabase {
            return FileManager.default.temporaryDirectory.appendingPathComponent("custos-packages-\(ProcessInfo.processInfo.processIdentifier)")
        }
        return URL(fileURLWithPath: configuration.dataDirectory).appendingPathComponent("packages")
    }

    /// Where preservation snapshots are kept, apart from productions: `<data dir>/preservations`.
    public var preservationsFolder: URL {
        packagesFolder.deletingLastPathComponent().appendingPathComponent(configuration.inMemoryDatabase ? "custos-preservations-\(ProcessInfo.processInfo.processIdentifier)" : "preservations")
    }

    /// Where a case's package is stored: `<case id>.zip.sealed`, the ZIP sealed under the storage
    /// key (issue 10). A plain `<case id>.zip` left by a version before sealing is used while no
    /// sealed one exists; `custos keys rotate` seals it.
    public func packageURL(caseID: UUID, purpose: PackagePurpose = .production) -> URL {
        let sealed = sealedPackageURL(caseID: caseID, purpose: purpose)
        let plain = sealed.deletingPathExtension()
        if !FileManager.default.fileExists(atPath: sealed.path), FileManager.default.fileExists(atPath: plain.path) { return plain }
        return sealed
    }

    func sealedPackageURL(caseID: UUID, purpose: PackagePurpose) -> URL {
        let folder = purpose == .production ? packagesFolder : preservationsFolder
        return folder.appendingPathComponent("\(caseID.uuidString.lowercased()).zip.sealed")
    }

    /// Opens a stored package for reading its plain ZIP in order, each piece authenticated.
    public func openPackage(caseID: UUID, purpose: PackagePurpose = .production) throws -> SealedFileReader {
        try SealedFileReader(
            url: packageURL(caseID: caseID, purpose: purpose), sealer: database.sealer,
            context: PackageBuilder.sealContext(caseID: caseID, purpose: purpose))
    }

    /// Checks a stored package with this installation's signing key (and its storage keys).
    public func verifyStoredPackage(caseID: UUID, purpose: PackagePurpose = .production) -> PackageVerifier.Report {
        PackageVerifier.verify(
            packageURL(caseID: caseID, purpose: purpose), publicKey: signingKey.publicKey, sealer: database.sealer,
            context: PackageBuilder.sealContext(caseID: caseID, purpose: purpose))
    }

    /// Reseals every stored package and preservation snapshot with the current storage key
    /// (`custos keys rotate`, issue 10), and seals plain ones left from before sealing existed.
    /// Each is written beside itself, synced and renamed into place, so a rotation that stops
    /// halfway leaves every package readable (the old keys stay until it finishes).
    /// The servers and the CLI on one data folder take turns (a lock file in the folder).
    /// - Returns: how many packages were resealed.
    public func resealPackages() throws -> Int {
        let lock = try DataFolderLock(folder: configuration.dataDirectory, waitingFor: "packages.lock")
        defer { withExtendedLifetime(lock) {} }
        let sealer = database.sealer
        var resealed = 0
        for purpose in PackagePurpose.allCases {
            let folder = purpose == .production ? packagesFolder : preservationsFolder
            let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
            for name in names.sorted() where !name.hasPrefix(".") {
                let stem = name.hasSuffix(".zip.sealed") ? String(name.dropLast(11)) : name.hasSuffix(".zip") ? String(name.dropLast(4)) : ""
                guard let caseID = UUID(uuidString: stem) else { continue }
                let url = folder.appendingPathComponent(name)
                let target = sealedPackageURL(caseID: caseID, purpose: purpose)
                if url != target, FileManager.default.fileExists(atPath: target.path) {
                    // A plain copy a crash left beside its rebuilt, sealed package: the sealed one is the package.
                    try FileManager.default.removeItem(at: url)
                    continue
                }
                let context = PackageBuilder.sealContext(caseID: caseID, purpose: purpose)
                let reader = try SealedFileReader(url: url, sealer: sealer, context: name.hasSuffix(".sealed") ? context : nil)
                if let header = reader.header, sealer.isCurrent(header) { continue }
                do {
                    try SealedFileWriter.copy(reader, to: target, sealer: sealer, context: context)
                } catch {
                    throw PackageError("\(name) cannot be resealed: \(error)")
                }
                if url != target { try FileManager.default.removeItem(at: url) }
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
        let destination = sealedPackageURL(caseID: caseID, purpose: purpose)
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
        } catch {
            try? await packages.failed(caseID: caseID, purpose: purpose, error: "\(error)", at: now())
            throw error
        }
        // A plain package from before sealing existed is replaced by the sealed one.
        try? FileManager.default.removeItem(at: destination.deletingPathExtension())

        let manifest = result.summary
        var details: [String: String] = [
            "merkleRoot": manifest.merkleRoot, "files": String(result.fileCount), "packageBytes": String(result.packageBytes),
            "manifestSHA256": PackageBuilder.hex(SHA256.hash(data: result.manifestBytes)), "signingKey": manifest.signingKeyID,
            "source": manifest.source, "categories": plan.categories.map(\.rawValue).joined(separator: ","),
            "accounts": plan.accounts.joined(separator: ","),
        ]
        for (reason, count) in manifest.cut { details["cut." + reason] = String(count) }
        if purpose == .preservation { details["until"] = subject.preservedUntil.map(Timestamp.format) ?? "" }
        try await packages.built(
            caseID: caseID, purpose: purpose, read: result.fileCount + manifest.cutTotal, files: result.fileCount, bytes: result.packageBytes,
            manifestSHA256: details["manifestSHA256"]!, merkleRoot: manifest.merkleRoot, at: now())
        try await cases.record(AuditRecord(
            caseID: caseID, subject: "case:\(caseID.uuidString.lowercased())", action: purpose == .production ? "production.built" : "preservation.snapshot",
            actor: actor.auditName, at: now(), details: details))
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
        guard purpose == .production else { return result }
        do {
            _ = try await cases.apply(.collectionFinished(recordCount: result.fileCount), toCase: caseID, at: now(), by: .system)
        } catch let refusal as WorkflowRefusal {
            throw refusal.problem
        }
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
