import Foundation

/// Opening a case for a freshly accepted demand.
public enum CaseIntake {
    /// An internal service target used until the rulebook computes legal deadlines: the
    /// requester's stated return date when given, 24 hours for emergencies, 10 days otherwise.
    public static func provisionalDueDate(for demand: Demand) -> Date {
        if let due = demand.responseDueAt { return due }
        return demand.receivedAt.addingTimeInterval(demand.isEmergency ? 24 * 3600 : 10 * 24 * 3600)
    }

    /// Deadline kinds by which the provider must answer the requester (produce, object, move to quash).
    public static let answerDeadlineKinds: Set<String> = ["production", "objection", "comity_motion", "art17_objection"]

    /// The case's due date: the earliest legal deadline for answering the requester, else the
    /// provisional service target.
    public static func dueDate(for demand: Demand, assessment: Assessment?) -> Date {
        let legal = assessment?.deadlines.filter { answerDeadlineKinds.contains($0.kind) }.map(\.due).min()
        return legal ?? provisionalDueDate(for: demand)
    }

    /// The audit details of an assessment: version, verdicts with their rules, flags, notice.
    public static func auditDetails(of assessment: Assessment) -> [String: String] {
        [
            "rulebookVersion": assessment.rulebookVersion,
            "verdicts": assessment.categories.sorted { $0.key < $1.key }
                .map { "\($0.key.rawValue)=\($0.value.verdict.rawValue)(\($0.value.rules.joined(separator: "+")))" }
                .joined(separator: ";"),
            "flags": assessment.flags.map(\.rawValue).joined(separator: ","),
            "notice": assessment.notice.status.rawValue + (assessment.notice.until.map { " until " + Timestamp.format($0) } ?? ""),
            "deadlines": assessment.deadlines.map { "\($0.kind)=\(Timestamp.format($0.due))" }.joined(separator: ";"),
        ]
    }

    /// Case numbers read `C-<year>-<5-digit sequence>`.
    public static func caseNumber(year: Int, sequence: Int) -> String {
        "C-\(year)-" + String(format: "%05d", sequence)
    }

    /// The new case plus the audit entries for receiving the demand and opening the case.
    public static func open(
        _ demand: Demand, customer: CustomerLink?, assessment: Assessment?, caseID: UUID, number: String, at time: Date,
        by actor: Actor
    ) -> (Case, [CaseEffect]) {
        let opened = Case(
            id: caseID, number: number, demand: demand, customer: customer, openedAt: time,
            dueAt: dueDate(for: demand, assessment: assessment), assessment: assessment)
        var received: [String: String] = [
            "instrument": demand.instrument.rawValue,
            "jurisdiction": demand.jurisdiction.country,
            "caseReference": demand.caseReference,
            "categories": demand.categories.map(\.rawValue).joined(separator: ","),
            "documents": demand.documents.map { "\($0.filename) sha256:\($0.sha256)" }.joined(separator: "; "),
        ]
        if demand.categories.contains(.encryptionKeys) {
            // C9: a request for key material is recorded so the refusal is logged and counted.
            received["encryptionKeysRequested"] = "true"
        }
        return (
            opened,
            [
                .audit(AuditRecord(
                    caseID: caseID, subject: "demand:\(demand.id.uuidString.lowercased())", action: "demand.received",
                    actor: actor.auditName, at: time, details: received)),
                .audit(AuditRecord(
                    caseID: caseID, subject: "case:\(caseID.uuidString.lowercased())", action: "case.opened",
                    actor: actor.auditName, at: time,
                    details: ["number": number, "tenant": customer?.tenantName ?? "", "state": opened.state.rawValue])),
            ] + (assessment.map { assessment in
                [.audit(AuditRecord(
                    caseID: caseID, subject: "case:\(caseID.uuidString.lowercased())", action: "case.assessed",
                    actor: actor.auditName, at: time, details: auditDetails(of: assessment)))]
            } ?? [])
        )
    }
}

/// The staff queue order: emergencies first, then the earliest due date, then the oldest.
public enum CaseQueue {
    public static func sorted(_ cases: [Case]) -> [Case] {
        cases.sorted { lhs, rhs in
            if lhs.isEmergency != rhs.isEmergency { return lhs.isEmergency }
            switch (lhs.dueAt, rhs.dueAt) {
            case let (l?, r?) where l != r: return l < r
            case (.some, nil): return true
            case (nil, .some): return false
            default: return lhs.openedAt < rhs.openedAt
            }
        }
    }
}
