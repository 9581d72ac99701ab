import CustosDomain
import FluentKit
import Foundation
import SQLKit

/// `CaseRepository` on fluent-kit, identical on SQLite and PostgreSQL.
public struct SQLCaseRepository: CaseRepository {
    static let caseNumberCounter = "case_number"
    let store: CustosDatabase
    /// How long before a dated bar lapses staff are reminded to check for a renewal.
    let noticeReminderLead: TimeInterval

    /// How long a released package's download stays open (C3).
    let packageLinkLifetime: TimeInterval

    /// The provider's settings the workflow takes as inputs (emergency follow-up period).
    let workflowPolicy: WorkflowPolicy

    public init(
        store: CustosDatabase, noticeReminderLead: TimeInterval = NoticePlanner.defaultReminderLead,
        packageLinkLifetime: TimeInterval = 14 * 86_400, workflowPolicy: WorkflowPolicy = .standard
    ) {
        self.workflowPolicy = workflowPolicy
        self.packageLinkLifetime = packageLinkLifetime
        self.store = store
        self.noticeReminderLead = noticeReminderLead
    }

    var isPostgres: Bool { store.location.isPostgres }

    public func submit(
        _ accepted: AcceptedDemand, idempotencyKey: String?, requestHash: String, customer: CustomerLink?,
        assessment: Assessment?, at time: Date, by submitter: Principal
    ) async throws -> DemandSubmission {
        let demand = accepted.demand
        if let idempotencyKey, let replay = try await replay(idempotencyKey, agencyID: demand.agencyID, requestHash: requestHash) {
            return replay
        }
        let isPostgres = self.isPostgres
        let sealer = store.sealer
        let reminderLead = noticeReminderLead
        let linkLifetime = packageLinkLifetime
        // With an object store for documents, each goes there sealed before the transaction; one
        // whose transaction then fails is deleted again (a crash in between leaves a sealed blob no row names).
        let external = try await Self.putExternally(
            demand.documents.map { ("documents/\($0.id.uuidString.lowercased())", accepted.documentBytes[$0.id] ?? Data()) }, store: store)
        do {
            return try await store.database.transaction { tx in
                let demandRow = DemandRow()
                demandRow.id = demand.id
                demandRow.agencyID = demand.agencyID
                demandRow.submittedBy = demand.submittedBy
                demandRow.receivedAt = demand.receivedAt
                demandRow.body = try CustosJSON.string(demand)
                demandRow.idempotencyKey = idempotencyKey
                demandRow.requestHash = requestHash
                try await ModelStatements.insert(demandRow, on: tx)
                try await ModelStatements.insert(try demand.documents.map { document in
                    let row = DocumentRow()
                    row.id = document.id
                    row.demandID = demand.id
                    row.filename = document.filename
                    row.mediaType = document.mediaType
                    row.byteCount = document.byteCount
                    row.sha256 = document.sha256
                    let key = "documents/\(document.id.uuidString.lowercased())"
                    if external.contains(key) {
                        row.content = Data()
                        row.blobKey = key
                    } else {
                        row.content = try sealer.seal(accepted.documentBytes[document.id] ?? Data())
                        row.blobKey = nil
                    }
                    return row
                }, on: tx)
                let number = try await Self.nextCaseNumber(at: time, on: tx, isPostgres: isPostgres)
                let (opened, intakeEffects) = CaseIntake.open(
                    demand, customer: customer, assessment: assessment, caseID: UUID(), number: number, at: time,
                    by: submitter.actor)
                try await ModelStatements.insert(try CaseRow(opened), on: tx)
                // The demand's commitment for the public legal-process log (tlog.md §6.4), made at
                // intake and named in the intake's audit entry; national-security process is never
                // logged per item (§6.7).
                var effects = intakeEffects
                var intake: LegalProcessStore.Intake?
                if LegalProcessLog.isLogged(demand) {
                    let requester = try await ModelStatements.find(AgencyRow.self, id: demand.agencyID, on: tx)?.name
                        ?? "agency:\(demand.agencyID.uuidString.lowercased())"
                    let prepared = LegalProcessStore.prepareIntake(
                        demand, requester: requester, legalBasis: Self.legalBasis(assessment) ?? demand.instrument.rawValue)
                    effects = effects.map { effect in
                        guard case .audit(var record) = effect, record.action == "demand.received" else { return effect }
                        record.details["lptl-ref"] = prepared.ref
                        record.details["record"] = prepared.root.base64EncodedString()
                        return .audit(record)
                    }
                    intake = prepared
                }
                let entries = try await Self.persist(
                    effects, on: tx, isPostgres: isPostgres, at: time, reminderLead: reminderLead, linkLifetime: linkLifetime)
                if let intake {
                    guard let received = entries.first(where: { $0.record.action == "demand.received" }) else {
                        throw StorageError.corrupted("the intake of demand \(demand.id) has no audit entry")
                    }
                    try await LegalProcessStore.saveIntake(
                        intake, demand: demand, caseID: opened.id, intakeIndex: UInt64(received.sequence - 1), at: time, on: tx)
                }
                return DemandSubmission(demand: demand, caseRecord: opened, isReplay: false)
            }
        } catch where (error as? any DatabaseError)?.isConstraintFailure == true {
            await Self.deleteExternally(external, store: store)
            // Two retries raced with the same idempotency key: the loser answers with the winner's result.
            if let idempotencyKey, let replay = try await replay(idempotencyKey, agencyID: demand.agencyID, requestHash: requestHash) {
                return replay
            }
            throw error
        } catch {
            await Self.deleteExternally(external, store: store)
            throw error
        }
    }

    /// Seals `documents` and puts them in the document blob store, if there is one; returns the keys stored.
    static func putExternally(_ documents: [(key: String, bytes: Data)], store: CustosDatabase) async throws -> Set<String> {
        guard let blobs = store.documentBlobs, !documents.isEmpty else { return [] }
        var stored: Set<String> = []
        do {
            for document in documents {
                try await blobs.put(document.key, data: try store.sealer.seal(document.bytes))
                stored.insert(document.key)
            }
        } catch {
            await deleteExternally(stored, store: store)
            throw error
        }
        return stored
    }

    static func deleteExternally(_ keys: Set<String>, store: CustosDatabase) async {
        guard let blobs = store.documentBlobs else { return }
        for key in keys { try? await blobs.delete(key) }
    }

    /// The sealed bytes of a document or attachment row: its own, or its blob's.
    func sealedContent(_ content: Data, blobKey: String?) async throws -> Data {
        guard let blobKey else { return content }
        guard let blobs = store.documentBlobs else {
            throw StorageError.corrupted("\(blobKey) is kept in an object store, and none is configured (CUSTOS_BLOB_URL)")
        }
        guard let sealed = try await blobs.read(blobKey, limit: 1 << 31) else { throw StorageError.corrupted("\(blobKey) is missing from \(blobs.description)") }
        return sealed
    }

    /// The citations the rulebook applied, as the record's `legal-basis`.
    static func legalBasis(_ assessment: Assessment?) -> String? {
        let citations = Set(assessment?.categories.values.flatMap(\.citations) ?? [])
        return citations.isEmpty ? nil : citations.sorted().joined(separator: "; ")
    }

    private func replay(_ key: String, agencyID: UUID, requestHash: String) async throws -> DemandSubmission? {
        guard
            let existing = try await ModelStatements.first(
                DemandRow.self, where: [(DemandRow.column(\.$agencyID), .uuid(agencyID)), (DemandRow.column(\.$idempotencyKey), .text(key))],
                on: store.database)
        else { return nil }
        guard existing.requestHash == requestHash else { throw StorageError.idempotencyMismatch }
        let demand = try existing.domain()
        guard let caseRecord = try await findCase(demandID: demand.id) else {
            throw StorageError.corrupted("demand \(demand.id) has no case")
        }
        return DemandSubmission(demand: demand, caseRecord: caseRecord, isReplay: true)
    }

    static func nextCaseNumber(at time: Date, on database: any Database, isPostgres: Bool) async throws -> String {
        let counter = try await Counters.lock(caseNumberCounter, on: database, isPostgres: isPostgres)
        let year = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: time).year!
        if counter.textValue != String(year) {
            counter.textValue = String(year)
            counter.value = 0
        }
        counter.value += 1
        try await counter.update(on: database)
        return CaseIntake.caseNumber(year: year, sequence: counter.value)
    }

    @discardableResult
    static func persist(
        _ effects: [CaseEffect], on database: any Database, isPostgres: Bool, at time: Date, reminderLead: TimeInterval,
        linkLifetime: TimeInterval
    ) async throws -> [AuditEntry] {
        var audits: [AuditRecord] = []
        for effect in effects {
            switch effect {
            case .audit(let record):
                audits.append(record)
            case .planCustomerNotice(let subject):
                // Planned once per case: a second entry into review finds the notice already there.
                guard try await NoticeRow.query(on: database).filter(\.$caseID == subject.id).first() == nil else { continue }
                let recipients = try await NoticeStore.recipients(for: subject.customer, on: database)
                var endpoint: String?
                if let tenantID = subject.customer?.tenantID {
                    endpoint = try await TenantWebhookRow.query(on: database).filter(\.$tenantID == tenantID).first()?.url
                }
                let notice = NoticePlanner.plan(
                    for: subject, recipients: recipients, tenantEndpoint: endpoint, id: UUID(), at: time, reminderLead: reminderLead)
                try await NoticeRow(notice).create(on: database)
                audits.append(NoticeStore.auditRecord(notice, action: "notice.\(notice.state.rawValue)", at: time))
                if notice.state == .due { try await NoticeStore.enqueue(notice, on: database, at: time) }
            case .openPackageLink(let caseID, let agencyID):
                audits.append(try await PackageLinkStore.open(
                    caseID: caseID, agencyID: agencyID, at: time, expiresAt: time.addingTimeInterval(linkLifetime), actor: Actor.system.auditName,
                    on: database))
            case .buildPackage(let caseID, let purpose, let requestedBy):
                try await PackageStore.queue(caseID: caseID, purpose: purpose, requestedBy: requestedBy, at: time, on: database)
            case .emergencyEnded(let caseID):
                guard let row = try await NoticeRow.query(on: database).filter(\.$caseID == caseID).first(),
                    let released = NoticePlanner.releaseIfLapsed(try row.domain(), emergencyOver: true, at: time)
                else { continue }
                try row.copy(from: released)
                try await row.update(on: database)
                audits.append(NoticeStore.auditRecord(released, action: "notice.released", at: time))
                try await NoticeStore.enqueue(released, on: database, at: time)
            case .notifyAgency(let message):
                let row = OutboxRow()
                row.id = UUID()
                row.kind = "agency_message"
                row.caseID = message.caseID
                row.recipient = "agency:\(message.agencyID.uuidString.lowercased())"
                row.payload = try CustosJSON.string(message)
                row.createdAt = time
                row.attempts = 0
                row.status = "pending"
                row.runAt = time
                try await row.create(on: database)
            }
        }
        return try await AuditWriter.append(audits, on: database, isPostgres: isPostgres)
    }

    public func apply(_ event: CaseEvent, toCase caseID: UUID, at time: Date, by actor: Actor) async throws -> Case {
        try await apply(event, toCase: caseID, at: time, by: actor, attachmentBytes: [:])
    }

    /// `apply`, storing the bytes of the documents an event carries (a customer's objection) in the
    /// same transaction: the documents exist exactly when the accepted event that names them does.
    public func apply(
        _ event: CaseEvent, toCase caseID: UUID, at time: Date, by actor: Actor, attachmentBytes: [UUID: Data]
    ) async throws -> Case {
        // With an object store for documents, attachments go there sealed first (see `submit`).
        var attachmentKeys: [UUID: String] = [:]
        if case .customerAnswer(_, _, let attachments) = event {
            for attachment in attachments { attachmentKeys[attachment.id] = "attachments/\(attachment.id.uuidString.lowercased())" }
        }
        let external = try await Self.putExternally(
            attachmentKeys.compactMap { id, key in attachmentBytes[id].map { (key, $0) } }, store: store)
        let outcome: Result<Case, WorkflowRefusal>
        do {
            outcome = try await applyInTransaction(
                event, toCase: caseID, at: time, by: actor, attachmentBytes: attachmentBytes, external: external)
        } catch {
            await Self.deleteExternally(external, store: store)
            throw error
        }
        if case .failure = outcome { await Self.deleteExternally(external, store: store) }
        return try outcome.get()
    }

    /// A finished package build, saved at once: the package marked built, its audit entries and,
    /// for a production, the case's `collectionFinished`, in one transaction. A crash leaves all of
    /// it or none (the build is then taken again). Returns the event's outcome; a refused event
    /// (the case moved on while the package was built) still keeps the package and its entries.
    public func finishBuild(
        _ built: PackageStore.BuiltPackage, audits: [AuditRecord], event: CaseEvent?, at time: Date, by actor: Actor
    ) async throws -> Result<Case, WorkflowRefusal>? {
        let isPostgres = self.isPostgres
        let together: @Sendable (any Database) async throws -> Void = { tx in
            try await PackageStore.markBuilt(built, at: time, on: tx)
            try await AuditWriter.append(audits, on: tx, isPostgres: isPostgres)
        }
        guard let event else {
            try await store.database.transaction { tx in try await together(tx) }
            return nil
        }
        return try await applyInTransaction(event, toCase: built.caseID, at: time, by: actor, attachmentBytes: [:], external: [], together: together)
    }

    func applyInTransaction(
        _ event: CaseEvent, toCase caseID: UUID, at time: Date, by actor: Actor, attachmentBytes: [UUID: Data], external: Set<String>,
        together: (@Sendable (any Database) async throws -> Void)? = nil
    ) async throws -> Result<Case, WorkflowRefusal> {
        let isPostgres = self.isPostgres
        let sealer = store.sealer
        let reminderLead = noticeReminderLead
        let linkLifetime = packageLinkLifetime
        let policy = workflowPolicy
        return try await store.database.transaction { tx in
            if isPostgres {
                try await (tx as! any SQLDatabase).raw("SELECT id FROM cases WHERE id = \(bind: caseID) FOR UPDATE").run()
            }
            guard let row = try await CaseRow.find(caseID, on: tx) else {
                throw StorageError.notFound("case \(caseID) does not exist")
            }
            let current = try row.domain()
            // Writes that belong to this event's transaction whatever its outcome (a finished build).
            try await together?(tx)
            do {
                let (next, effects) = try CaseWorkflow.apply(event, to: current, at: time, by: actor, policy: policy)
                try row.copy(from: next)
                try await row.update(on: tx)
                // C1: a case that closes yields its report fact in the same transaction.
                if next.isClosed, !current.isClosed, let demand = try await DemandRow.find(next.demandID, on: tx)?.domain() {
                    let notice = try await NoticeRow.query(on: tx).filter(\.$caseID == caseID).first().flatMap { row in
                        CustomerNoticeState(rawValue: row.state).map { ($0, row.bar.flatMap(NoticeBarKind.init(rawValue:)) ?? .none) }
                    }
                    guard let fact = ReportFact.closed(next, demand: demand, notice: notice) else {
                        throw StorageError.corrupted("closed case \(caseID) has no outcome")
                    }
                    try await ReportFactStore.insert([fact], source: "case", at: time, on: tx)
                }
                try await Self.persist(effects, on: tx, isPostgres: isPostgres, at: time, reminderLead: reminderLead, linkLifetime: linkLifetime)
                if case .customerAnswer(_, _, let attachments) = event {
                    for attachment in attachments {
                        guard let bytes = attachmentBytes[attachment.id] else {
                            throw StorageError.notFound("the bytes of attachment \(attachment.filename)")
                        }
                        let row = AttachmentRow()
                        row.id = attachment.id
                        row.caseID = caseID
                        row.uploadedBy = actor.auditName
                        row.filename = attachment.filename
                        row.mediaType = attachment.mediaType
                        row.byteCount = attachment.byteCount
                        row.sha256 = attachment.sha256
                        let key = "attachments/\(attachment.id.uuidString.lowercased())"
                        if external.contains(key) {
                            row.content = Data()
                            row.blobKey = key
                        } else {
                            row.content = try sealer.seal(bytes)
                            row.blobKey = nil
                        }
                        row.createdAt = time
                        try await row.create(on: tx)
                    }
                }
                return .success(next)
            } catch let refusal as WorkflowRefusal {
                // workflow.md: refused events produce a refusal entry (who tried what, why).
                let record = AuditRecord(
                    caseID: caseID, subject: "case:\(caseID.uuidString.lowercased())", action: "case.\(event.kind.rawValue)",
                    outcome: .refused, actor: actor.auditName, at: time,
                    details: ["code": refusal.code.rawValue, "reason": refusal.reason, "state": current.state.rawValue])
                try await AuditWriter.append([record], on: tx, isPostgres: isPostgres)
                return .failure(refusal)
            }
        }
    }

    public func findCase(id: UUID) async throws -> Case? {
        try await CaseRow.find(id, on: store.database)?.domain()
    }

    /// A case by its number (`2026-000123`), through the number's unique index.
    public func findCase(number: String) async throws -> Case? {
        try await CaseRow.query(on: store.database).filter(\.$number == number).first()?.domain()
    }

    public func findCase(demandID: UUID) async throws -> Case? {
        try await CaseRow.query(on: store.database).filter(\.$demandID == demandID).first()?.domain()
    }

    public func listCases(_ filter: CaseFilter) async throws -> [Case] {
        let query = CaseRow.query(on: store.database)
        if let state = filter.state { query.filter(\.$state == state.rawValue) }
        if let country = filter.country { query.filter(\.$country == country) }
        if let instrument = filter.instrument { query.filter(\.$instrument == instrument.rawValue) }
        if let agencyID = filter.agencyID { query.filter(\.$agencyID == agencyID) }
        if filter.emergencyOnly { query.filter(\.$isEmergency == true) }
        if filter.openOnly { query.filter(\.$state != CaseState.closed.rawValue) }
        // The limit must cut the least urgent cases, so the database sorts in queue order
        // (CaseQueue's rule) before limiting; CaseQueue then settles ties the same way everywhere.
        let rows = try await query.sort(\.$isEmergency, .descending).sort(\.$dueAt, .ascending).sort(\.$openedAt, .ascending)
            .limit(filter.limit).all()
        return CaseQueue.sorted(try rows.map { try $0.domain() })
    }

    /// Cases in one of `states` stored without an assessment (opened before the rulebook existed),
    /// picked out by the stored JSON: the server checks at every start, and decoding every open
    /// case for it took 10.8 s and 1 GB with 60,000 of them.
    public func casesWithoutAssessment(in states: [CaseState]) async throws -> [Case] {
        guard !states.isEmpty else { return [] }
        let missing = isPostgres ? "(body::jsonb -> 'assessment') IS NULL" : "json_extract(body, '$.assessment') IS NULL"
        let query: SQLQueryString = "SELECT * FROM cases WHERE state IN (\(binds: states.map(\.rawValue))) AND \(unsafeRaw: missing) ORDER BY opened_at"
        return try await ModelStatements.rows(CaseRow.self, selectedBy: query, on: store.database).map { try $0.domain() }
    }

    /// The cases the canary's statements depend on (`Canary.bearsOnStatements`), found through
    /// the state, outcome and instrument columns instead of by reading every case.
    public func casesBearingOnCanary() async throws -> [Case] {
        let nationalSecurity = LegalInstrument.allCases.filter(\.isNationalSecurity).map(\.rawValue)
        let rows = try await CaseRow.query(on: store.database).group(.or) { either in
            either.filter(\.$state == CaseState.released.rawValue)
            either.group(.and) { closed in
                closed.filter(\.$state == CaseState.closed.rawValue).filter(\.$outcome ~~ CaseOutcome.disclosing.map(\.rawValue))
            }
            either.filter(\.$instrument ~~ nationalSecurity)
        }.all()
        return try rows.map { try $0.domain() }.filter(Canary.bearsOnStatements)
    }

    public func findDemand(id: UUID) async throws -> Demand? {
        try await DemandRow.find(id, on: store.database)?.domain()
    }

    /// One page through the agency's cases by opening time (`cases_agency_opened_idx`), and the
    /// page's demands by id: the work is the page's, whatever the agency filed before. The place
    /// after `before` is read from that case's own row: a time bound back from text would not
    /// match PostgreSQL's microseconds exactly, and ties would be skipped or repeated.
    public func listDemands(agencyID: UUID, limit: Int, before: UUID?) async throws -> AgencyDemandPage {
        precondition(limit > 0, "a page holds at least one demand")
        let db = store.database
        var query: SQLQueryString = "SELECT * FROM cases WHERE agency_id = \(bind: agencyID)"
        if let before {
            // Only the agency's own case gives a position: another's id yields an empty page, so
            // no agency learns when another's case opened.
            let at: SQLQueryString = "(SELECT opened_at FROM cases WHERE id = \(bind: before) AND agency_id = \(bind: agencyID))"
            query += " AND (opened_at < \(at) OR (opened_at = \(at) AND id < \(bind: before)))"
        }
        query += " ORDER BY opened_at DESC, id DESC LIMIT \(literal: limit + 1)"
        let rows = try await ModelStatements.rows(CaseRow.self, selectedBy: query, on: db)
        let cases = try rows.prefix(limit).map { try $0.domain() }
        let demands = Dictionary(
            try await DemandRow.query(on: db).filter(\.$id ~~ cases.map(\.demandID)).all().map { row in let demand = try row.domain(); return (demand.id, demand) },
            uniquingKeysWith: { first, _ in first })
        let page = cases.compactMap { found in demands[found.demandID].map { AgencyDemand(demand: $0, caseRecord: found) } }
        return AgencyDemandPage(demands: page, next: rows.count > limit ? cases.last?.id : nil)
    }

    public func findDocument(id: UUID) async throws -> StoredDocument? {
        guard let row = try await DocumentRow.find(id, on: store.database), let rowID = row.id else { return nil }
        return StoredDocument(
            demandID: row.demandID,
            document: DemandDocument(id: rowID, filename: row.filename, mediaType: row.mediaType, byteCount: row.byteCount, sha256: row.sha256),
            bytes: try store.sealer.open(try await sealedContent(row.content, blobKey: row.blobKey)))
    }

    /// A document a customer sent with an objection, with the case it belongs to.
    public func findAttachment(id: UUID) async throws -> (caseID: UUID, document: DemandDocument, bytes: Data)? {
        guard let row = try await AttachmentRow.find(id, on: store.database), let rowID = row.id else { return nil }
        return (
            row.caseID,
            DemandDocument(id: rowID, filename: row.filename, mediaType: row.mediaType, byteCount: row.byteCount, sha256: row.sha256),
            try store.sealer.open(try await sealedContent(row.content, blobKey: row.blobKey))
        )
    }

    public func timeline(caseID: UUID) async throws -> [AuditEntry] {
        try await AuditRow.query(on: store.database).filter(\.$caseID == caseID).sort(\.$id).all().map { try $0.domain() }
    }

    public func record(_ record: AuditRecord) async throws {
        try await self.record([record])
    }

    /// Several audit entries in one transaction (one durable commit for all of them).
    public func record(_ records: [AuditRecord]) async throws {
        let isPostgres = self.isPostgres
        try await store.database.transaction { tx in
            _ = try await AuditWriter.append(records, on: tx, isPostgres: isPostgres)
        }
    }

    public func auditTrail() async throws -> [AuditEntry] {
        try await AuditRow.query(on: store.database).sort(\.$id).all().map { try $0.domain() }
    }

    /// Messages queued for agencies, oldest first (delivery comes with the notice issue).
    public func pendingAgencyMessages() async throws -> [AgencyMessage] {
        try await OutboxRow.query(on: store.database).filter(\.$kind == "agency_message").filter(\.$deliveredAt == nil)
            .sort(\.$createdAt).all().map { try CustosJSON.decode(AgencyMessage.self, from: $0.payload) }
    }
}
