import CustosDomain
import CustosStorage
import CustosWeb
import Foundation
import Hummingbird

/// Self-registration in the agency portal (issue 8): only with an address on one of the agency's
/// directory domains, confirmed through a link sent to that address; the account then waits, with
/// standing `pending`, until an admin approves it on the requesters page. The answer to a
/// registration is the same whether or not the address already has an account.
extension WebRoutes {
    func registerAgencyRegistration(on router: inout SecuredRouter) {
        router.on(.get, "/agency/register", .open, .page) { request, context in try await registrationPage(request, context) }
        router.on(.post, "/agency/register", .open, .page) { request, context in try await register(request, context) }
        router.on(.get, "/agency/register/confirm", .open, .page) { request, context in try confirmationPage(request, context) }
        router.on(.post, "/agency/register/confirm", .open, .page) { request, context in try await confirmRegistration(request, context) }
    }

    func registrationPage(
        _ request: Request, _ context: AppRequestContext, values: [String: String] = [:], error: String? = nil,
        status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let agencies = try await services.directory.agencies().filter { !$0.domains.isEmpty }
        let token = SQLIdentityRepository.makeSecret()
        let model = RegistrationModel(
            agencies: agencies.map {
                Option(value: $0.id.uuidString.lowercased(), label: "\($0.name) (\($0.domains.joined(separator: ", ")))", isSelected: values["agency"] == $0.id.uuidString.lowercased())
            }, name: values["name"] ?? "", email: values["email"] ?? "")
        var response = try render("register", "Register", context, model, error: error, status: status, csrf: token)
        response.setCookie(Cookie(name: Self.loginCSRFCookie, value: token, path: "/", secure: services.configuration.secureCookies, httpOnly: true, sameSite: .strict))
        return response
    }

    func register(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let form = try await FormData.read(request, limit: 16 * 1024, expectedCSRF: request.cookies[Self.loginCSRFCookie]?.value)
        let values = ["agency": form.value("agency") ?? "", "name": form.value("name") ?? "", "email": (form.value("email") ?? "").lowercased()]
        func refuse(_ text: String) async throws -> Response {
            try await registrationPage(request, context, values: values, error: text, status: .unprocessableContent)
        }
        guard let agencyID = UUID(uuidString: values["agency"]!), let agency = try await services.directory.findAgency(id: agencyID) else {
            return try await refuse("Choose your agency from the list.")
        }
        if let refusal = AgencyRegistration.refusal(email: values["email"]!, for: agency) { return try await refuse("Not registered: \(refusal).") }
        guard !values["name"]!.isEmpty else { return try await refuse("Say your name, as your agency knows you.") }
        let password = form.value("password") ?? ""
        guard Passwords.isAcceptable(password) else { return try await refuse("The password needs at least 12 characters.") }
        let principal = Principal(id: UUID(), email: values["email"]!, displayName: values["name"]!, kind: .agency, agencyID: agency.id)
        let time = services.now()
        let outcome = try await services.registrations.register(
            principal, passwordHash: try await Passwords.hash(password), remoteAddress: context.remoteAddress, at: time)
        if case .registered(let token) = outcome {
            let link = "\(services.configuration.publicURL)/agency/register/confirm?token=\(token)"
            do {
                try await services.accountMailer().send(
                    to: principal.email, subject: "Confirm your registration in the agency portal",
                    text: """
                        Someone, probably you, registered this address in the agency portal as a requester of \(agency.name).

                        To confirm the address, open this link within 48 hours:
                        \(link)

                        After that, sign in and set up your second factor. You can submit demands once the provider's staff approve the registration.
                        If you did not register, ignore this message: without the confirmation nobody can sign in with this address.
                        """, at: time)
            } catch {
                services.logger.error("could not send the registration confirmation to \(principal.email): \(error)")
                return try render(
                    "message", "Registration", context,
                    MessageModel(heading: "The confirmation could not be sent", text: "The registration is kept, but the e-mail with its confirmation link could not be sent just now. Please write to the provider's legal team."),
                    status: .serviceUnavailable)
            }
        }
        return try render(
            "message", "Registration", context,
            MessageModel(
                heading: "Check your mailbox",
                text: "If \(principal.email) can register, a link to confirm it is on its way; it works for 48 hours. After confirming, sign in at /agency/login and set up your second factor. The provider's staff approve each registration before any demand can be sent."),
            status: .accepted)
    }

    /// The link from the e-mail shows a button: confirming takes a POST, so a mail scanner that
    /// opens links does not confirm on the person's behalf.
    func confirmationPage(_ request: Request, _ context: AppRequestContext) throws -> Response {
        let token = request.uri.queryParameters.get("token") ?? ""
        let csrf = SQLIdentityRepository.makeSecret()
        var response = try render("register_confirm", "Confirm your address", context, ConfirmationModel(token: token), csrf: csrf)
        response.setCookie(Cookie(name: Self.loginCSRFCookie, value: csrf, path: "/", secure: services.configuration.secureCookies, httpOnly: true, sameSite: .strict))
        return response
    }

    func confirmRegistration(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let form = try await FormData.read(request, limit: 4096, expectedCSRF: request.cookies[Self.loginCSRFCookie]?.value)
        guard let principal = try await services.registrations.confirm(token: form.value("token") ?? "", at: services.now()) else {
            return try render(
                "message", "Confirm your address", context,
                MessageModel(heading: "This link does not work", text: "The link is unknown, was used already, or expired after 48 hours. Register again to get a new one."),
                status: .notFound)
        }
        return try render(
            "message", "Address confirmed", context,
            MessageModel(
                heading: "Address confirmed",
                text: "\(principal.email) is confirmed. Sign in at /agency/login to set up your second factor. The provider's staff review your registration; you can submit demands once they approve it."))
    }
}
