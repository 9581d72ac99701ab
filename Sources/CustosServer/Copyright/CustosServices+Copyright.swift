import CustosDomain
import CustosStorage
import Foundation

/// Copyright notices (issue 9, C10): intake from rights holders without an account, the sender's
/// confirmation, the element check, the customer's answer, takedown and restoration, and the
/// repeat-infringer policy. The domain's `CopyrightWorkflow` decides; this layer resolves who gets
/// which mail and stores each step with its audit entry in one transaction.
extension CustosServices {
    public var copyright: CopyrightStore { CopyrightStore(store: database) }

    public func copyrightWorkflow() throws -> CopyrightWorkflow {
        do {
            return try CopyrightWorkflow(rulebook: rulebook, responseBusinessDays: configuration.dmcaResponseBusinessDays)
        } catch let refusal as CopyrightRefusal {
            throw Problem(.serviceUnavailable, title: "No DMCA rules", detail: refusal.reason)
        }
    }

    public var repeatInfringerPolicy: RepeatInfringerPolicy {
        RepeatInfringerPolicy(threshold: configuration.dmcaStrikeThreshold, windowDays: configuration.dmcaStrikeWindowDays)
    }

    /// The sender's page: confirmation, status, and the court-action report.
    func copyrightLink(_ token: String) -> String { "\(configuration.publicURL)/copyright/notices/status?token=\(token)" }

    /// Checks the shape of a notice (not its § 512 elements: those are the workflow's, after
    /// confirmation) and stores it, awaiting the sender's confirmation by mail.
    public func fileCopyrightNotice(_ text: CopyrightNoticeText) async throws -> (CopyrightCase, token: String) {
        var issues: [ValidationIssue] = []
        let complainant = text.complainant
        let email = text.complainant.email.trimmingCharacters(in: .whitespaces)
        if !SMTPAddress.isPlausible(email) { issues.append(ValidationIssue(field: "complainant.email", message: "must be an e-mail address we can confirm")) }
        if let country = complainant.country, !Jurisdiction.countryCodes.contains(country) {
            issues.append(ValidationIssue(field: "complainant.country", message: "must be an ISO 3166-1 alpha-2 code in capitals (US, DE)"))
        }
        if text.works.count > 50 { issues.append(ValidationIssue(field: "works", message: "at most 50 works per notice")) }
        if text.infringingURLs.count > 500 { issues.append(ValidationIssue(field: "works[].infringingURLs", message: "at most 500 URLs per notice")) }
        let long = [complainant.name, complainant.address ?? "", complainant.organisation ?? "", complainant.phone ?? "", complainant.country ?? "", text.signature, text.rightsOwner ?? ""]
            + text.works.flatMap { [$0.description] + $0.infringingURLs + $0.copyrightedURLs }
        // Counted in code points, as the API's JSON Schema `maxLength` counts them: a grapheme
        // count is smaller where marks combine, and would let a longer field through.
        if long.contains(where: { $0.unicodeScalars.count > 4000 }) { issues.append(ValidationIssue(field: "notice", message: "a field is longer than 4,000 characters")) }
        guard issues.isEmpty else { throw Problem.invalid(issues) }
        let token = SQLIdentityRepository.makeSecret()
        let link = copyrightLink(token)
        let notice = try await copyright.receive(text, tokenHash: SQLIdentityRepository.digest(token), confirmation: { number in
            CopyrightStore.CopyrightMail(
                to: [email], subject: "Confirm your copyright notice \(number)",
                text: """
                    We received a copyright notice (17 U.S.C. § 512(c)(3)) sent with this address, number \(number).
                    To confirm that you sent it, open this link and press the button: \(link)

                    The same page shows what happens to the notice. If you did not send it, ignore this message: an unconfirmed notice is never acted on.
                    """, notice: number)
        }, at: now())
        return (notice, token)
    }

    /// The sender confirmed: the notice is checked against § 512(c)(3)(A) and routed.
    public func confirmCopyrightNotice(token: String) async throws -> CopyrightCase {
        guard let notice = try await copyright.find(token: token) else { throw Problem.notFound("copyright notice") }
        let tenantID = try await copyright.tenant(hosting: notice.text.infringingURLs)
        let tenant = try await directory.tenants().first { $0.id == tenantID }
        return try await changeCopyright(notice.id, .confirm(tenantID: tenant?.id, tenantName: tenant?.name), by: notice.text.complainant.email, action: "copyright.confirmed")
    }

    /// Applies an event, mailing what the workflow says to the complainant and to the customer's
    /// notice contacts; a strike that reaches the policy's threshold opens a suspension case and
    /// tells the customer.
    @discardableResult
    public func changeCopyright(_ id: UUID, _ event: CopyrightEvent, by actor: String, action: String? = nil) async throws -> CopyrightCase {
        guard let current = try await copyright.find(id: id) else { throw Problem.notFound("copyright notice \(id)") }
        let workflow = try copyrightWorkflow()
        var customerMail: [String] = []
        let tenantID: UUID? =
            if case .confirm(let tenant, _) = event { tenant } else { current.tenantID }
        if let tenantID { customerMail = try await directory.contacts(tenantID: tenantID).map(\.email) }
        let recipients = customerMail
        let policy = repeatInfringerPolicy
        let time = now()
        do {
            let applied = try await copyright.apply(noticeID: id, action: action ?? "copyright.\(event.name)", by: actor, at: time, policy: policy) { stored in
                let outcome = try workflow.apply(event, to: stored, at: time, by: actor)
                let mails = outcome.messages.map { message -> CopyrightStore.CopyrightMail in
                    switch message {
                    case .message(let to, let subject, let text):
                        CopyrightStore.CopyrightMail(
                            to: to == .complainant ? [stored.text.complainant.email] : recipients, subject: subject, text: text, notice: stored.number)
                    }
                }
                return (outcome, mails, { suspension in
                    CopyrightStore.CopyrightMail(
                        to: recipients, subject: "Repeat-infringer policy: your service is under review",
                        text: "Copyright notices \(suspension.notices.joined(separator: ", ")) counted as strikes against your account within \(policy.window / 86_400) days, which reaches our repeat-infringer threshold of \(policy.threshold) (17 U.S.C. § 512(i)(1)(A)). Our staff now decide whether the service ends under the terms of use; you may write to us before they do.",
                        notice: stored.number)
                })
            }
            return applied.notice
        } catch let refusal as CopyrightRefusal {
            throw Problem(.conflict, title: "Not possible now", detail: refusal.reason)
        }
    }

    /// Reading notices reads complainants' and customers' data: it is logged like every such read.
    func recordCopyrightRead(by principal: Principal, details: [String: String]) async throws {
        try await cases.record(AuditRecord(
            caseID: nil, subject: "copyright", action: "copyright.listed", outcome: .read, actor: principal.actor.auditName, at: now(), details: details))
    }

    /// Marks every notice whose customer did not answer in time (the copyright runner's tick).
    public func passCopyrightDeadlines() async throws -> Int {
        var count = 0
        for id in try await copyright.unanswered(at: now()) {
            do {
                try await changeCopyright(id, .noResponse, by: "system")
                count += 1
            } catch let problem as Problem where problem.status == .conflict {
                continue  // answered in the meantime
            }
        }
        return count
    }
}
