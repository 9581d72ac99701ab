import Foundation
/// Where a case stands (workflow.md). Parallel facts (approvals, holds, challenges) live on `Case`.
public enum CaseState: String, Codable, CaseIterable, Sendable {
    case received
    case verifying
    case inReview = "in_review"
    case awaitingAgency = "awaiting_agency"
    case redirectPending = "redirect_pending"
    case challenged
    case preserving
    case scopeApproved = "scope_approved"
    case collecting
    case readyForRelease = "ready_for_release"
    case released
    case closed

    public var label: String {
        rawValue.replacingOccurrences(of: "_", with: " ").capitalized
    }
}

/// The single outcome of a closed case; these feed the transparency report directly (C1).
public enum CaseOutcome: String, Codable, CaseIterable, Sendable {
    case content
    case nonContent = "non_content"
    case noData = "no_data"
    case rejected
    case redirected
    case withdrawn
    case preserved

    /// The outcomes that sent the customer's data to the requester (a production was released).
    public static let disclosing: [CaseOutcome] = [.content, .nonContent]

    public var disclosedData: Bool { Self.disclosing.contains(self) }
}
