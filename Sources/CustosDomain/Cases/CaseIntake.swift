import Foundation

/// Opening a case for a freshly accepted demand.
public enum CaseIntake {
    /// An internal service target used until the rulebook computes legal deadlines: the
    /// requester's stated return date when given, 24 hours for emergencies, 10 days otherwise.
    public static func provisionalDueDate(for demand: Demand) -> Date {
        if let due = demand.responseDueAt { return due }
        return demand.receivedAt.addingTimeInterval(demand.isEmergency ? 24 * 3600 : 10 * 24 * 3600)
    }

    /// Case numbers read `C-<year>-<5-digit sequence>`.
    public static func caseNumber(year: Int, sequence: Int) -> String {
        "C-\(year)-" + String(format: "%05d", sequence)
    }

    /// The new case plus the audit entries for receiving the demand and opening the case.
    public static func open(
        _ demand: Demand, customer: CustomerLink?, caseID: UUID, number: String, at time: Date, by actor: Actor
    ) -> (Case, [CaseEffect]) {
        let opened = Case(
            id: caseID, number: number, demand: demand, customer: customer, openedAt: time,
            dueAt: provisionalDueDate(for: demand))
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
            ]
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
