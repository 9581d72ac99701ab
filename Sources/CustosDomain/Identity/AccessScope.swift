import Foundation

/// Who may see a case: staff see all; an agency user only its agency's; a customer user only its
/// tenant's. Callers answer 404 (not 403) for an object outside scope, so existence does not leak.
public enum AccessScope {
    public static func canView(_ subject: Case, as principal: Principal) -> Bool {
        switch principal.kind {
        case .staff: !principal.roles.isEmpty
        case .agency: principal.agencyID == subject.agencyID
        case .customer: principal.tenantID != nil && principal.tenantID == subject.customer?.tenantID
        }
    }
}
