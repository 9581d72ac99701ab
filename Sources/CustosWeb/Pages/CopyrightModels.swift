import CustosDomain
import Foundation

/// A copyright notice as the staff console, the customer portal and the sender's page show it
/// (issue 9). Which actions appear depends on the viewer; the workflow checks them again.
public struct CopyrightNoticeModel: Sendable {
    public struct WorkModel: Sendable {
        public var description: String
        public var infringing: [String]
        public var copyrighted: [String]
    }

    public struct FindingModel: Sendable {
        public var id: String
        public var requirement: String
        public var citation: String
        public var status: String
        public var statusClass: String
        public var reason: String

        init(_ finding: ElementFinding) {
            id = finding.id
            requirement = finding.requirement
            citation = finding.citation
            status = finding.present ? "present" : "missing"
            statusClass = finding.present ? "allowed" : "denied"
            reason = finding.reason
        }
    }

    public var id: String
    public var number: String
    public var state: String
    public var stateLabel: String
    public var receivedAt: String
    public var complainant: String
    public var rightsOwner: String?
    public var signature: String
    public var works: [WorkModel]
    public var findings: [FindingModel]
    public var hasFindings: Bool
    public var validity: String?
    public var tenantName: String?
    public var responseDue: String?
    public var answer: String?
    public var counterNotice: String?
    public var restoreFrom: String?
    public var restoreBy: String?
    public var takenDown: String?
    public var restoredAt: String?
    public var courtAction: String?
    public var strike: Bool
    public var isClosed: Bool
    public var canTakedown: Bool
    public var canRestore: Bool
    public var canAnswer: Bool
    public var canCounter: Bool
    public var canConfirm: Bool
    public var canReportCourtAction: Bool
    public var basePath: String
    /// The sender's link token, on the sender's own page only.
    public var token: String?

    public init(_ notice: CopyrightCase, basePath: String, now: Date, staff: Bool = false, customer: Bool = false, sender: Bool = false) {
        id = notice.id.uuidString.lowercased()
        number = notice.number
        state = notice.state.rawValue
        stateLabel = notice.state.label
        receivedAt = Timestamp.format(notice.receivedAt)
        complainant = notice.text.complainant.name + (notice.text.complainant.organisation.map { ", \($0)" } ?? "")
        rightsOwner = notice.text.rightsOwner
        signature = notice.text.signature
        works = notice.text.works.map { WorkModel(description: $0.description, infringing: $0.infringingURLs, copyrighted: $0.copyrightedURLs) }
        findings = notice.findings.map(FindingModel.init)
        hasFindings = !notice.findings.isEmpty
        validity = notice.validity?.rawValue.replacingOccurrences(of: "_", with: " ")
        tenantName = notice.tenantName
        responseDue = notice.responseDueAt.map(Timestamp.format)
        answer = notice.answer?.rawValue.replacingOccurrences(of: "_", with: " ")
        counterNotice = notice.counterNotice.map { "by \($0.name): \($0.material) (signed \($0.signature))" }
        restoreFrom = notice.restoreFrom.map(Timestamp.format)
        restoreBy = notice.restoreBy.map(Timestamp.format)
        takenDown = notice.takenDownAt.map { "\(Timestamp.format($0)) by \(notice.takedownBy ?? "?")" }
        restoredAt = notice.restoredAt.map(Timestamp.format)
        courtAction = notice.courtAction
        strike = notice.strikeAt != nil
        isClosed = notice.state.isClosed
        // What the workflow would accept now, for this viewer (CopyrightCase.refusal is the rule).
        func possible(_ kind: CopyrightEvent.Kind) -> Bool { notice.refusal(of: kind, at: now) == nil }
        canTakedown = staff && possible(.recordTakedown)
        canRestore = staff && possible(.recordRestoration)
        canAnswer = customer && possible(.customerRemoved)
        canCounter = customer && possible(.counterNotice)
        canConfirm = sender && possible(.confirm)
        canReportCourtAction = sender && possible(.reportCourtAction)
        self.basePath = basePath
    }
}

/// `/staff/copyright`: every notice, and the repeat-infringer suspension cases.
public struct CopyrightBoardModel: Sendable {
    public struct SuspensionModel: Sendable {
        public var id: String
        public var tenant: String
        public var openedAt: String
        public var state: String
        public var notices: String
        public var decision: String?
        public var isOpen: Bool
        public var actionPath: String

        public init(id: UUID, tenant: String, openedAt: Date, state: String, notices: [String], decision: String?) {
            self.id = id.uuidString.lowercased()
            self.tenant = tenant
            self.openedAt = Timestamp.format(openedAt)
            self.state = state
            self.notices = notices.joined(separator: ", ")
            self.decision = decision
            self.isOpen = state == "open"
            self.actionPath = "/staff/copyright/suspensions/\(id.uuidString.lowercased())"
        }
    }

    public var notices: [CopyrightNoticeModel]
    public var suspensions: [SuspensionModel]
    public var hasSuspensions: Bool
    public var policy: String
    public var canDecide: Bool
    /// This half-year's figures.
    public var period: String
    public var figures: [FactModel]

    public init(notices: [CopyrightNoticeModel], suspensions: [SuspensionModel], policy: String, canDecide: Bool, period: String, figures: CopyrightFigures) {
        self.period = period
        self.figures = figures.rows.map { FactModel($0.0, String($0.1)) }
        self.notices = notices
        self.suspensions = suspensions
        self.hasSuspensions = !suspensions.isEmpty
        self.policy = policy
        self.canDecide = canDecide
    }
}

/// The customer's copyright notices.
public struct CustomerCopyrightModel: Sendable {
    public var notices: [CopyrightNoticeModel]
    public var isEmpty: Bool
    public var strikes: Int
    public var policy: String

    public init(notices: [CopyrightNoticeModel], strikes: Int, policy: String) {
        self.notices = notices
        self.isEmpty = notices.isEmpty
        self.strikes = strikes
        self.policy = policy
    }
}
