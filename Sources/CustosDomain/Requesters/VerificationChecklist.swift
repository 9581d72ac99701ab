import Foundation

/// The verification checklist of one demand (issue 8): a demand is "valid" (the seed's word) only
/// when both the requester and the document are real. Each line is worked out from what the case
/// already records (how the requester signed in, the red flags, the rulebook's issuer finding, the
/// callbacks, the checks staff recorded), so the list cannot drift from the record.
public struct VerificationChecklist: Equatable, Sendable {
    public enum Status: String, Sendable {
        case passed
        case failed
        /// Nobody has checked it yet.
        case open
    }

    public struct Item: Equatable, Sendable {
        /// Stable key; also the check name staff record for the lines they check by hand.
        public var key: String
        public var label: String
        public var status: Status
        public var detail: String
    }

    /// The check staff record (with `record_check`) after looking at the document itself.
    public static let documentCheck = "document_signed"
    /// Flags that say the sender's address does not belong to the agency.
    static let domainFlags: Set<RedFlag.Code> = [.freeMailDomain, .lookalikeDomain, .domainNotInDirectory, .replyToMismatch, .blocklistedSender]

    public var items: [Item]

    public var isComplete: Bool { items.allSatisfy { $0.status == .passed } }
    public var failed: [Item] { items.filter { $0.status == .failed } }

    public init(case caseRecord: Case, demand: Demand) {
        var items: [Item] = []
        let signIn: (Status, String) =
            switch demand.credential {
            case .secondFactor?: (.passed, SubmissionCredential.secondFactor.label)
            case .apiToken?: (.passed, SubmissionCredential.apiToken.label)
            case .passwordOnly?: (.failed, SubmissionCredential.passwordOnly.label)
            case nil: (.open, "not recorded (the demand came before sign-ins were recorded)")
            }
        items.append(Item(key: "second_factor", label: "Portal account with second factor", status: signIn.0, detail: signIn.1))

        let domainFlags = (demand.redFlags ?? []).filter { Self.domainFlags.contains($0.code) }
        items.append(Item(
            key: "sender_domain", label: "Sender domain matches the agency", status: domainFlags.isEmpty ? .passed : .failed,
            detail: domainFlags.isEmpty
                ? "the sender's domain is one of the agency's directory domains"
                : domainFlags.map { "\($0.code.label): \($0.detail)" }.joined(separator: "; ")))

        let issuer: (Status, String) =
            switch caseRecord.assessment?.issuer.status {
            case .sufficient?: (.passed, "the rulebook's issuer requirements are met")
            case .notRequired?: (.passed, "no applicable rule requires a particular issuer")
            case .insufficient?:
                (.failed, caseRecord.assessment?.issuer.findings.filter { !$0.satisfied }.map { "\($0.rule): \($0.reason)" }.joined(separator: "; ") ?? "")
            case nil: (.open, "no assessment yet")
            }
        items.append(Item(key: "issuer_competent", label: "Issuer competent for \(demand.instrument.rawValue)", status: issuer.0, detail: issuer.1))

        items.append(Self.recorded(
            caseRecord.latestCheck(named: Self.documentCheck), key: Self.documentCheck, label: "Document signed, with case reference",
            open: "look at the document: signature, seal, case reference \(demand.caseReference)"))

        let callback: Item
        if let latest = caseRecord.latestCallback {
            callback = Item(
                key: "callback", label: "Callback on a directory number", status: latest.confirmed ? .passed : .failed,
                detail: "\(latest.phone.number) (\(latest.phone.source)); spoke with \(latest.spokeWith); \(latest.by), \(Timestamp.format(latest.at))")
        } else {
            callback = Item(
                key: "callback", label: "Callback on a directory number", status: .open,
                detail: "call the agency on a number from the directory, never one from the request (legal-rules.md §6.3 E2)")
        }
        items.append(callback)

        if caseRecord.isEmergency {
            for name in WorkflowPolicy.emergencyReleaseChecks {
                items.append(Self.recorded(
                    caseRecord.latestCheck(named: name), key: name, label: "Supervisor confirmation (emergency)",
                    open: "a supervisor at the agency confirms the emergency (legal-rules.md §6.3 E2)"))
            }
        }
        self.items = items
    }

    static func recorded(_ check: VerificationCheck?, key: String, label: String, open: String) -> Item {
        guard let check else { return Item(key: key, label: label, status: .open, detail: open) }
        return Item(
            key: key, label: label, status: check.passed ? .passed : .failed,
            detail: "\(check.by), \(Timestamp.format(check.at))\(check.note.map { ": \($0)" } ?? "")")
    }
}
