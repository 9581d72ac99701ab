import CustosDomain
import CustosStorage
import CustosWeb
import Foundation
import Hummingbird

/// `/staff/requesters` (issue 8): the agency directory and every requester's standing. All staff
/// read it; admins keep the directory (add agencies, edit domains and numbers) and change standings,
/// which is also how a self-registration is approved.
extension WebRoutes {
    @Sendable func requestersPage(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try await showRequesters(request, context, flash: request.uri.queryParameters.get("flash"), error: nil, status: .ok)
    }

    func showRequesters(_ request: Request, _ context: AppRequestContext, flash: String?, error: String?, status: HTTPResponse.Status) async throws -> Response {
        let users = try await services.identity.agencyUsers()
        var entries: [(Agency, [(Principal, RequesterStatus)])] = []
        for agency in try await services.directory.agencies() {
            var statuses: [(Principal, RequesterStatus)] = []
            for user in users where user.agencyID == agency.id {
                if let status = try await services.identity.requesterStatus(principalID: user.id) { statuses.append((user, status)) }
            }
            entries.append((agency, statuses))
        }
        let registrations = try await services.registrations.all().mapValues {
            RequestersPageModel.Registration(requestedAt: $0.requestedAt, confirmedAt: $0.confirmedAt, expiresAt: $0.expiresAt)
        }
        let model = RequestersPageModel(agencies: entries, registrations: registrations, canChange: context.principal!.has(.admin), now: services.now())
        return try render("requesters", "Requesters", context, model, flash: flash, error: error, status: status)
    }

    static func flashRedirect(_ path: String, _ text: String) -> Response {
        .redirect(to: path + "?flash=" + text.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)
    }

    @Sendable func changeStanding(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let id = try APIRoutes.uuid(context, "requester")
        let form = try await FormData.read(request, limit: 8 * 1024, expectedCSRF: context.sessionCSRF)
        guard let standing = form.value("standing").flatMap(RequesterStanding.init(rawValue:)) else {
            throw Problem.invalid(field: "standing", "must be one of \(RequesterStanding.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard let reason = form.value("reason")?.trimmingCharacters(in: .whitespacesAndNewlines), !reason.isEmpty else {
            throw Problem.invalid(field: "reason", "say why the standing changes")
        }
        do {
            try await services.identity.setStanding(
                principalID: id, standing, mayRequestEmergency: form.value("emergency") == "allow", reason: reason, by: context.principal!.actor.auditName,
                at: services.now())
        } catch StorageError.notFound(let what) {
            throw Problem.notFound(what)
        } catch StorageError.conflict(let why) {
            return try await showRequesters(request, context, flash: nil, error: "Not saved: \(why).", status: .conflict)
        }
        return Self.flashRedirect("/staff/requesters", "Standing saved.")
    }

    /// A new directory entry, checked like a row of `custos agency import`.
    @Sendable func addAgency(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let form = try await FormData.read(request, limit: 32 * 1024, expectedCSRF: context.sessionCSRF)
        var problems: [String] = []
        let name = form.value("name") ?? ""
        if name.isEmpty { problems.append("the agency needs a name") }
        let country = (form.value("country") ?? "").uppercased()
        if !Jurisdiction.countryCodes.contains(country) { problems.append("country must be an ISO 3166-1 alpha-2 code such as DE") }
        let kind = form.value("kind").flatMap(AgencyKind.init(rawValue:))
        if kind == nil { problems.append("kind must be one of \(AgencyKind.allCases.map(\.rawValue).joined(separator: ", "))") }
        if !name.isEmpty, try await services.directory.findAgency(named: name) != nil { problems.append("\(name) is already in the directory") }
        let blank = Agency(id: UUID(), name: name, country: country, kind: kind ?? .lawEnforcement)
        var agency = blank
        switch AgencyDirectoryImport.edited(blank, domains: form.value("domains") ?? "", phones: form.value("phones") ?? "") {
        case .success(let entry): agency = entry
        case .failure(let failure): problems += failure.errors.map(\.message)
        }
        guard problems.isEmpty else {
            return try await showRequesters(request, context, flash: nil, error: "Not added: " + problems.joined(separator: "; ") + ".", status: .unprocessableContent)
        }
        try await services.directory.createAgency(Agency(id: agency.id, name: agency.name, country: agency.country, kind: agency.kind))
        try await services.directory.updateAgency(agency, by: context.principal!.actor.auditName, at: services.now())
        return Self.flashRedirect("/staff/requesters", "\(agency.name) added to the directory.")
    }

    /// Replaces an entry's domains and numbers; the audit entry keeps the previous ones.
    @Sendable func editAgency(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let id = try APIRoutes.uuid(context, "agency")
        let form = try await FormData.read(request, limit: 32 * 1024, expectedCSRF: context.sessionCSRF)
        guard let existing = try await services.directory.findAgency(id: id) else { throw Problem.notFound("agency \(id)") }
        switch AgencyDirectoryImport.edited(existing, domains: form.value("domains") ?? "", phones: form.value("phones") ?? "") {
        case .failure(let failure):
            return try await showRequesters(
                request, context, flash: nil, error: "\(existing.name) not saved: " + failure.errors.map(\.message).joined(separator: "; ") + ".",
                status: .unprocessableContent)
        case .success(let agency):
            if agency != existing { try await services.directory.updateAgency(agency, by: context.principal!.actor.auditName, at: services.now()) }
            return Self.flashRedirect("/staff/requesters", "Directory entry of \(agency.name) saved.")
        }
    }
}
