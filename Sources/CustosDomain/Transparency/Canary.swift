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

    /// Cases whose data went to a requester: released, or closed after a disclosure.
    static func disclosed(_ cases: [Case]) -> [Case] {
        cases.filter { $0.state == .released || ($0.state == .closed && [.content, .nonContent].contains($0.outcome)) }
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
