import HTTPTypes
import Crypto
import CustosDomain
import CustosStorage
import Foundation
import Hummingbird

/// `GET /ready`'s answer.
struct Readiness: Encodable {
    var status: String
    var instance: String
    var problems: [String]
}

/// The JSON API v1, described by `/openapi.yaml`.
struct APIRoutes {
    let services: CustosServices

    func register(on router: inout SecuredRouter) {
        router.on(.get, "/health", .open, .api) { _, _ in try .json(["status": "ok"]) }
        router.on(.get, "/ready", .open, .api) { [services] _, _ in
            let problems = await services.readinessProblems()
            return try .json(
                Readiness(status: problems.isEmpty ? "ready" : "not_ready", instance: services.run.runID, problems: problems),
                status: problems.isEmpty ? .ok : .serviceUnavailable)
        }
        router.on(.get, "/openapi.yaml", .open, .api) { _, _ in
            guard let url = Bundle.module.url(forResource: "openapi", withExtension: "yaml", subdirectory: "Resources"),
                let text = try? String(contentsOf: url, encoding: .utf8)
            else { throw Problem(.internalServerError, detail: "the API description is missing from this build") }
            return Response(status: .ok, headers: [.contentType: "application/yaml"], body: .init(byteBuffer: ByteBuffer(string: text)))
        }
        // C3, C12: anyone can check a production package against this key with stock OpenSSL.
        router.on(.get, "/.well-known/custos/signing-key.pem", .open, .api) { [services] _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/x-pem-file"],
                body: .init(byteBuffer: ByteBuffer(string: services.signingKey.publicKeyPEM)))
        }
        router.on(.post, "/api/v1/demands", .agency, .api, use: submitDemand)
        router.on(.get, "/api/v1/demands", .agency, .api, use: listDemands)
        router.on(.get, "/api/v1/demands/:id", .agency, .api, use: showDemand)
        router.on(.post, "/api/v1/demands/:id/events", .agency, .api, use: agencyEvent)
        router.on(.get, "/api/v1/cases", .staff([]), .api, use: listCases)
        router.on(.get, "/api/v1/cases/:id", .staff([]), .api, use: showCase)
        router.on(.post, "/api/v1/cases/:id/events", .staff([]), .api, use: staffEvent)
        router.on(.post, "/api/v1/cases/:id/production", .staff([.custodian]), .api, use: buildProduction)
        router.on(.get, "/api/v1/cases/:id/production", .staff([]), .api, use: productionStatus)
        router.on(.post, "/api/v1/cases/:id/production/revoke", .staff([.reviewer, .approver]), .api, use: revokeProduction)
    }

    static func uuid(_ context: AppRequestContext, _ what: String) throws -> UUID {
        guard let raw = context.parameters.get("id"), let id = UUID(uuidString: raw) else { throw Problem.notFound(what) }
        return id
    }

    @Sendable func submitDemand(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let principal = context.principal!
        let body = try await RequestReading.body(request, limit: services.configuration.maxRequestBytes)
        var draft: DemandDraft
        var uploads: [DocumentUpload] = []
        switch RequestReading.mediaType(of: request) {
        case "application/json":
            draft = try RequestReading.decodeStrictJSON(DemandDraft.self, from: body)
            for (index, document) in (draft.documents ?? []).enumerated() {
                let field = "documents[\(index)]"
                guard let base64 = document.base64 else { throw Problem.invalid(field: "\(field).base64", "is required") }
                guard let bytes = Data(base64Encoded: base64, options: .ignoreUnknownCharacters) else {
                    throw Problem.invalid(field: "\(field).base64", "is not valid base64")
                }
                uploads.append(DocumentUpload(
                    filename: document.filename ?? "", mediaType: (document.mediaType ?? "").lowercased(), bytes: bytes, field: field))
            }
            draft.documents = nil
        case "multipart/form-data":
            // Parts: `demand` (the JSON object) plus one file part per document.
            guard let boundary = FormData.boundary(of: request) else { throw Problem.invalid(field: "Content-Type", "needs a boundary parameter") }
            let form = try FormData.parseMultipart(body, boundary: boundary)
            guard let json = form.value("demand") else { throw Problem.invalid(field: "demand", "multipart requests need a `demand` part holding the JSON object") }
            draft = try RequestReading.decodeStrictJSON(DemandDraft.self, from: Data(json.utf8))
            uploads = form.files.enumerated().map { index, file in
                DocumentUpload(filename: file.filename, mediaType: file.mediaType, bytes: file.bytes, field: "documents[\(index)]")
            }
        default:
            throw Problem(.unsupportedMediaType, detail: "send application/json (documents as base64) or multipart/form-data")
        }
        let key = request.headers[HTTPField.Name("Idempotency-Key")!]
        // Visible ASCII only: the key is echoed in logs and compared byte for byte.
        if let key, key.isEmpty || key.utf8.count > 200 || !key.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) {
            throw Problem.invalid(field: "Idempotency-Key", "must be 1 to 200 visible ASCII characters")
        }
        let hash = Hex.encode(SHA256.hash(data: body))
        let submission = try await services.submitDemand(draft, uploads: uploads, by: principal, credential: context.credential, idempotencyKey: key, requestHash: hash)
        var headers: HTTPFields = [.location: "/api/v1/demands/\(submission.demand.id.uuidString.lowercased())"]
        if submission.isReplay { headers[HTTPField.Name("Idempotent-Replayed")!] = "true" }
        return try .json(DemandSummary(submission.demand, submission.caseRecord), status: .created, headers: headers)
    }

    /// The calling agency's demands, newest first, a page at a time; a `Link` header (RFC 8288)
    /// names the next page while there is one.
    @Sendable func listDemands(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let (limit, before) = try RequestReading.agencyDemandPage(request)
        let page = try await services.cases.listDemands(agencyID: context.principal!.agencyID!, limit: limit, before: before)
        var headers: HTTPFields = [:]
        if let next = page.next { headers[HTTPField.Name("Link")!] = "</api/v1/demands?limit=\(limit)&before=\(next.uuidString.lowercased())>; rel=\"next\"" }
        return try .json(page.demands.map { DemandSummary($0.demand, $0.caseRecord) }, headers: headers)
    }

    /// Another agency's demand answers 404, so its existence does not leak.
    func ownDemand(_ context: AppRequestContext) async throws -> (Demand, Case) {
        let id = try Self.uuid(context, "demand")
        guard let demand = try await services.cases.findDemand(id: id), demand.agencyID == context.principal?.agencyID,
            let caseRecord = try await services.cases.findCase(demandID: id)
        else { throw Problem.notFound("demand \(id)") }
        return (demand, caseRecord)
    }

    @Sendable func showDemand(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let (demand, caseRecord) = try await ownDemand(context)
        return try .json(DemandSummary(demand, caseRecord))
    }

    @Sendable func agencyEvent(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let (demand, caseRecord) = try await ownDemand(context)
        try RequestReading.requireJSON(request)
        let body = try await RequestReading.body(request, limit: 64 * 1024)
        let event = try RequestReading.decodeStrictJSON(EventRequest.self, from: body)
        let updated = try await services.apply(event, toCase: caseRecord.id, by: context.principal!)
        return try .json(DemandSummary(demand, updated))
    }

    @Sendable func listCases(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let query = request.uri.queryParameters
        var filter = CaseFilter()
        if let raw = query.get("state"), !raw.isEmpty {
            guard let state = CaseState(rawValue: raw) else {
                throw Problem.invalid(field: "state", "unknown state \"\(raw)\"; expected one of \(CaseState.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            filter.state = state
        }
        if let raw = query.get("country"), !raw.isEmpty {
            guard Jurisdiction.countryCodes.contains(raw) else { throw Problem.invalid(field: "country", "must be an ISO 3166-1 alpha-2 code in capitals (US, DE)") }
            filter.country = raw
        }
        if let raw = query.get("instrument"), !raw.isEmpty {
            guard let instrument = LegalInstrument(rawValue: raw) else { throw Problem.invalid(field: "instrument", "unknown instrument \"\(raw)\"") }
            filter.instrument = instrument
        }
        return try .json(try await services.cases.listCases(filter))
    }

    @Sendable func showCase(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let principal = context.principal!
        let id = try Self.uuid(context, "case")
        guard let caseRecord = try await services.cases.findCase(id: id), AccessScope.canView(caseRecord, as: principal) else {
            throw Problem.notFound("case \(id)")
        }
        try await services.recordRead("case.viewed", caseID: id, by: principal, details: ["via": "api"])
        let detail = CaseDetail(
            caseRecord: caseRecord, demand: try await services.cases.findDemand(id: caseRecord.demandID),
            timeline: try await services.cases.timeline(caseID: id),
            availableEvents: CaseWorkflow.availableEvents(on: caseRecord, for: principal.actor).map(\.rawValue))
        return try .json(detail)
    }

    /// Queues the package build of a case in `collecting` again (a failed build's retry);
    /// custodians only. The package runner builds it; `GET` on the same path shows the progress.
    @Sendable func buildProduction(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let id = try Self.uuid(context, "case")
        try await services.requeuePackage(caseID: id, purpose: .production, by: context.principal!)
        var response = try Response.json(PackageStatus(try await services.packages.record(caseID: id, purpose: .production)!))
        response.status = .accepted
        return response
    }

    /// Where the case's packages stand: queued, building (records read of expected), built
    /// (files, bytes, Merkle root), failed (why) or deleted (when and why).
    @Sendable func productionStatus(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let id = try Self.uuid(context, "case")
        guard try await services.cases.findCase(id: id) != nil else { throw Problem.notFound("case \(id)") }
        var statuses: [PackageStatus] = []
        for purpose in PackagePurpose.allCases {
            if let record = try await services.packages.record(caseID: id, purpose: purpose) { statuses.append(PackageStatus(record)) }
        }
        return try .json(["packages": statuses])
    }

    /// Ends the requester's access to a released package at once (C3), with the reason on record.
    @Sendable func revokeProduction(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let id = try Self.uuid(context, "case")
        struct Body: Codable { var reason: String }
        try RequestReading.requireJSON(request)
        let body = try RequestReading.decodeStrictJSON(Body.self, from: try await RequestReading.body(request, limit: 16 * 1024))
        guard !body.reason.trimmingCharacters(in: .whitespaces).isEmpty else { throw Problem.invalid(field: "reason", "say why the download is revoked") }
        guard try await services.packageLinks.revoke(caseID: id, at: services.now(), by: context.principal!.actor.auditName, reason: body.reason) else {
            throw Problem(.conflict, title: "Nothing to revoke", detail: "case \(id) has no open package download")
        }
        return try .json(["revoked": true])
    }

    @Sendable func staffEvent(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let id = try Self.uuid(context, "case")
        try RequestReading.requireJSON(request)
        let body = try await RequestReading.body(request, limit: 64 * 1024)
        let event = try RequestReading.decodeStrictJSON(EventRequest.self, from: body)
        return try .json(try await services.apply(event, toCase: id, by: context.principal!))
    }
}
