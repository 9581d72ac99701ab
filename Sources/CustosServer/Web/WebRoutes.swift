import HTTPTypes
import CustosDomain
import CustosStorage
import CustosWeb
import Foundation
import Hummingbird
import NIOPosix

/// Server-rendered pages: login for each kind of user, the staff console, the agency portal.
/// Every page works without JavaScript; every form POST carries a CSRF token.
struct WebRoutes {
    let services: CustosServices

    func register(on router: inout SecuredRouter) {
        router.on(.get, "/", .open, .page) { _, context in
            try render("message", "Custos", context, MessageModel(
                heading: "Custos", text: "Government and third-party demands for customer data. Staff sign in at /staff/login, agencies at /agency/login, customers at /customer/login."))
        }
        registerSignIn(on: &router)
        registerAgencyRegistration(on: &router)
        router.on(.get, "/staff", .staff([]), .page) { _, _ in .redirect(to: "/staff/queue") }
        router.on(.get, "/staff/queue", .staff([]), .page, use: queue)
        router.on(.get, "/staff/cases/:id", .staff([]), .page, use: casePage)
        router.on(.post, "/staff/cases/:id/events", .staff([]), .page, use: caseEvent)
        router.on(.get, "/staff/documents/:id", .staff([]), .page, use: download)
        router.on(.get, "/staff/attachments/:id", .staff([]), .page, use: downloadAttachment)
        router.on(.get, "/staff/cases/:id/package", .staff([]), .page, use: downloadPackage)
        router.on(.post, "/staff/cases/:id/production", .staff([.custodian]), .page, use: rebuildPackage)
        router.on(.get, "/staff/notices", .staff([]), .page, use: noticesBoard)
        router.on(.post, "/staff/notices/:id/lift", .staff([.reviewer]), .page, use: liftNotice)
        router.on(.post, "/staff/notices/:id/waiver", .staff([.reviewer]), .page, use: logWaiverEffort)
        router.on(.post, "/staff/jobs/:id/retry", .staff([.reviewer, .admin]), .page, use: retryJob)
        router.on(.get, "/staff/requesters", .staff([]), .page, use: requestersPage)
        router.on(.post, "/staff/requesters/:id/standing", .staff([.admin]), .page, use: changeStanding)
        router.on(.post, "/staff/agencies", .staff([.admin]), .page, use: addAgency)
        router.on(.post, "/staff/agencies/:id", .staff([.admin]), .page, use: editAgency)
        router.on(.get, "/agency", .agency, .page) { _, _ in .redirect(to: "/agency/demands") }
        router.on(.get, "/agency/demands", .agency, .page, use: agencyDemands)
        router.on(.get, "/agency/demands/new", .agency, .page) { _, context in try newDemandPage(context, issues: [], values: [:]) }
        router.on(.post, "/agency/demands", .agency, .page, use: agencySubmit)
        router.on(.get, "/agency/cases/:id/redirect-letter", .agency, .page) { request, context in try await redirectLetter(request, context, plain: false) }
        router.on(.get, "/agency/cases/:id/redirect-letter.txt", .agency, .page) { request, context in try await redirectLetter(request, context, plain: true) }
        router.on(.post, "/agency/cases/:id/redirect-answer", .agency, .page, use: agencyRedirectAnswer)
        router.on(.get, "/agency/cases/:id/package", .agency, .page, use: agencyPackage)
        router.on(.get, "/customer", .customer, .page, use: customerPortal)
        router.on(.get, "/customer/documents/:id", .customer, .page, use: customerDownload)
        router.on(.post, "/customer/cases/:id/answer", .customer, .page, use: customerAnswer)
        router.on(.get, "/customer/cases/:id/proof.tlog-proof", .customer, .page, use: customerLogProof)
    }

    func policy(for kind: PrincipalKind) -> AccessPolicy {
        switch kind {
        case .staff: .staff([])
        case .agency: .agency
        case .customer: .customer
        }
    }

    static func home(for kind: PrincipalKind) -> String {
        switch kind {
        case .staff: "/staff/queue"
        case .agency: "/agency/demands"
        case .customer: "/customer"
        }
    }

    func viewer(_ principal: Principal?) -> Viewer? {
        guard let principal else { return nil }
        return Viewer(
            name: principal.displayName, email: principal.email, kindLabel: principal.kind.rawValue,
            roles: principal.roles.sorted().map(\.rawValue).joined(separator: ", "),
            logoutPath: "/\(principal.kind.rawValue)/logout", homePath: Self.home(for: principal.kind))
    }

    func render<Model: Sendable>(
        _ template: String, _ title: String, _ context: AppRequestContext, _ model: Model, flash: String? = nil, error: String? = nil,
        status: HTTPResponse.Status = .ok, csrf: String? = nil, refresh: Int? = nil
    ) throws -> Response {
        var page = Page(
            template: template, title: title, viewer: viewer(context.principal), csrfToken: csrf ?? context.sessionCSRF ?? "",
            flash: flash, error: error, model: model)
        page.refresh = refresh.map(String.init)
        return .html(try services.renderer.render(page), status: status)
    }

    // MARK: Staff console

    @Sendable func queue(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let query = request.uri.queryParameters
        var filter = CaseFilter()
        filter.state = query.get("state").flatMap(CaseState.init(rawValue:))
        filter.openOnly = filter.state == nil
        filter.instrument = query.get("instrument").flatMap(LegalInstrument.init(rawValue:))
        let country = (query.get("country") ?? "").uppercased()
        if Jurisdiction.countryCodes.contains(country) { filter.country = country }
        let cases = try await services.cases.listCases(filter)
        let now = services.now()
        let model = QueueModel(
            rows: cases.map { CaseRowModel($0, now: now) },
            states: CaseState.allCases.map { Option(value: $0.rawValue, label: $0.label, isSelected: $0 == filter.state) },
            instruments: LegalInstrument.allCases.map { Option(value: $0.rawValue, label: $0.rawValue, isSelected: $0 == filter.instrument) },
            country: filter.country ?? "", attention: query.get("attention").flatMap(QueueModel.Attention.init(rawValue:)))
        return try render("queue", "Queue", context, model, flash: query.get("flash"))
    }

    @Sendable func casePage(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try await showCase(request, context, flash: request.uri.queryParameters.get("flash"), error: nil, status: .ok)
    }

    func showCase(_ request: Request, _ context: AppRequestContext, flash: String?, error: String?, status: HTTPResponse.Status) async throws -> Response {
        let principal = context.principal!
        let id = try APIRoutes.uuid(context, "case")
        guard let caseRecord = try await services.cases.findCase(id: id), AccessScope.canView(caseRecord, as: principal),
            let demand = try await services.cases.findDemand(id: caseRecord.demandID)
        else {
            return try render("message", "Not found", context, MessageModel(heading: "Not found", text: "There is no such case."), status: .notFound)
        }
        try await services.recordRead("case.viewed", caseID: id, by: principal, details: ["via": "console"])
        let timeline = try await services.cases.timeline(caseID: id)
        var model = CaseModel(
            caseRecord, demand: demand, timeline: timeline,
            actions: CaseWorkflow.availableEvents(on: caseRecord, for: principal.actor), now: services.now(),
            rulebookInForce: services.rulebook.version,
            notice: try await services.notices.notice(caseID: caseRecord.id).map {
                NoticeRowModel($0, caseNumber: caseRecord.number, tenant: caseRecord.customer?.tenantName, canLift: principal.has(.reviewer))
            }, agency: try await services.directory.findAgency(id: caseRecord.agencyID))
        // Issue 5: the built package and snapshot, or where their builds stand (the page reloads
        // itself while one runs, so the progress moves without a script).
        for purpose in PackagePurpose.allCases {
            guard let record = try await services.packages.record(caseID: id, purpose: purpose) else { continue }
            if record.status == .built, await services.storedPackageExists(caseID: id, purpose: purpose) {
                let action = purpose == .production ? "production.built" : "preservation.snapshot"
                let summary = timeline.last { $0.record.action == action }.flatMap { PackageSummaryModel($0, caseID: id) }
                if purpose == .production { model.package = summary } else { model.snapshot = summary }
            } else if let progress = PackageProgressModel(record, canRetry: principal.has(.custodian)) {
                model.packageProgress.append(progress)
            }
        }
        model.terms = CaseTermsModel(caseRecord, now: services.now())
        if let record = try await services.legalProcess.record(caseID: id) {
            model.publicLog = PublicLogModel(
                ref: record.ref, classPath: record.classPath, reviewBy: record.reviewBy, demandIndex: record.demandIndex,
                dispositionIndex: record.dispositionIndex, openingIndex: record.openingIndex)
        }
        model.publicLogExcluded = !LegalProcessLog.isLogged(demand)
        let building = model.packageProgress.contains { $0.isBuilding }
        return try render("case", "Case \(caseRecord.number)", context, model, flash: flash, error: error, status: status, refresh: building ? 3 : nil)
    }

    @Sendable func caseEvent(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let id = try APIRoutes.uuid(context, "case")
        let form = try await FormData.read(request, limit: 64 * 1024, expectedCSRF: context.sessionCSRF)
        let eventRequest = EventRequest(
            type: form.value("type"), reason: form.value("reason"),
            ruleIds: form.value("ruleIds")?.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) },
            categories: form.values("categories[]"), excuse: form.value("excuse"), check: form.value("check"),
            passed: form.value("passed").map { $0 == "true" }, note: form.value("note"), answer: form.value("answer"),
            court: form.value("court"), challengeKind: form.value("challengeKind"), grounds: form.value("grounds"), deadline: form.value("deadline"),
            upheld: form.value("upheld").map { $0 == "true" }, until: form.value("until"),
            recordCount: form.value("recordCount").flatMap { Int($0) }, reference: form.value("reference"),
            received: form.value("received").map { $0 == "true" }, phoneId: form.value("phoneId"), spokeWith: form.value("spokeWith"),
            confirmed: form.value("confirmed").map { $0 == "true" })
        do {
            _ = try await services.apply(eventRequest, toCase: id, by: context.principal!)
            let label = CaseEvent.Kind(rawValue: eventRequest.type ?? "")?.label ?? "event"
            let path = "/staff/cases/\(id.uuidString.lowercased())?flash=" + ("Recorded: " + label).addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
            return .redirect(to: path)
        } catch let problem as Problem where problem.status != .notFound {
            return try await showCase(request, context, flash: nil, error: problem.detail, status: problem.status)
        }
    }

    /// A custodian queues a failed production build again from the case page.
    @Sendable func rebuildPackage(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let id = try APIRoutes.uuid(context, "case")
        _ = try await FormData.read(request, limit: 4 * 1024, expectedCSRF: context.sessionCSRF)
        do {
            try await services.requeuePackage(caseID: id, purpose: .production, by: context.principal!)
        } catch let problem as Problem where problem.status == .conflict {
            return try await showCase(request, context, flash: nil, error: problem.detail, status: .conflict)
        }
        return .redirect(to: "/staff/cases/\(id.uuidString.lowercased())?flash=Build+queued")
    }

    // MARK: Customer notices (C5)

    @Sendable func noticesBoard(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let principal = context.principal!
        let notices = try await services.notices.notices(in: Set(CustomerNoticeState.allCases))
        var rows: [NoticeRowModel] = []
        for notice in notices {
            let subject = try await services.cases.findCase(id: notice.caseID)
            rows.append(NoticeRowModel(notice, caseNumber: subject?.number ?? "?", tenant: subject?.customer?.tenantName, canLift: principal.has(.reviewer)))
        }
        let dead = try await services.jobs.jobs(kinds: [NoticeStore.deliveryJob], statuses: [.dead]).map {
            DeadLetterModel(id: $0.id, caseID: $0.caseID, attempts: $0.attempts, lastError: $0.lastError, createdAt: $0.createdAt, canRetry: principal.has(.reviewer) || principal.has(.admin))
        }
        let warning = services.configuration.hasNoticeChannel
            ? nil : "No delivery channel is configured (CUSTOS_SMTP_HOST or CUSTOS_NOTICE_WEBHOOK_URL), so due notices wait here until one is."
        // Bars counted over the calendar year so far (UTC), as a transparency report would.
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let now = services.now()
        let year = calendar.component(.year, from: now)
        let yearStart = calendar.date(from: DateComponents(year: year, month: 1, day: 1))!
        let counts = try await services.notices.barCounts(from: yearStart, to: now.addingTimeInterval(1))
        return try render(
            "notices", "Customer notices", context,
            NoticesBoardModel(rows: rows, deadLetters: dead, channelWarning: warning, barPeriod: "\(year) so far", barCounts: counts),
            flash: request.uri.queryParameters.get("flash"))
    }

    @Sendable func liftNotice(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let id = try APIRoutes.uuid(context, "notice")
        let form = try await FormData.read(request, limit: 16 * 1024, expectedCSRF: context.sessionCSRF)
        guard let reason = form.value("reason")?.trimmingCharacters(in: .whitespacesAndNewlines), !reason.isEmpty else {
            throw Problem.invalid(field: "reason", "say why the bar no longer applies (order vacated, waiver obtained, …)")
        }
        guard try await services.notices.lift(noticeID: id, reason: reason, at: services.now(), by: context.principal!.actor) != nil else {
            throw Problem(.conflict, title: "Not held", detail: "only a held notice can be lifted")
        }
        return .redirect(to: "/staff/notices?flash=" + "Bar lifted; the notice is queued.".addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)
    }

    @Sendable func logWaiverEffort(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let id = try APIRoutes.uuid(context, "notice")
        let form = try await FormData.read(request, limit: 16 * 1024, expectedCSRF: context.sessionCSRF)
        guard let note = form.value("note")?.trimmingCharacters(in: .whitespacesAndNewlines), !note.isEmpty else {
            throw Problem.invalid(field: "note", "say what was done to obtain a waiver")
        }
        guard let notice = try await services.notices.logWaiverEffort(noticeID: id, note: note, at: services.now(), by: context.principal!.actor) else {
            throw Problem(.conflict, title: "Not held", detail: "waiver efforts are logged on a held notice")
        }
        return .redirect(to: "/staff/cases/\(notice.caseID.uuidString.lowercased())?flash=" + "Waiver effort recorded.".addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)
    }

    @Sendable func retryJob(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let id = try APIRoutes.uuid(context, "job")
        _ = try await FormData.read(request, limit: 4 * 1024, expectedCSRF: context.sessionCSRF)
        guard try await services.jobs.retry(id, at: services.now()) else {
            throw Problem(.conflict, title: "Not a dead letter", detail: "only a dead-lettered job can be retried")
        }
        return .redirect(to: "/staff/notices?flash=" + "Queued again.".addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)
    }

    // MARK: Requesters (issue 8: the agency directory and each requester's standing)

    // MARK: Customer portal (C5: a copy of the demand; C2 consent, C8 objection, C4 answering directly)

    /// The cases a customer may see: its tenant's, with a notice no bar holds back. Anything else is 404.
    func visibleCase(_ caseID: UUID, for principal: Principal) async throws -> (Case, Demand) {
        guard let tenantID = principal.tenantID,
            let subject = try await services.cases.findCase(id: caseID), AccessScope.canView(subject, as: principal),
            try await services.notices.visibleNotices(tenantID: tenantID).contains(where: { $0.caseID == caseID }),
            let demand = try await services.cases.findDemand(id: subject.demandID)
        else { throw Problem.notFound("case \(caseID)") }
        return (subject, demand)
    }

    @Sendable func customerPortal(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let principal = context.principal!
        let tenantID = principal.tenantID!
        var items: [CustomerNoticeItem] = []
        for notice in try await services.notices.visibleNotices(tenantID: tenantID) {
            guard let subject = try await services.cases.findCase(id: notice.caseID), AccessScope.canView(subject, as: principal),
                let demand = try await services.cases.findDemand(id: subject.demandID)
            else { continue }
            let hasProof = try await services.hasCustomerProof(caseID: subject.id)
            items.append(CustomerNoticeItem(
                subject, demand: demand, instrumentLabel: services.rulebook.instruments[demand.instrument.rawValue]?.label ?? demand.instrument.rawValue,
                hasLogProof: hasProof))
            try await services.recordRead("notice.viewed", caseID: subject.id, by: principal, details: ["via": "customer portal"])
        }
        let tenant = try await services.directory.tenants().first { $0.id == tenantID }
        let tenantName = tenant?.name ?? "your organisation"
        var contacts = try await services.directory.contacts(tenantID: tenantID).map(\.email)
        if contacts.isEmpty && tenant?.kind == .consumer { contacts = ["your account's email address"] }
        let webhook = try await services.directory.webhook(tenantID: tenantID)?.url
        return try render(
            "customer_notices", "Demands", context,
            CustomerPortalModel(tenantName: tenantName, items: items, noticeContacts: contacts, noticeWebhook: webhook),
            flash: request.uri.queryParameters.get("flash"))
    }

    @Sendable func customerDownload(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let principal = context.principal!
        let id = try APIRoutes.uuid(context, "document")
        guard let stored = try await services.cases.findDocument(id: id),
            let owner = try await services.cases.findCase(demandID: stored.demandID)
        else { throw Problem.notFound("document \(id)") }
        _ = try await visibleCase(owner.id, for: principal)
        try await services.recordRead(
            "document.downloaded", caseID: owner.id, by: principal,
            details: ["document": stored.document.filename, "sha256": stored.document.sha256, "via": "customer portal"])
        return Self.download(stored.document, stored.bytes)
    }

    /// The customer's proof that its demand is in the public legal-process log, with the openings
    /// of its own subject fields (tlog.md §6.8 V2). Only for cases the customer may see.
    @Sendable func customerLogProof(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let principal = context.principal!
        let id = try APIRoutes.uuid(context, "case")
        let (subject, _) = try await visibleCase(id, for: principal)
        guard let proof = try await services.customerProof(caseID: subject.id) else {
            throw Problem.notFound("a published log entry for case \(subject.number)")
        }
        try await services.recordRead("log.proof.downloaded", caseID: subject.id, by: principal, details: ["index": String(proof.index), "via": "customer portal"])
        return Response(
            status: .ok,
            headers: [
                .contentType: "text/plain; charset=utf-8",
                .contentDisposition: "attachment; filename=\"\(subject.number).tlog-proof\"",
            ],
            body: .init(byteBuffer: ByteBuffer(string: proof.serialized)))
    }

    /// Documents a customer may send with an objection, and how large each may be.
    static let maxObjectionDocuments = 5

    @Sendable func customerAnswer(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let principal = context.principal!
        let id = try APIRoutes.uuid(context, "case")
        let form = try await FormData.read(request, limit: services.configuration.maxRequestBytes, expectedCSRF: context.sessionCSRF)
        _ = try await visibleCase(id, for: principal)
        guard let raw = form.value("answer"), let answer = CustomerAnswer(rawValue: raw) else {
            throw Problem.invalid(field: "answer", "choose consent, object or answer_directly")
        }
        // A browser sends an empty file part when no file was chosen; that is not an attachment.
        let uploads = form.files.filter { !($0.filename.isEmpty && $0.bytes.isEmpty) }
            .map { DocumentUpload(filename: $0.filename, mediaType: $0.mediaType, bytes: $0.bytes, field: "attachment") }
        if !uploads.isEmpty && answer != .object {
            throw Problem.invalid(field: "attachment", "documents can be sent with an objection only")
        }
        if uploads.count > Self.maxObjectionDocuments {
            throw Problem.invalid(field: "attachment", "at most \(Self.maxObjectionDocuments) documents")
        }
        let limits = DemandLimits(maxDocumentBytes: services.configuration.maxDocumentBytes, maxDocuments: Self.maxObjectionDocuments)
        let checked = DemandDocument.check(uploads, limits: limits, makeID: { UUID() })
        if let issue = checked.issues.first { throw Problem.invalid(field: issue.field, issue.message) }
        do {
            _ = try await services.cases.apply(
                .customerAnswer(answer, note: form.value("note"), attachments: checked.documents), toCase: id, at: services.now(),
                by: principal.actor, attachmentBytes: checked.bytes)
        } catch let refusal as WorkflowRefusal {
            throw refusal.problem
        }
        return .redirect(to: "/customer?flash=" + "Thank you: your answer is recorded.".addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)
    }

    /// A document a customer sent with an objection; staff only, and every download is logged.
    @Sendable func downloadAttachment(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let principal = context.principal!
        let id = try APIRoutes.uuid(context, "attachment")
        guard let found = try await services.cases.findAttachment(id: id),
            let caseRecord = try await services.cases.findCase(id: found.caseID), AccessScope.canView(caseRecord, as: principal)
        else { throw Problem.notFound("attachment \(id)") }
        try await services.recordRead(
            "attachment.downloaded", caseID: caseRecord.id, by: principal,
            details: ["document": found.document.filename, "sha256": found.document.sha256, "from": "customer"])
        return Self.download(found.document, found.bytes)
    }

    @Sendable func download(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let principal = context.principal!
        let id = try APIRoutes.uuid(context, "document")
        guard let stored = try await services.cases.findDocument(id: id),
            let caseRecord = try await services.cases.findCase(demandID: stored.demandID), AccessScope.canView(caseRecord, as: principal)
        else { throw Problem.notFound("document \(id)") }
        try await services.recordRead(
            "document.downloaded", caseID: caseRecord.id, by: principal,
            details: ["document": stored.document.filename, "sha256": stored.document.sha256])
        return Self.download(stored.document, stored.bytes)
    }

    /// The case's production package, for staff checking it before release; every download is
    /// logged with its size (the agency's expiring download comes with release, issue 5).
    @Sendable func downloadPackage(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let principal = context.principal!
        let id = try APIRoutes.uuid(context, "case")
        guard let subject = try await services.cases.findCase(id: id), AccessScope.canView(subject, as: principal),
            let package = try? await services.openPackage(caseID: id)
        else { throw Problem.notFound("package of case \(id)") }
        try await services.recordRead("package.downloaded", caseID: id, by: principal, details: ["bytes": String(package.plainSize), "via": "console"])
        return packageDownload(package, named: subject.number)
    }

    /// The released package for the requester that asked for it (C3): its own login, an open link,
    /// every download logged with who, when, from where and how many bytes.
    @Sendable func agencyPackage(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let principal = context.principal!
        let id = try APIRoutes.uuid(context, "case")
        guard let subject = try await services.cases.findCase(id: id), AccessScope.canView(subject, as: principal),
            let link = try await services.packageLinks.link(caseID: id), link.agencyID == principal.agencyID
        else { throw Problem.notFound("package of case \(id)") }
        let address = clientAddress(request, context)
        var refusal = link.refusal(at: services.now())
        if refusal == nil, let record = try await services.packages.record(caseID: id, purpose: .production), record.status == .deleted {
            refusal = "the package was deleted \(record.deletedAt.map(Timestamp.format) ?? "") under the provider's retention policy"
        }
        if let refusal {
            try await services.cases.record(AuditRecord(
                caseID: id, subject: "case:\(id.uuidString.lowercased())", action: "package.download_refused", outcome: .refused,
                actor: principal.actor.auditName, at: services.now(), details: ["reason": refusal, "address": address]))
            throw Problem(.gone, title: "Download no longer available", detail: refusal + "; ask the provider if you still need it")
        }
        guard let package = try? await services.openPackage(caseID: id) else { throw Problem.notFound("package of case \(id)") }
        try await services.recordRead(
            "package.downloaded", caseID: id, by: principal,
            details: ["bytes": String(package.plainSize), "via": "agency portal", "address": address, "link": link.id.uuidString.lowercased()])
        return packageDownload(package, named: subject.number)
    }

    /// Who downloaded, for the log: the peer address, or behind a reverse proxy that the provider
    /// trusts (`CUSTOS_TRUST_FORWARDED_FOR=true`) the first address of `X-Forwarded-For`.
    func clientAddress(_ request: Request, _ context: AppRequestContext) -> String {
        Self.clientAddress(
            forwardedFor: request.headers[HTTPField.Name("X-Forwarded-For")!], peer: context.remoteAddress,
            trustForwardedFor: services.configuration.trustForwardedFor)
    }

    /// The first `X-Forwarded-For` address (the client, as the trusted proxy saw it) when trusted,
    /// else the peer; an untrusted header is ignored, since any client can send one.
    static func clientAddress(forwardedFor: String?, peer: String?, trustForwardedFor: Bool) -> String {
        if trustForwardedFor, let forwarded = forwardedFor,
            let first = forwarded.split(separator: ",").first?.trimmingCharacters(in: .whitespaces), !first.isEmpty
        {
            return String(first.prefix(64))
        }
        return peer ?? ""
    }

    /// A package ZIP streamed from its blob store in chunks, so a large package never sits in
    /// memory. The plain ZIP, unsealed a chunk at a time as it is sent (no plain copy is written
    /// anywhere). A chunk that does not authenticate ends the response early, so the client sees
    /// a broken download, never altered bytes.
    func packageDownload(_ package: SealedBlobReader, named number: String) -> Response {
        Response(
            status: .ok,
            headers: [.contentType: "application/zip", .contentDisposition: "attachment; filename=\"\(number).zip\"", .cacheControl: "no-store"],
            body: ResponseBody(contentLength: package.plainSize) { writer in
                while let piece = try await package.next() {
                    if !piece.isEmpty { try await writer.write(ByteBuffer(bytes: piece)) }
                }
                try await writer.finish(nil)
            })
    }

    /// A stored file as a download that no cache keeps.
    static func download(_ document: DemandDocument, _ bytes: Data) -> Response {
        let safeName = document.filename.replacingOccurrences(of: "\"", with: "")
        return Response(
            status: .ok,
            headers: [.contentType: document.mediaType, .contentDisposition: "attachment; filename=\"\(safeName)\"", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// The redirect letter (C4) for the agency that submitted the demand; 404 for anyone else.
    func redirectLetter(_ request: Request, _ context: AppRequestContext, plain: Bool) async throws -> Response {
        let id = try APIRoutes.uuid(context, "case")
        guard let subject = try await services.cases.findCase(id: id), AccessScope.canView(subject, as: context.principal!),
            let letter = subject.redirectLetter
        else { throw Problem.notFound("redirect letter for case \(id)") }
        if plain {
            return Response(
                status: .ok,
                headers: [.contentType: "text/plain; charset=utf-8", .contentDisposition: "attachment; filename=\"redirect-\(subject.number).txt\""],
                body: .init(byteBuffer: ByteBuffer(string: letter + "\n")))
        }
        let path = "/agency/cases/\(id.uuidString.lowercased())"
        return try render(
            "letter", "Redirect letter", context,
            LetterModel(
                heading: "Redirect letter for case \(subject.number)", text: letter, downloadPath: path + "/redirect-letter.txt",
                answerPath: subject.state == .redirectPending ? path + "/redirect-answer" : nil, answerDueAt: subject.redirectAnswerDueAt,
                now: services.now()),
            flash: request.uri.queryParameters.get("flash"))
    }

    /// The requester's answer to the redirect (C4): approach the customer, insist (with reasons), or withdraw.
    @Sendable func agencyRedirectAnswer(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let principal = context.principal!
        let id = try APIRoutes.uuid(context, "case")
        let form = try await FormData.read(request, limit: 64 * 1024, expectedCSRF: context.sessionCSRF)
        guard let subject = try await services.cases.findCase(id: id), AccessScope.canView(subject, as: principal) else {
            throw Problem.notFound("case \(id)")
        }
        guard let raw = form.value("answer"), let answer = AgencyAnswer(rawValue: raw) else {
            throw Problem.invalid(field: "answer", "choose \(AgencyAnswer.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        _ = try await services.apply(.agencyAnswer(answer, note: form.value("note")), toCase: id, by: principal)
        return .redirect(to: "/agency/demands?flash=" + "Your answer on case \(subject.number) is recorded.".addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)
    }

    // MARK: Agency portal

    @Sendable func agencyDemands(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let principal = context.principal!
        let agencyID = principal.agencyID!
        let agency = try await services.directory.findAgency(id: agencyID)
        let now = services.now()
        let (limit, before) = try RequestReading.agencyDemandPage(request)
        let page = try await services.cases.listDemands(agencyID: agencyID, limit: limit, before: before)
        var rows: [CaseRowModel] = []
        for item in page.demands {
            var row = CaseRowModel(item.caseRecord, reference: item.demand.caseReference, now: now)
            if item.caseRecord.state == .released || item.caseRecord.state == .closed,
                let link = try await services.packageLinks.link(caseID: item.caseRecord.id), link.refusal(at: now) == nil
            {
                row.packagePath = "/agency/cases/\(item.caseRecord.id.uuidString.lowercased())/package"
                row.packageUntil = Timestamp.format(link.expiresAt)
            }
            rows.append(row)
        }
        let model = AgencyDemandsModel(
            agencyName: agency?.name ?? "", rows: rows, isFirstPage: before == nil,
            olderPath: page.next.map { "/agency/demands?limit=\(limit)&before=\($0.uuidString.lowercased())" })
        return try render("agency_demands", "Your demands", context, model, flash: request.uri.queryParameters.get("flash"))
    }

    func newDemandPage(_ context: AppRequestContext, issues: [ValidationIssue], values: [String: String], status: HTTPResponse.Status = .ok) throws -> Response {
        let selectedCategories = Set((values["categories"] ?? "").split(separator: ",").map(String.init))
        let model = DemandFormModel(
            instruments: LegalInstrument.allCases.map { Option(value: $0.rawValue, label: $0.rawValue, isSelected: $0.rawValue == values["instrument"]) },
            roles: IssuerRole.allCases.map { Option(value: $0.rawValue, label: $0.rawValue, isSelected: $0.rawValue == values["authorityRole"]) },
            categories: DataCategory.allCases.map { Option(value: $0.rawValue, label: $0.label, isSelected: selectedCategories.contains($0.rawValue)) },
            targetTypes: TargetType.allCases.map { Option(value: $0.rawValue, label: $0.rawValue, isSelected: $0.rawValue == values["targetType"]) },
            issues: issues, values: values)
        return try render("agency_new_demand", "Submit a demand", context, model, status: status)
    }

    @Sendable func agencySubmit(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let form = try await FormData.read(request, limit: services.configuration.maxRequestBytes, expectedCSRF: context.sessionCSRF)
        var values: [String: String] = [:]
        for name in ["instrument", "jurisdiction", "subdivision", "authorityName", "authorityRole", "caseReference", "targetType", "targetValue", "windowFrom", "windowTo", "ndoBasis", "ndoUntil", "emergencyStatement", "dsaCategory"] {
            values[name] = form.value(name) ?? ""
        }
        values["categories"] = form.values("categories[]").joined(separator: ",")
        let hasWindow = form.value("windowFrom") != nil || form.value("windowTo") != nil
        let hasOrder = form.value("ndoBasis") != nil || form.value("ndoUntil") != nil || form.value("ndoIndefinite") == "true"
        let draft = DemandDraft(
            instrument: form.value("instrument"), jurisdiction: form.value("jurisdiction")?.uppercased(), subdivision: form.value("subdivision"),
            issuingAuthority: .init(name: form.value("authorityName"), role: form.value("authorityRole")),
            caseReference: form.value("caseReference"),
            targets: [.init(type: form.value("targetType"), value: form.value("targetValue"))],
            categories: form.values("categories[]"),
            window: hasWindow ? .init(from: form.value("windowFrom"), to: form.value("windowTo")) : nil,
            emergency: form.value("emergency") == "true", preservation: form.value("preservation") == "true",
            nonDisclosureOrder: hasOrder ? .init(basis: form.value("ndoBasis"), until: form.value("ndoUntil"), indefinite: form.value("ndoIndefinite") == "true") : nil,
            dsaCategory: form.value("dsaCategory").flatMap { $0.isEmpty ? nil : $0 }, emergencyStatement: form.value("emergencyStatement"))
        let uploads = form.files.map { DocumentUpload(filename: $0.filename, mediaType: $0.mediaType, bytes: $0.bytes, field: "document") }
        do {
            let submission = try await services.submitDemand(
                draft, uploads: uploads, by: context.principal!, credential: context.credential, idempotencyKey: nil, requestHash: UUID().uuidString)
            let flash = "Demand received as case \(submission.caseRecord.number)".addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
            return .redirect(to: "/agency/demands?flash=\(flash)")
        } catch let problem as Problem where !problem.issues.isEmpty {
            return try newDemandPage(context, issues: problem.issues, values: values, status: .unprocessableContent)
        } catch let problem as Problem where problem.status == .forbidden {
            // Issue 8: a requester's standing or missing emergency permission, said on the form.
            return try newDemandPage(
                context, issues: [ValidationIssue(field: "account", message: problem.detail.isEmpty ? "may not submit this demand" : problem.detail)], values: values, status: .forbidden)
        }
    }
}
