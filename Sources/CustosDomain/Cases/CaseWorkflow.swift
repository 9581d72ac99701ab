import Foundation

/// The case workflow of workflow.md as one pure function: `apply(event, to: case, at:, by:)`.
///
/// It never reads the clock or makes ids; it returns the new case and the effects (audit entry,
/// agency messages) that storage persists in one transaction with it.
public enum CaseWorkflow {
    /// Who may send each event (deny by default: an event missing here is refused for everyone).
    public enum Sender: Equatable, Sendable {
        case staff(StaffRole)
        /// A user of the agency that submitted the demand.
        case owningAgency
        /// A user of the tenant whose data the demand concerns.
        case owningCustomer
        case system
    }

    public static func senders(of kind: CaseEvent.Kind) -> [Sender] {
        switch kind {
        case .beginVerification, .verificationPassed, .verificationFailed: [.staff(.intake)]
        // Checks and callbacks come in while the case moves on: a supervisor confirms an emergency
        // later, legal on-call widens an emergency's scope during review (legal-rules.md §6.3 E6/E7).
        case .recordCheck, .recordCallback: [.staff(.intake), .staff(.reviewer)]
        case .beginReview, .askAgency, .reject, .redirect, .fileChallenge, .challengeDecided, .beginPreservation, .renewPreservation,
            .recordFollowUp:
            [.staff(.reviewer)]
        case .preservationEnded, .close, .reassess: [.staff(.reviewer), .system]
        case .endEmergency: [.staff(.reviewer)]
        case .customerAnswer: [.owningCustomer]
        case .dismissObjection: [.staff(.reviewer)]
        case .agencyReplied, .agencyAnswer, .withdraw: [.owningAgency]
        case .approveScope, .approveRelease: [.staff(.approver)]
        case .startCollection: [.staff(.custodian)]
        // Only the package builder reports a finished collection: a person cannot declare a case
        // ready for release without a package (workflow.md: release needs a verifying package).
        case .collectionFinished: [.system]
        case .release: [.staff(.custodian), .system]
        }
    }

    /// The states in which each event applies.
    public static func sourceStates(of kind: CaseEvent.Kind) -> Set<CaseState> {
        switch kind {
        case .beginVerification: [.received]
        case .verificationPassed, .verificationFailed: [.verifying]
        // A check or a callback can be made, or made again, at any point before the data goes out.
        case .recordCheck, .recordCallback:
            [.received, .verifying, .inReview, .awaitingAgency, .redirectPending, .challenged, .preserving, .scopeApproved, .collecting, .readyForRelease]
        case .beginReview: [.received, .verifying]
        case .askAgency, .redirect, .fileChallenge, .beginPreservation, .approveScope: [.inReview]
        case .agencyReplied: [.awaitingAgency]
        case .reject: [.inReview, .challenged]
        case .agencyAnswer: [.redirectPending]
        case .challengeDecided: [.challenged]
        case .preservationEnded, .renewPreservation: [.preserving]
        case .recordFollowUp: [.released]
        case .startCollection: [.scopeApproved]
        case .collectionFinished: [.collecting]
        case .approveRelease, .release: [.readyForRelease]
        case .withdraw: Set(CaseState.allCases).subtracting([.released, .closed])
        case .close: [.released]
        case .reassess: [.received, .verifying, .inReview, .awaitingAgency, .redirectPending, .challenged, .preserving]
        case .endEmergency: Set(CaseState.allCases).subtracting([.closed, .received, .verifying])
        case .customerAnswer: [.inReview, .awaitingAgency, .redirectPending, .challenged, .preserving, .scopeApproved, .collecting, .readyForRelease]
        case .dismissObjection: [.inReview, .awaitingAgency, .redirectPending, .preserving, .scopeApproved, .collecting, .readyForRelease]
        }
    }

    /// Whether `actor` is of a kind allowed to send `kind` for this case (role and ownership only).
    public static func isPermitted(_ kind: CaseEvent.Kind, for actor: Actor, on subject: Case) -> Bool {
        senders(of: kind).contains { sender in
            switch (sender, actor) {
            case (.system, .system): true
            case (.staff(let role), .person(let principal)): principal.has(role)
            case (.owningCustomer, .person(let principal)):
                principal.kind == .customer && principal.tenantID != nil && principal.tenantID == subject.customer?.tenantID
            case (.owningAgency, .person(let principal)):
                principal.kind == .agency && principal.agencyID == subject.agencyID
            default: false
            }
        }
    }

    /// The events this actor could attempt now: what the case page offers as actions.
    public static func availableEvents(on subject: Case, for actor: Actor) -> [CaseEvent.Kind] {
        guard !subject.isClosed else { return [] }
        return CaseEvent.Kind.allCases.filter {
            sourceStates(of: $0).contains(subject.state) && isPermitted($0, for: actor, on: subject)
        }
    }

    /// Applies one event. Throws a `WorkflowRefusal` with a reason when the event is not accepted.
    public static func apply(
        _ event: CaseEvent, to current: Case, at time: Date, by actor: Actor, policy: WorkflowPolicy = .standard
    ) throws(WorkflowRefusal) -> (Case, [CaseEffect]) {
        let kind = event.kind
        guard !current.isClosed else {
            throw WorkflowRefusal(.caseClosed, "case \(current.number) is closed (\(current.outcome?.rawValue ?? "")) and accepts no event")
        }
        guard isPermitted(kind, for: actor, on: current) else {
            let allowed = senders(of: kind).map(describe).joined(separator: " or ")
            throw WorkflowRefusal(.notPermitted, "\(kind.rawValue) may only be sent by \(allowed)")
        }
        guard sourceStates(of: kind).contains(current.state) else {
            let states = sourceStates(of: kind).map(\.rawValue).sorted().joined(separator: ", ")
            throw WorkflowRefusal(.wrongState, "\(kind.rawValue) applies in \(states), not in \(current.state.rawValue)")
        }

        var next = current
        var effects: [CaseEffect] = []
        var extraDetails: [String: String] = [:]
        func message(_ subject: String, _ body: String) {
            effects.append(.notifyAgency(AgencyMessage(agencyID: current.agencyID, caseID: current.id, subject: subject, body: body)))
        }
        func required(_ value: String?, _ name: String) throws(WorkflowRefusal) -> String {
            let trimmed = value?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            guard !trimmed.isEmpty else { throw WorkflowRefusal(.guardFailed, "\(kind.rawValue) needs a \(name)") }
            return trimmed
        }
        func close(_ outcome: CaseOutcome, reason: String?) {
            next.state = .closed
            next.outcome = outcome
            next.closingReason = reason
        }
        let actorName = actor.auditName

        switch event {
        case .beginVerification:
            next.state = .verifying
        case .recordCheck(let name, let passed, let note):
            let name = try required(name, "check name")
            guard !name.lowercased().contains("callback") else {
                // E2: a callback is only on record with the directory number it used.
                throw WorkflowRefusal(.guardFailed, "record a callback with record_callback and a number from the agency directory")
            }
            next.checks.append(VerificationCheck(name: name, passed: passed, note: note, by: actorName, at: time))
        case .recordCallback(let phone, let spokeWith, let confirmed, let note):
            next.callbacks = (current.callbacks ?? []) + [
                CallbackRecord(phone: phone, spokeWith: try required(spokeWith, "name of the person who answered"), confirmed: confirmed, note: note, by: actorName, at: time)
            ]
        case .verificationPassed:
            if let failed = current.checks.first(where: { !$0.passed }) {
                throw WorkflowRefusal(.guardFailed, "check \"\(failed.name)\" failed; record a passing check or send verification_failed")
            }
            if current.latestCallback?.confirmed == false {
                // E2: the agency, called on its directory number, did not confirm the demand.
                throw WorkflowRefusal(.guardFailed, "the callback did not confirm the demand; call again or send verification_failed")
            }
            next.state = .inReview
        case .verificationFailed(let reason):
            let reason = try required(reason, "reason")
            close(.rejected, reason: reason)
            message("Demand rejected", "Verification of the demand failed: \(reason)")
        case .beginReview:
            next.state = .inReview
        case .askAgency(let question):
            let question = try required(question, "question")
            next.state = .awaitingAgency
            message("Clarification requested", question)
        case .agencyReplied(let answer):
            _ = try required(answer, "answer")
            next.state = .inReview
        case .reject(let reason, let ruleIDs):
            let reason = try required(reason, "reason")
            let rules = ruleIDs.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            guard !rules.isEmpty else {
                throw WorkflowRefusal(.guardFailed, "reject needs the ids of the rules it rests on")
            }
            close(.rejected, reason: reason)
            message("Demand rejected", "\(reason) (rules: \(rules.joined(separator: ", ")))")
        case .redirect(let note, let contacts):
            // C4: redirect the requester to an enterprise customer that can answer for itself.
            guard current.needsRedirectFirst else {
                throw WorkflowRefusal(.guardFailed, "redirect applies to enterprise tenants only; this demand concerns \(current.customer.map { "a \($0.kind.rawValue) tenant" } ?? "no known tenant")")
            }
            guard !contacts.isEmpty else {
                throw WorkflowRefusal(.guardFailed, "the tenant has no legal contact on record to name in the redirect letter; add one first")
            }
            let due = time.addingTimeInterval(RedirectLetter.answerPeriod)
            let letter = RedirectLetter.text(for: current, contacts: contacts, answerDueAt: due, note: note)
            next.state = .redirectPending
            next.redirect = .pending
            next.redirectLetter = letter
            next.redirectAnswerDueAt = due
            message("Please request this data from the customer", letter)
        case .agencyAnswer(let answer, let note):
            if answer == .insist {
                // C4: the reviewer weighs why the requester will not go to the customer, so it must say.
                extraDetails["reason"] = try required(note, "reason why the requester cannot approach the customer")
            }
            switch answer {
            case .approachCustomer:
                next.redirect = .approachingCustomer
                close(.redirected, reason: "requester will approach the customer")
            case .withdraw:
                close(.withdrawn, reason: "requester withdrew after the redirect")
            case .insist:
                next.redirect = .requesterInsisted
                next.state = .inReview
            }
        case .fileChallenge(let kind, let court, let grounds, let deadline):
            let court = try required(court, "court")
            let grounds = try required(grounds, "statement of grounds")
            // The filing deadline comes from the rulebook when it sets one (§ 2703(h): 14 days; Art. 17: 10 days).
            let ruled = kind.deadlineKind.flatMap { wanted in current.assessment?.deadlines.first { $0.kind == wanted }?.due }
            next.challenge = Challenge(kind: kind, court: court, grounds: grounds, filedAt: time, deadline: deadline ?? ruled, filedBy: actorName)
            if current.awaitsChallengeReview {
                next.customerAnswer?.review = ObjectionReview(
                    outcome: .challengeFiled, note: "\(kind.rawValue) filed with \(court)", by: actorName, at: time)
            }
            extraDetails["deadline"] = (deadline ?? ruled).map(Timestamp.format) ?? ""
            next.state = .challenged
        case .challengeDecided(let demandUpheld, let note):
            next.challenge?.demandUpheld = demandUpheld
            next.challenge?.decidedAt = time
            next.challenge?.decisionNote = note
            if demandUpheld {
                next.state = .inReview
            } else {
                close(.rejected, reason: note ?? "court quashed the demand")
                message("Demand set aside", "The court set the demand aside. \(note ?? "")")
            }
        case .beginPreservation(let until):
            guard current.isPreservationDemand else {
                throw WorkflowRefusal(.guardFailed, "begin_preservation is for preservation demands; this demand asks for disclosure")
            }
            // The rulebook's expiry (US 90 days, § 2703(f)(1); EU 60 days, Art. 11(1)) unless the
            // reviewer sets the date the requester's letter states.
            guard let until = until ?? current.preservationDeadline?.due else {
                throw WorkflowRefusal(.guardFailed, "begin_preservation needs an end date: no rule sets one for this demand")
            }
            guard until > time else { throw WorkflowRefusal(.guardFailed, "preservation must end in the future") }
            next.preservedUntil = until
            next.preservationRenewals = 0
            next.state = .preserving
            extraDetails["until"] = Timestamp.format(until)
            effects.append(.buildPackage(caseID: current.id, purpose: .preservation, requestedBy: actorName))
        case .renewPreservation:
            guard let deadline = current.preservationDeadline, let renewal = deadline.renewal else {
                throw WorkflowRefusal(.guardFailed, "no rule allows this preservation to be renewed")
            }
            let used = current.preservationRenewals ?? 0
            guard used < renewal.times else {
                throw WorkflowRefusal(.guardFailed, "the preservation was already renewed \(used) time(s); \(renewal.citation) allows \(renewal.times)")
            }
            guard let until = current.preservedUntil else { throw WorkflowRefusal(.guardFailed, "the preservation has no end date") }
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = TimeZone(identifier: deadline.timeZone) ?? TimeZone(identifier: "UTC")!
            let extended = calendar.date(byAdding: .day, value: renewal.amountDays, to: until) ?? until
            next.preservedUntil = extended
            next.preservationRenewals = used + 1
            extraDetails["until"] = Timestamp.format(extended)
            extraDetails["citation"] = renewal.citation
        case .preservationEnded(let followUpReceived):
            if followUpReceived {
                next.state = .inReview
            } else {
                close(.preserved, reason: "preservation ended without follow-up process")
            }
        case .approveScope(let categories, let excuse):
            try checkScope(categories, excuse: excuse, for: current)
            guard let principal = actor.principal else { throw WorkflowRefusal(.notPermitted, "approvals are made by people") }
            let scope = categories.sorted()
            if let first = current.scopeApprovals.first {
                guard first.principalID != principal.id else {
                    throw WorkflowRefusal(.guardFailed, "the second scope approval must come from a different approver than \(first.by)")
                }
                guard first.categories == scope else {
                    throw WorkflowRefusal(.guardFailed, "the second approval must approve the same scope as the first (\(first.categories.map(\.rawValue).joined(separator: ", ")))")
                }
                next.scopeApprovals.append(Approval(principalID: principal.id, by: actorName, at: time, categories: scope))
                next.approvedScope = scope
                next.redirectExcuse = excuse ?? current.redirectExcuse
                next.state = .scopeApproved
            } else {
                next.scopeApprovals = [Approval(principalID: principal.id, by: actorName, at: time, categories: scope)]
                next.redirectExcuse = excuse
            }
            extraDetails["approvals"] = String(next.scopeApprovals.count)
        case .startCollection:
            next.state = .collecting
            effects.append(.buildPackage(caseID: current.id, purpose: .production, requestedBy: actorName))
        case .collectionFinished(let count):
            guard count >= 0 else { throw WorkflowRefusal(.guardFailed, "record count cannot be negative") }
            next.recordsCollected = count
            if count == 0 {
                close(.noData, reason: "no data found for the named targets")
                message("No data", "No data was found for the targets named in the demand.")
            } else {
                next.state = .readyForRelease
            }
        case .approveRelease:
            try refuseWhileObjectionAwaitsReview(current)
            guard let principal = actor.principal else { throw WorkflowRefusal(.notPermitted, "approvals are made by people") }
            if current.releaseApprovals.contains(where: { $0.principalID == principal.id }) {
                throw WorkflowRefusal(.guardFailed, "\(actorName) has already approved this release; a second approver is needed")
            }
            guard current.releaseApprovals.count < 2 else {
                throw WorkflowRefusal(.guardFailed, "the release already has its two approvals")
            }
            next.releaseApprovals.append(Approval(principalID: principal.id, by: actorName, at: time))
            extraDetails["approvals"] = String(next.releaseApprovals.count)
        case .release:
            try refuseWhileObjectionAwaitsReview(current)
            // Invariant: only `release` moves data to a requester, and only with two release approvals
            // by different people on top of an approved scope.
            let approvers = Set(current.releaseApprovals.map(\.principalID))
            guard approvers.count >= 2 else {
                throw WorkflowRefusal(.guardFailed, "release needs two release approvals by different approvers; it has \(approvers.count)")
            }
            guard let scope = current.approvedScope, !scope.isEmpty else {
                throw WorkflowRefusal(.guardFailed, "release needs an approved scope")
            }
            if current.isEmergency {
                if let blocker = current.emergencyReleaseBlocker { throw WorkflowRefusal(.guardFailed, blocker) }
                // E8 / Art. 4(5): the follow-up process falls due from now; the rulebook's date when it sets one.
                if let ruled = current.assessment?.deadlines.first(where: { $0.kind == "ex_post_validation" }) {
                    next.followUp = FollowUpProcess(dueAt: max(ruled.due, time), basis: ruled.rule)
                } else {
                    next.followUp = FollowUpProcess(dueAt: time.addingTimeInterval(policy.emergencyFollowUp), basis: "policy")
                }
                extraDetails["followUpDue"] = Timestamp.format(next.followUp!.dueAt)
            }
            next.state = .released
            next.releasedAt = time
            effects.append(.openPackageLink(caseID: current.id, agencyID: current.agencyID))
            message("Production released", "A production package for the approved scope (\(scope.map(\.rawValue).joined(separator: ", "))) is available.")
        case .reassess(let assessment):
            next.assessment = assessment
            next.dueAt = assessment.deadlines.filter { CaseIntake.answerDeadlineKinds.contains($0.kind) }.map(\.due).min() ?? current.dueAt
            // A pending first approval that the new assessment no longer covers is void.
            if let first = current.scopeApprovals.first, assessment.refusal(for: first.categories) != nil {
                next.scopeApprovals = []
                extraDetails["approvalsVoided"] = "1"
            }
        case .customerAnswer(let answer, let note, let attachments):
            guard current.customerAnswer == nil else {
                throw WorkflowRefusal(.guardFailed, "the customer already answered (\(current.customerAnswer!.answer.rawValue))")
            }
            if answer == .object { _ = try required(note, "reason for the objection") }
            if !attachments.isEmpty && answer != .object {
                throw WorkflowRefusal(.guardFailed, "documents can be sent with an objection only")
            }
            next.customerAnswer = CustomerAnswerRecord(
                answer: answer, note: note, by: actorName, at: time, attachments: attachments.isEmpty ? nil : attachments)
            if answer == .object {
                // C8: the objection goes to challenge review; production waits until a reviewer
                // files a challenge or dismisses it with reasons.
                extraDetails["challengeReview"] = "required"
            }
            if answer == .answerDirectly {
                // C4: the customer answers for itself, so the requester is redirected to it.
                close(.redirected, reason: "the customer will answer the requester directly")
                message("Redirected to the customer", "The customer will answer your demand directly. Please contact the customer.")
            }
        case .dismissObjection(let note):
            let note = try required(note, "why no challenge is warranted")
            guard current.awaitsChallengeReview else {
                throw WorkflowRefusal(.guardFailed, "no customer objection awaits challenge review")
            }
            next.customerAnswer?.review = ObjectionReview(outcome: .dismissed, note: note, by: actorName, at: time)
        case .endEmergency:
            guard current.isEmergency else { throw WorkflowRefusal(.guardFailed, "the case is not an emergency") }
            guard current.emergencyEndedAt == nil else { throw WorkflowRefusal(.guardFailed, "the emergency was already marked over") }
            next.emergencyEndedAt = time
            effects.append(.emergencyEnded(caseID: current.id))
        case .withdraw(let reason):
            close(.withdrawn, reason: reason ?? "withdrawn by the requester")
        case .recordFollowUp(let received, let reference, let note):
            guard var followUp = current.followUp else {
                throw WorkflowRefusal(.guardFailed, "no follow-up legal process is owed on this case")
            }
            guard !followUp.isResolved else { throw WorkflowRefusal(.guardFailed, "the follow-up process was already recorded") }
            if received {
                followUp.reference = try required(reference, "reference of the follow-up process")
            } else {
                followUp.note = try required(note, "note on the escalation (the follow-up process never came)")
            }
            followUp.received = received
            followUp.resolvedAt = time
            followUp.by = actorName
            followUp.note = note ?? followUp.note
            next.followUp = followUp
        case .close:
            // E8: an emergency disclosure stays open until its follow-up process is accounted for.
            if let followUp = current.followUp, !followUp.isResolved {
                throw WorkflowRefusal(.guardFailed, "record the follow-up legal process (or that it never came) before closing this emergency")
            }
            close(current.approvedScope?.contains(.content) == true ? .content : .nonContent, reason: "production released")
        }

        next.updatedAt = time
        next.version = current.version + 1
        var details = event.details
        details["from"] = current.state.rawValue
        details["to"] = next.state.rawValue
        if let outcome = next.outcome, current.outcome == nil { details["outcome"] = outcome.rawValue }
        details.merge(extraDetails) { _, new in new }
        let audit = AuditRecord(
            caseID: current.id, subject: "case:\(current.id.uuidString.lowercased())", action: "case.\(kind.rawValue)",
            actor: actorName, at: time, details: details)
        // C5: a case enters review once, when it is accepted for handling; that is when its
        // customer notice is planned (a demand that fails verification never reaches a customer).
        if [.received, .verifying].contains(current.state) && next.state == .inReview {
            effects.append(.planCustomerNotice(next))
        }
        return (next, [.audit(audit)] + effects)
    }

    /// C8: nothing is produced over a customer objection that no reviewer has looked at.
    static func refuseWhileObjectionAwaitsReview(_ current: Case) throws(WorkflowRefusal) {
        if current.awaitsChallengeReview {
            throw WorkflowRefusal(.guardFailed, "the customer objected: file a challenge or dismiss the objection with reasons before producing anything (commitment C8)")
        }
    }

    /// The scope guard of `approve_scope` (C2, C4, C6, C9).
    static func checkScope(_ categories: [DataCategory], excuse: RedirectExcuse?, for current: Case) throws(WorkflowRefusal) {
        guard !categories.isEmpty else { throw WorkflowRefusal(.guardFailed, "approve_scope needs at least one category") }
        try refuseWhileObjectionAwaitsReview(current)
        // C9: key material is never releasable; no rule, role or override changes that.
        if categories.contains(.encryptionKeys) {
            throw WorkflowRefusal(.guardFailed, "encryption_keys can never be approved (commitment C9)")
        }
        // C6: the approvable scope is always a subset of what the order requested.
        let outside = categories.filter { !current.requestedCategories.contains($0) }
        if !outside.isEmpty {
            throw WorkflowRefusal(.guardFailed, "scope includes categories the demand did not request: \(outside.map(\.rawValue).joined(separator: ", "))")
        }
        // C2/C6: only what the rulebook says the law compels (or permits, in an emergency) is approvable.
        guard let assessment = current.assessment else {
            throw WorkflowRefusal(.guardFailed, "the case has no rulebook assessment on record; reassess it before approving a scope")
        }
        if let reason = assessment.refusal(for: categories) {
            throw WorkflowRefusal(.guardFailed, "scope goes beyond the rulebook assessment (\(assessment.rulebookVersion)): \(reason)")
        }
        // legal-rules.md §6.3 E6: an emergency discloses only what relates to the emergency (who the
        // person is, recent IP addresses, location) unless legal on-call signed off on more during
        // verification, recorded as a passing check named `emergency_scope_escalation` (E7).
        if current.isEmergency {
            let beyond = categories.filter { !WorkflowPolicy.emergencyDefaultScope.contains($0) }
            if !beyond.isEmpty && current.latestCheck(named: WorkflowPolicy.emergencyScopeEscalation)?.passed != true {
                throw WorkflowRefusal(
                    .guardFailed,
                    "an emergency discloses only \(WorkflowPolicy.emergencyDefaultScope.map(\.rawValue).joined(separator: ", ")) unless legal on-call signed off on more "
                        + "(a passing check \(WorkflowPolicy.emergencyScopeEscalation) during verification); asked for \(beyond.map(\.rawValue).joined(separator: ", "))")
            }
        }
        // C4: an enterprise customer must be tried first, unless a recorded excuse applies.
        if current.needsRedirectFirst && current.redirect != .requesterInsisted {
            switch excuse ?? current.redirectExcuse {
            case .nonDisclosureOrder where current.hasNonDisclosureOrder || current.noticeIsLegallyBarred: break
            case .emergency where current.isEmergency: break
            case .some(let excuse):
                throw WorkflowRefusal(.guardFailed, "excuse \(excuse.rawValue) does not apply: the demand has no \(excuse == .emergency ? "emergency flag" : "non-disclosure order")")
            case .none:
                throw WorkflowRefusal(.guardFailed, "enterprise tenant: redirect the requester to the customer first (commitment C4), or record an excuse (non_disclosure_order, emergency)")
            }
        }
    }

    static func describe(_ sender: Sender) -> String {
        switch sender {
        case .staff(let role): "staff with role \(role.rawValue)"
        case .owningAgency: "the requesting agency"
        case .owningCustomer: "the customer concerned"
        case .system: "the system"
        }
    }
}
