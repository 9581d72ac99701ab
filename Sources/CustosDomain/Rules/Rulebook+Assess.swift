import Foundation

/// Rules that no rulebook file can override (issue: "invariants in code").
public enum RulebookInvariants {
    /// C9: key material is always denied.
    public static let encryptionKeys = "invariant.c9.encryption_keys"
    /// C2/C6: content is never `allowed` unless the instrument is marked as compelling content.
    public static let contentNeedsCompellingInstrument = "invariant.content.compelling_instrument"
    /// Deny by default: a category no rule speaks to is not disclosed.
    public static let noRule = "invariant.default_deny"
    /// C8: a notice bar with no end date always raises the challenge flag.
    public static let indefiniteBar = "invariant.c8.indefinite_bar"
}

extension Rulebook {
    /// Applies the rulebook to one demand (legal-rules.md §7.1, steps 2–10), purely: the same
    /// inputs always give the same assessment.
    ///
    /// - Parameters:
    ///   - at: the time of assessment; it selects the rules in force and the qualifying foreign
    ///     governments. Deadlines count from the demand's receipt.
    public func assess(_ demand: Demand, customer: CustomerFacts, at time: Date) -> Assessment {
        let facts = AssessmentFacts(rulebook: self, demand: demand, customer: customer, at: time)
        let inForce = rules.filter { facts.isInForce($0) && facts.matchesInstrumentAndPlace($0) }
        let matching = inForce.filter { facts.holds($0.when) }
        let displaced = Set(matching.flatMap { $0.overrides ?? [] })
        // A rule takes part when it decides a requested category, or decides none at all (it only
        // sets flags, deadlines or notice). A rule on traffic data says nothing about a request
        // for subscriber data, so its issuer requirement and deadlines stay out of it.
        let requested = Set(demand.categories.map(\.rawValue))
        let applicable = matching.filter { rule in
            guard !displaced.contains(rule.id) else { return false }
            guard let effects = rule.effects else { return true }
            return effects.keys.contains { $0 == "*" || requested.contains($0) }
        }

        // Issuer competence and offence thresholds, per rule.
        var findings: [IssuerAssessment.Finding] = []
        var unmet: [String: String] = [:]
        for rule in applicable {
            guard let requirement = rule.requires else { continue }
            let failure = facts.failure(of: requirement)
            findings.append(.init(rule: rule.id, satisfied: failure == nil, reason: failure ?? requirement.reason))
            if let failure { unmet[rule.id] = failure }
        }

        var categories: [DataCategory: CategoryAssessment] = [:]
        for category in demand.categories {
            categories[category] = verdict(for: category, demand: demand, applicable: applicable, unmet: unmet, facts: facts)
        }

        // Flags, each with the rules that raised it.
        var raised: [AssessmentFlag: [Rule]] = [:]
        for rule in applicable {
            for flag in rule.flags ?? [] { raised[flag, default: []].append(rule) }
        }
        var flagDetails: [FlagAssessment] = raised.map { flag, rules in
            FlagAssessment(
                flag: flag, rules: rules.map(\.id), explanation: rules.map(\.explanation).joined(separator: " "),
                citations: rules.map(\.citation))
        }
        if demand.categories.contains(.encryptionKeys) {
            flagDetails.append(FlagAssessment(
                flag: .encryptionKeysRequested, rules: [RulebookInvariants.encryptionKeys],
                explanation: "The demand asks for encryption keys. They are never released; the refusal is logged and counted (commitment C9).",
                citations: ["18 U.S.C. § 2523(b)(3); provider policy"]))
        }
        if !unmet.isEmpty {
            flagDetails.append(FlagAssessment(
                flag: .issuerInsufficient, rules: unmet.keys.sorted(), explanation: unmet.values.sorted().joined(separator: " "),
                citations: applicable.filter { unmet[$0.id] != nil }.map(\.citation)))
        }

        // Deadlines, as absolute instants.
        var deadlines: [AssessedDeadline] = []
        for rule in applicable {
            for spec in rule.deadlines ?? [] where facts.holds(spec.when) {
                deadlines.append(deadline(spec, rule: rule, demand: demand))
            }
        }
        deadlines.sort { ($0.due, $0.kind) < ($1.due, $1.kind) }
        if deadlines.contains(where: { !$0.covered }) {
            flagDetails.append(FlagAssessment(
                flag: .calendarNotCovered, rules: deadlines.filter { !$0.covered }.map(\.rule),
                explanation: "A deadline falls beyond the public holidays this rulebook lists for its calendar; check the date by hand and extend the calendar.",
                citations: []))
        }
        // Invariant (commitment C8): a bar on notice with no end date is always put up for challenge,
        // whichever rule imposed it (an indefinite § 2705(b) order, an NSL under § 3511(b), FISA secrecy).
        let noticeAssessment = notice(applicable: applicable, demand: demand)
        if noticeAssessment.status == .barredIndefinitely && raised[.indefiniteNDOChallenge] == nil {
            flagDetails.append(FlagAssessment(
                flag: .indefiniteNDOChallenge, rules: [RulebookInvariants.indefiniteBar] + noticeAssessment.rules,
                explanation: "Notice to the customer is barred with no end date: counsel considers a challenge, or asks the issuer for an end date, as for every such bar (commitment C8).",
                citations: ["provider policy (commitment C8)"]))
        }
        flagDetails.sort { $0.flag < $1.flag }

        return Assessment(
            rulebookVersion: version, assessedAt: time, categories: categories,
            issuer: IssuerAssessment(
                status: findings.isEmpty ? .notRequired : (unmet.isEmpty ? .sufficient : .insufficient), findings: findings),
            deadlines: deadlines, notice: noticeAssessment,
            flags: flagDetails.map(\.flag), flagDetails: flagDetails, rules: applicable.map(\.id))
    }

    private func verdict(
        for category: DataCategory, demand: Demand, applicable: [Rule], unmet: [String: String], facts: AssessmentFacts
    ) -> CategoryAssessment {
        // Invariant C9 comes first and ignores every rule.
        if category == .encryptionKeys {
            return CategoryAssessment(
                verdict: .denied, rules: [RulebookInvariants.encryptionKeys],
                explanation: "Encryption keys are never released and the provider never helps break encryption, whatever the instrument (commitment C9). CLOUD Act agreements cannot require decryption capability.",
                citations: ["18 U.S.C. § 2523(b)(3); provider policy"])
        }
        var decided: [(rule: Rule, verdict: Verdict, note: String)] = []
        for rule in applicable {
            guard let effects = rule.effects, let stated = effects[category.rawValue] ?? effects["*"] else { continue }
            if let failure = unmet[rule.id], stated != .denied {
                // An issuer without the competence the rule needs gets nothing under it, not even preservation.
                decided.append((rule, .denied, failure))
            } else {
                decided.append((rule, stated, rule.explanation))
            }
        }
        guard let strictest = decided.map(\.verdict).max(by: { $0.restriction < $1.restriction }) else {
            let label = instruments[demand.instrument.rawValue]?.label ?? demand.instrument.rawValue
            var explanation = "No rule in rulebook \(version) lets \(label) (\(demand.jurisdiction.country)) reach \(category.rawValue); nothing is disclosed without a rule that compels it (commitments C2, C6)."
            let dormant = rules.filter { facts.matchesInstrumentAndPlace($0) && !facts.isInForce($0) }
            if let first = dormant.first {
                explanation += " Rules for this instrument are not in force at the time of assessment (for example \(first.id), in force from \(first.effective?.from ?? "?") until \(first.effective?.until ?? "open"))."
            }
            return CategoryAssessment(verdict: .denied, rules: [RulebookInvariants.noRule], explanation: explanation, citations: [])
        }
        let deciding = decided.filter { $0.verdict == strictest }
        var result = CategoryAssessment(
            verdict: strictest, rules: deciding.map(\.rule.id), explanation: deciding.map(\.note).joined(separator: " "),
            citations: deciding.map(\.rule.citation))
        if strictest == .allowed {
            let limits = deciding.compactMap { $0.rule.limitedTo?[category.rawValue] }
            if let first = limits.first {
                result.limitedTo = limits.dropFirst().reduce(first) { kept, next in kept.filter(next.contains) }
            }
        }
        // Invariant: content is never compelled by an instrument the rulebook does not mark as able to.
        if category == .content && strictest == .allowed && instruments[demand.instrument.rawValue]?.compelsContent != true {
            return CategoryAssessment(
                verdict: .denied, rules: [RulebookInvariants.contentNeedsCompellingInstrument] + result.rules,
                explanation: "Content needs an instrument that compels content (a warrant or its equivalent); \(demand.instrument.rawValue) is not marked as one, so the rule that allowed it is overridden.",
                citations: result.citations)
        }
        return result
    }

    private func deadline(_ spec: DeadlineSpec, rule: Rule, demand: Demand) -> AssessedDeadline {
        let calendarID = spec.calendar ?? demand.jurisdiction.subdivision.flatMap { calendars[$0] != nil ? $0 : nil }
            ?? demand.jurisdiction.country
        let calendar = resolvedCalendar(calendarID)
        if spec.preferRequesterDate == true, let stated = demand.responseDueAt {
            return AssessedDeadline(
                kind: spec.kind, due: stated, rule: rule.id, amount: spec.amount, unit: spec.unit, regime: spec.regime,
                calendar: calendar.id, timeZone: calendar.timeZone.identifier, local: calendar.localTime(stated), covered: true,
                fromRequester: true, citation: rule.citation, note: "the return date stated on the process", renewal: spec.renewal)
        }
        let (due, covered) = calendar.deadline(from: demand.receivedAt, amount: spec.amount, unit: spec.unit, regime: spec.regime)
        return AssessedDeadline(
            kind: spec.kind, due: due, rule: rule.id, amount: spec.amount, unit: spec.unit, regime: spec.regime,
            calendar: calendar.id, timeZone: calendar.timeZone.identifier, local: calendar.localTime(due), covered: covered,
            fromRequester: false, citation: rule.citation, note: spec.note, renewal: spec.renewal)
    }

    private func notice(applicable: [Rule], demand: Demand) -> NoticeAssessment {
        var best = NoticeAssessment(
            status: .mayNotify, until: nil, afterEmergency: false, rules: [],
            explanation: "No rule bars notice: tell the customer promptly and send a copy of the demand (commitment C5).")
        var afterEmergency: [Rule] = []
        for rule in applicable {
            guard let spec = rule.notice else { continue }
            var candidate: NoticeAssessment
            switch spec.bar {
            case .afterEmergency:
                afterEmergency.append(rule)
                continue
            case .notPossible:
                candidate = NoticeAssessment(status: .notPossible, until: nil, afterEmergency: false, rules: [rule.id], explanation: rule.explanation)
            case .indefinite:
                candidate = NoticeAssessment(status: .barredIndefinitely, until: nil, afterEmergency: false, rules: [rule.id], explanation: rule.explanation)
            case .nonDisclosureOrder:
                guard let order = demand.nonDisclosureOrder else { continue }
                if order.isIndefinite || order.until == nil {
                    candidate = NoticeAssessment(status: .barredIndefinitely, until: nil, afterEmergency: false, rules: [rule.id], explanation: rule.explanation)
                } else {
                    // The order bars notice through its last day (NonDisclosureOrder.isInForce).
                    let lapses = order.until!.addingTimeInterval(24 * 3600)
                    candidate = NoticeAssessment(
                        status: .barredUntil, until: lapses, afterEmergency: false, rules: [rule.id],
                        explanation: rule.explanation + " Bar lapses at the end of \(Timestamp.formatDay(order.until!)) (UTC).")
                }
            }
            if let note = spec.note { candidate.explanation += " " + note }
            if candidate.status.strength > best.status.strength
                || (candidate.status == best.status && candidate.status == .barredUntil && (candidate.until ?? .distantPast) > (best.until ?? .distantPast))
            {
                best = candidate
            } else if candidate.status == best.status && best.status != .mayNotify {
                best.rules.append(contentsOf: candidate.rules)
            }
        }
        if !afterEmergency.isEmpty && best.status != .notPossible && best.status != .barredIndefinitely {
            best.afterEmergency = true
            best.rules.append(contentsOf: afterEmergency.map(\.id))
            best.explanation += " " + afterEmergency.map(\.explanation).joined(separator: " ")
        }
        return best
    }

    /// The calendar for an id (`DE`, `US-CA`), following `inherits`; a plain UTC calendar when unknown.
    func resolvedCalendar(_ id: String) -> LegalCalendar {
        guard let spec = calendars[id], let zone = TimeZone(identifier: spec.timeZone) else { return .plain(id: id) }
        var holidays = Set((spec.holidays ?? []).compactMap(LocalDay.init))
        var weekend = spec.weekend
        var coveredFrom = spec.coveredFrom.flatMap(LocalDay.init)
        var covered = spec.coveredThrough.flatMap(LocalDay.init)
        var parentID = spec.inherits
        var seen: Set<String> = [id]
        while let next = parentID, !seen.contains(next), let parent = calendars[next] {
            seen.insert(next)
            holidays.formUnion((parent.holidays ?? []).compactMap(LocalDay.init))
            weekend = weekend ?? parent.weekend
            if covered == nil { covered = parent.coveredThrough.flatMap(LocalDay.init) }
            if coveredFrom == nil { coveredFrom = parent.coveredFrom.flatMap(LocalDay.init) }
            parentID = parent.inherits
        }
        return LegalCalendar(id: id, timeZone: zone, weekend: weekend ?? [.saturday, .sunday], holidays: holidays, coveredFrom: coveredFrom, coveredThrough: covered)
    }
}

/// The facts of one assessment, derived once, and the condition checks over them.
struct AssessmentFacts {
    let rulebook: Rulebook
    let demand: Demand
    let customer: CustomerFacts
    let time: Date
    let day: String
    let qualifyingForeignGovernments: Set<String>

    init(rulebook: Rulebook, demand: Demand, customer: CustomerFacts, at time: Date) {
        self.rulebook = rulebook
        self.demand = demand
        self.customer = customer
        self.time = time
        let day = Timestamp.formatDay(time)
        self.day = day
        self.qualifyingForeignGovernments = Set(rulebook.qualifyingForeignGovernments.filter { $0.since <= day }.map(\.country))
    }

    /// Effective dates compare as `yyyy-mm-dd` text, which orders like the dates themselves.
    func isInForce(_ rule: Rule) -> Bool {
        if let from = rule.effective?.from, day < from { return false }
        if let until = rule.effective?.until, day >= until { return false }
        return true
    }

    func matchesInstrumentAndPlace(_ rule: Rule) -> Bool {
        (rule.instruments.contains("*") || rule.instruments.contains(demand.instrument.rawValue))
            && (rule.jurisdictions.contains("*") || rule.jurisdictions.contains { isIn(demand.jurisdiction, $0) })
    }

    func isIn(_ jurisdiction: Jurisdiction, _ place: String) -> Bool {
        place == jurisdiction.country || place == jurisdiction.subdivision || contains(place, jurisdiction.country)
    }

    /// Whether a country is `place` or a member of the region named `place`.
    func contains(_ place: String, _ country: String?) -> Bool {
        guard let country else { return false }
        return place == country || (rulebook.regions[place]?.contains(country) ?? false)
    }

    func isInAny(_ places: [String], _ country: String?) -> Bool {
        places.contains { contains($0, country) }
    }

    /// Art. 8: the enforcing State is involved when the order says so, or, when it is silent,
    /// unless the person resides in the issuing State.
    var enforcingAuthorityInvolved: Bool {
        demand.enforcingAuthorityNotified ?? (customer.residence != demand.jurisdiction.country)
    }

    var windowDays: Double? {
        demand.window.map { $0.to.timeIntervalSince($0.from) / 86_400 }
    }

    func holds(_ condition: RuleCondition?) -> Bool {
        guard let c = condition else { return true }
        if let expected = c.emergency, demand.isEmergency != expected { return false }
        if let expected = c.preservation, demand.isPreservation != expected { return false }
        if let expected = c.validated, (demand.validatingAuthority != nil) != expected { return false }
        if let any = c.requestedAny, !demand.categories.contains(where: { any.contains($0.rawValue) }) { return false }
        if let days = c.windowDaysAtLeast, let span = windowDays, span < Double(days) { return false }
        if let days = c.windowDaysBelow { guard let span = windowDays, span < Double(days) else { return false } }
        if let kind = c.tenantKind, customer.kind != kind { return false }
        if let places = c.issuingCountryNotIn, isInAny(places, demand.jurisdiction.country) { return false }
        if let places = c.customerDataOrResidenceIn,
            !(isInAny(places, customer.residence) || isInAny(places, customer.dataLocation))
        {
            return false
        }
        if let places = c.dataLocationIn, !isInAny(places, customer.dataLocation) { return false }
        if let expected = c.customerOutsideUS {
            guard let nationality = customer.nationality, let residence = customer.residence else { return false }
            if (nationality != "US" && residence != "US") != expected { return false }
        }
        if let expected = c.customerInQualifyingForeignGovernment {
            let places = [customer.nationality, customer.residence, customer.dataLocation].compactMap { $0 }
            if places.contains(where: qualifyingForeignGovernments.contains) != expected { return false }
        }
        if let expected = c.customerResidesInIssuingState {
            guard let residence = customer.residence else { return false }
            if (residence == demand.jurisdiction.country) != expected { return false }
        }
        if let expected = c.enforcingAuthorityNotified, enforcingAuthorityInvolved != expected { return false }
        if let kind = c.nonDisclosureOrder, !matches(kind) { return false }
        if let expected = c.unlinkedServicesOnly {
            let unlinkedOnly = !customer.services.isEmpty && customer.services.allSatisfy(\.unlinked)
            if unlinkedOnly != expected { return false }
        }
        if let roles = c.issuerRoleIn, !roles.contains(demand.issuingAuthority.role) { return false }
        if let roles = c.issuerRoleNotIn, roles.contains(demand.issuingAuthority.role) { return false }
        return true
    }

    func matches(_ kind: NDOCondition) -> Bool {
        guard let order = demand.nonDisclosureOrder else { return false }
        switch kind {
        case .present: return true
        case .indefinite: return order.isIndefinite
        case .dated: return !order.isIndefinite && order.until != nil
        case .overOneYear:
            guard !order.isIndefinite, let until = order.until else { return false }
            var utc = Calendar(identifier: .gregorian)
            utc.timeZone = TimeZone(identifier: "UTC")!
            let oneYear = utc.date(byAdding: .year, value: 1, to: demand.receivedAt)!
            return until.addingTimeInterval(24 * 3600) > oneYear
        }
    }

    /// Why the requirement is not met, or nil when it is.
    func failure(of requirement: RuleRequirement) -> String? {
        var problems: [String] = []
        if let roles = requirement.issuerRoles {
            let issuerOK = roles.contains(demand.issuingAuthority.role)
            let validatorOK = demand.validatingAuthority.map { requirement.validatorRoles?.contains($0.role) ?? false } ?? false
            if !issuerOK && !validatorOK {
                var problem = "Issued by a \(demand.issuingAuthority.role.rawValue), but the rule needs \(roles.map(\.rawValue).joined(separator: " or "))"
                if let validators = requirement.validatorRoles {
                    problem += " (or validation by \(validators.map(\.rawValue).joined(separator: " or ")))"
                }
                problems.append(problem + ".")
            }
        }
        if let years = requirement.minOffenceYears {
            let listedOK = requirement.listedOffenceSuffices == true && demand.isListedOffence == true
            if !listedOK {
                if let stated = demand.offenceMaxYears {
                    if stated < years {
                        problems.append("The offence carries at most \(stated) years; the rule needs at least \(years)\(requirement.listedOffenceSuffices == true ? " or a listed offence" : "").")
                    }
                } else {
                    problems.append("The demand does not state the offence's maximum sentence; the rule needs at least \(years) years\(requirement.listedOffenceSuffices == true ? " or a listed offence" : "").")
                }
            }
        }
        return problems.isEmpty ? nil : (problems.joined(separator: " ") + " " + requirement.reason)
    }
}
