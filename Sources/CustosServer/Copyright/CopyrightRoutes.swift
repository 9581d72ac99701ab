import CustosDomain
import CustosStorage
import CustosWeb
import Foundation
import HTTPTypes
import Hummingbird

/// Copyright notices on the web and the API (issue 9): the public form and API for rights holders
/// (no account, rate-limited per address, confirmed by mail), the sender's page, the customer's
/// answers, and the staff board with takedown, restoration and suspension decisions.
struct CopyrightRoutes {
    let services: CustosServices
    let limiter: RateLimiter
    var web: WebRoutes { WebRoutes(services: services) }

    func register(on router: inout SecuredRouter) {
        router.on(.get, "/copyright/notice", .open, .page) { _, context in try formPage(context) }
        router.on(.post, "/copyright/notice", .open, .page, use: submitForm)
        router.on(.get, "/copyright/notices/status", .open, .page) { request, context in
            try await statusPage(token: request.uri.queryParameters.get("token") ?? "", context, flash: request.uri.queryParameters.get("flash"))
        }
        router.on(.post, "/copyright/notices/confirm", .open, .page, use: confirm)
        router.on(.post, "/copyright/notices/court-action", .open, .page, use: courtAction)
        router.on(.post, "/api/v1/copyright/notices", .open, .api, use: apiSubmit)
        router.on(.get, "/api/v1/copyright/notices", .staff([]), .api, use: apiList)
        router.on(.get, "/api/v1/copyright/lumen", .staff([]), .api, use: apiLumen)
        router.on(.get, "/customer/copyright", .customer, .page, use: customerPage)
        router.on(.post, "/customer/copyright/:id/removed", .customer, .page, use: customerRemoved)
        router.on(.post, "/customer/copyright/:id/counter-notice", .customer, .page, use: customerCounter)
        router.on(.get, "/staff/copyright", .staff([]), .page, use: board)
        router.on(.post, "/staff/copyright/:id/takedown", .staff([.reviewer, .custodian]), .page, use: takedown)
        router.on(.post, "/staff/copyright/:id/restoration", .staff([.reviewer, .custodian]), .page, use: restoration)
        router.on(.post, "/staff/copyright/suspensions/:id", .staff([.admin]), .page, use: decideSuspension)
    }

    /// Public forms are limited per client address; over the limit is a 429 with Retry-After.
    func admit(_ request: Request, _ context: AppRequestContext) async throws {
        let address = WebRoutes.clientAddress(
            forwardedFor: request.headers[HTTPField.Name("X-Forwarded-For")!], peer: context.remoteAddress,
            trustForwardedFor: services.configuration.trustForwardedFor)
        if let wait = try await limiter.admit(address.isEmpty ? "unknown" : address, at: services.now()) {
            throw Problem(.tooManyRequests, detail: "too many notices from this address; try again in \(wait) seconds", extraHeaders: ["Retry-After": String(wait)])
        }
    }

    static func lines(_ text: String?) -> [String] {
        (text ?? "").split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    // MARK: Rights holders

    func formPage(_ context: AppRequestContext, error: String? = nil, status: HTTPResponse.Status = .ok) throws -> Response {
        let token = SQLIdentityRepository.makeSecret()
        var response = try web.render("copyright_form", "Report copyright infringement", context, MessageModel(heading: "", text: ""), error: error, status: status, csrf: token)
        response.setCookie(Cookie(name: WebRoutes.loginCSRFCookie, value: token, path: "/", secure: services.configuration.secureCookies, httpOnly: true, sameSite: .strict))
        return response
    }

    @Sendable func submitForm(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let form = try await FormData.read(request, limit: 64 * 1024, expectedCSRF: request.cookies[WebRoutes.loginCSRFCookie]?.value)
        try await admit(request, context)
        let text = CopyrightNoticeText(
            complainant: Complainant(
                name: form.value("name") ?? "", organisation: form.value("organisation"), email: form.value("email") ?? "",
                address: form.value("address"), phone: form.value("phone"), country: form.value("country")?.uppercased()),
            rightsOwner: form.value("owner"),
            works: [CopyrightWork(description: form.value("work") ?? "", copyrightedURLs: Self.lines(form.value("original")), infringingURLs: Self.lines(form.value("infringing")))],
            signature: form.value("signature") ?? "", goodFaithStatement: form.value("goodFaith") == "true", accuracyUnderPenaltyOfPerjury: form.value("perjury") == "true")
        do {
            let (notice, _) = try await services.fileCopyrightNotice(text)
            return try web.render(
                "message", "Notice received", context,
                MessageModel(heading: "Check your mailbox", text: "Notice \(notice.number) is received. We sent a link to \(text.complainant.email): open it and confirm the notice; nothing happens before that."),
                status: .accepted)
        } catch let problem as Problem where !problem.issues.isEmpty {
            return try formPage(context, error: problem.detail, status: .unprocessableContent)
        }
    }

    func statusPage(token: String, _ context: AppRequestContext, flash: String? = nil, error: String? = nil, status: HTTPResponse.Status = .ok) async throws -> Response {
        guard let notice = try await services.copyright.find(token: token) else {
            return try web.render("message", "Not found", context, MessageModel(heading: "Not found", text: "This link belongs to no notice."), status: .notFound)
        }
        var model = CopyrightNoticeModel(notice, basePath: "/copyright/notices", now: services.now(), sender: true)
        model.token = token
        let csrf = SQLIdentityRepository.makeSecret()
        var response = try web.render("copyright_status", "Notice \(notice.number)", context, model, flash: flash, error: error, status: status, csrf: csrf)
        response.setCookie(Cookie(name: WebRoutes.loginCSRFCookie, value: csrf, path: "/", secure: services.configuration.secureCookies, httpOnly: true, sameSite: .strict))
        return response
    }

    func statusRedirect(_ token: String, _ flash: String) -> Response {
        .redirect(to: "/copyright/notices/status?token=\(token)&flash=" + flash.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)
    }

    @Sendable func confirm(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let form = try await FormData.read(request, limit: 4096, expectedCSRF: request.cookies[WebRoutes.loginCSRFCookie]?.value)
        let token = form.value("token") ?? ""
        do {
            let notice = try await services.confirmCopyrightNotice(token: token)
            return statusRedirect(token, "Notice confirmed: \(notice.state.label).")
        } catch let problem as Problem where problem.status == .conflict {
            return try await statusPage(token: token, context, error: problem.detail, status: .conflict)
        }
    }

    @Sendable func courtAction(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let form = try await FormData.read(request, limit: 8192, expectedCSRF: request.cookies[WebRoutes.loginCSRFCookie]?.value)
        let token = form.value("token") ?? ""
        guard let notice = try await services.copyright.find(token: token) else { throw Problem.notFound("copyright notice") }
        do {
            try await services.changeCopyright(notice.id, .reportCourtAction(reference: form.value("reference") ?? ""), by: notice.text.complainant.email)
            return statusRedirect(token, "Court action recorded: the material is not restored.")
        } catch let problem as Problem where problem.status == .conflict {
            return try await statusPage(token: token, context, error: problem.detail, status: .conflict)
        }
    }

    /// The API's notice: the domain's `CopyrightNoticeText` as JSON.
    @Sendable func apiSubmit(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try RequestReading.requireJSON(request)
        // A notice is text: 256 KiB is plenty, and never more than the installation's request limit.
        let body = try await RequestReading.body(request, limit: min(256 * 1024, services.configuration.maxRequestBytes))
        try await admit(request, context)
        let text = try RequestReading.decodeStrictJSON(CopyrightNoticeText.self, from: body)
        let (notice, _) = try await services.fileCopyrightNotice(text)
        return try .json(
            ["id": notice.id.uuidString.lowercased(), "number": notice.number, "state": notice.state.rawValue,
             "next": "open the link sent to \(text.complainant.email) to confirm the notice"], status: .accepted)
    }

    @Sendable func apiList(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let notices = try await services.copyright.list(limit: 500)
        try await services.recordCopyrightRead(by: context.principal!, details: ["via": "api", "count": String(notices.count)])
        return try .json(notices.map {
            ["id": $0.id.uuidString.lowercased(), "number": $0.number, "state": $0.state.rawValue, "receivedAt": Timestamp.format($0.receivedAt),
             "tenant": $0.tenantName ?? "", "validity": $0.validity?.rawValue ?? ""]
        })
    }

    /// Lumen's format (anchors.md): `?from=YYYY-MM-DD&to=YYYY-MM-DD`, personal data redacted,
    /// only notices older than `CUSTOS_LUMEN_DELAY_DAYS`.
    @Sendable func apiLumen(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let query = request.uri.queryParameters
        func day(_ name: String, _ fallback: Date) throws -> Date {
            guard let text = query.get(name) else { return fallback }
            guard let date = Timestamp.parse(text + "T00:00:00Z") else { throw Problem.invalid(field: name, "must be a date like 2026-01-31") }
            return date
        }
        let now = services.now()
        let from = try day("from", Date(timeIntervalSince1970: 0))
        let to = try day("to", now.addingTimeInterval(86_400))
        let envelopes = LumenExport.envelopes(
            try await services.copyright.received(from: from, to: to), provider: services.configuration.reportService, at: now,
            delay: TimeInterval(services.configuration.lumenDelayDays) * 86_400)
        return try .json(envelopes)
    }

    // MARK: Customers

    func customerNotice(_ context: AppRequestContext) async throws -> CopyrightCase {
        let id = try APIRoutes.uuid(context, "copyright notice")
        guard let notice = try await services.copyright.find(id: id), notice.tenantID != nil, notice.tenantID == context.principal?.tenantID else {
            throw Problem.notFound("copyright notice \(id)")
        }
        return notice
    }

    @Sendable func customerPage(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try await renderCustomerPage(request, context, error: nil, status: .ok)
    }

    func renderCustomerPage(_ request: Request, _ context: AppRequestContext, error: String?, status: HTTPResponse.Status) async throws -> Response {
        let tenantID = context.principal!.tenantID!
        let notices = try await services.copyright.list(tenantID: tenantID).filter { $0.state != .awaitingConfirmation }
        let strikes = try await services.copyright.strikes(tenantID: tenantID).filter { $0.withdrawnAt == nil }
        let counting = services.repeatInfringerPolicy.counting(strikes.map(\.at), at: services.now()).count
        let model = CustomerCopyrightModel(
            notices: notices.map { CopyrightNoticeModel($0, basePath: "/customer/copyright", now: services.now(), customer: true) }, strikes: counting,
            policy: policyText)
        return try web.render(
            "customer_copyright", "Copyright notices", context, model, flash: request.uri.queryParameters.get("flash"), error: error, status: status)
    }

    var policyText: String {
        let policy = services.repeatInfringerPolicy
        return "\(policy.threshold) strikes within \(Int(policy.window / 86_400)) days open a suspension case (17 U.S.C. § 512(i)(1)(A))"
    }

    func customerResult(_ request: Request, _ context: AppRequestContext, _ change: () async throws -> Void, done: String) async throws -> Response {
        do {
            try await change()
            return WebRoutes.flashRedirect("/customer/copyright", done)
        } catch let problem as Problem where problem.status == .conflict {
            return try await renderCustomerPage(request, context, error: problem.detail, status: .unprocessableContent)
        }
    }

    @Sendable func customerRemoved(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let form = try await FormData.read(request, limit: 8192, expectedCSRF: context.sessionCSRF)
        let notice = try await customerNotice(context)
        return try await customerResult(request, context, {
            try await services.changeCopyright(notice.id, .customerRemoved(note: form.value("note")), by: context.principal!.email)
        }, done: "Thank you: \(notice.number) is marked removed; we confirm the takedown.")
    }

    @Sendable func customerCounter(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let form = try await FormData.read(request, limit: 16 * 1024, expectedCSRF: context.sessionCSRF)
        let notice = try await customerNotice(context)
        let counter = CounterNoticeText(
            signature: form.value("signature") ?? "", material: form.value("material") ?? "", mistakeUnderPenaltyOfPerjury: form.value("mistake") == "true",
            name: form.value("name") ?? "", address: form.value("address") ?? "", phone: form.value("phone") ?? "",
            consentsToJurisdiction: form.value("jurisdiction") == "true", acceptsService: form.value("service") == "true")
        return try await customerResult(request, context, {
            try await services.changeCopyright(notice.id, .counterNotice(counter), by: context.principal!.email)
        }, done: "Counter-notice to \(notice.number) received and forwarded to the complainant.")
    }

    // MARK: Staff

    @Sendable func board(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try await showBoard(request, context, error: nil, status: .ok)
    }

    func showBoard(_ request: Request, _ context: AppRequestContext, error: String?, status: HTTPResponse.Status) async throws -> Response {
        let principal = context.principal!
        let notices = try await services.copyright.list()
        try await services.recordCopyrightRead(by: principal, details: ["via": "console", "count": String(notices.count)])
        let tenants = Dictionary(uniqueKeysWithValues: try await services.directory.tenants().map { ($0.id, $0.name) })
        let canAct = principal.has(.reviewer) || principal.has(.custodian)
        let period = ReportPeriod.halfYear(containing: services.now())
        let model = CopyrightBoardModel(
            notices: notices.map { CopyrightNoticeModel($0, basePath: "/staff/copyright", now: services.now(), staff: canAct) },
            suspensions: try await services.copyright.suspensions().map {
                CopyrightBoardModel.SuspensionModel(
                    id: $0.id, tenant: tenants[$0.tenantID] ?? "?", openedAt: $0.openedAt, state: $0.state, notices: $0.notices,
                    decision: $0.note.map { [by = $0.decidedBy ?? ""] note in "\(note) (\(by))" })
            }, policy: policyText, canDecide: principal.has(.admin), period: "Copyright notices, \(period.description)",
            figures: try await services.copyright.figures(in: period))
        return try web.render("copyright_board", "Copyright", context, model, flash: request.uri.queryParameters.get("flash"), error: error, status: status)
    }

    func staffChange(_ request: Request, _ context: AppRequestContext, _ event: (String?) -> CopyrightEvent, done: String) async throws -> Response {
        let form = try await FormData.read(request, limit: 8192, expectedCSRF: context.sessionCSRF)
        let id = try APIRoutes.uuid(context, "copyright notice")
        do {
            let notice = try await services.changeCopyright(id, event(form.value("note")), by: context.principal!.actor.auditName)
            return WebRoutes.flashRedirect("/staff/copyright", "\(notice.number): \(done)")
        } catch let problem as Problem where problem.status == .conflict {
            return try await showBoard(request, context, error: problem.detail, status: .conflict)
        }
    }

    @Sendable func takedown(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try await staffChange(request, context, { .recordTakedown(note: $0) }, done: "takedown recorded.")
    }

    @Sendable func restoration(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try await staffChange(request, context, { .recordRestoration(note: $0) }, done: "restoration recorded.")
    }

    @Sendable func decideSuspension(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let form = try await FormData.read(request, limit: 8192, expectedCSRF: context.sessionCSRF)
        let id = try APIRoutes.uuid(context, "suspension case")
        guard let note = form.value("note") else { throw Problem.invalid(field: "note", "say why") }
        let decision = form.value("decision")
        guard decision == "terminate" || decision == "keep" else { throw Problem.invalid(field: "decision", "must be terminate or keep") }
        do {
            _ = try await services.copyright.decideSuspension(id: id, terminate: decision == "terminate", note: note, by: context.principal!.actor.auditName, at: services.now())
        } catch StorageError.notFound(let what) {
            throw Problem.notFound(what)
        } catch StorageError.conflict(let why) {
            return try await showBoard(request, context, error: why, status: .conflict)
        }
        return WebRoutes.flashRedirect("/staff/copyright", decision == "terminate" ? "Service ends under the terms of use." : "Service kept; reason recorded.")
    }
}
