import Foundation

/// The canary's statements (tlog.md §5) and when each holds, decided from the cases alone; the
/// server adds whether the stored checkpoints are consistent. A statement that stops holding is
/// dropped for good by storage, never reworded.
public enum Canary {
    public struct Statement: Equatable, Sendable {
        public var id: String
        public var text: String
        public var holds: Bool
    }

    /// Whether a case's data went to a requester: released, or closed after a disclosure.
    static func isDisclosure(_ subject: Case) -> Bool {
        subject.state == .released || (subject.state == .closed && subject.outcome?.disclosedData == true)
    }

    static func disclosed(_ cases: [Case]) -> [Case] { cases.filter(isDisclosure) }

    /// Whether a case can change any statement: a disclosure, or national-security process. The
    /// statements over these cases alone are the statements over all, so storage reads only
    /// these, not every case the installation ever had.
    public static func bearsOnStatements(_ subject: Case) -> Bool {
        isDisclosure(subject) || subject.instrument.isNationalSecurity
    }

    public static func statements(cases: [Case], checkpointsConsistent: Bool, includeNationalSecurity: Bool) -> [Statement] {
        let disclosed = disclosed(cases)
        var statements = [
            Statement(
                id: "no-keys-disclosed", text: "No encryption key has been disclosed to any requester.",
                holds: !disclosed.contains { $0.approvedScope?.contains(.encryptionKeys) == true }),
            Statement(
                id: "two-person-release", text: "Every production released was approved by two different people.",
                holds: disclosed.allSatisfy { Set($0.releaseApprovals.map(\.principalID)).count >= 2 }),
            Statement(
                id: "logs-consistent", text: "Every checkpoint of the audit and legal-process logs is consistent with all earlier ones.",
                holds: checkpointsConsistent),
        ]
        // A legal decision, not an engineering one (tlog.md §5): only when the provider opts in.
        if includeNationalSecurity {
            statements.append(Statement(
                id: "no-national-security-process", text: "No national security letter or FISA order has been received.",
                holds: !cases.contains { $0.instrument.isNationalSecurity }))
        }
        return statements
    }
}
