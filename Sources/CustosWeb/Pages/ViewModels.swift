import CustosDomain
import Foundation

/// Login page for one kind of user (`/staff/login`, `/agency/login`, `/customer/login`).
public struct LoginModel: Sendable {
    public var heading: String
    public var action: String
    public var email: String
    public init(heading: String, action: String, email: String = "") {
        self.heading = heading
        self.action = action
        self.email = email
    }
}

/// One row of the staff queue or an agency's list.
public struct CaseRowModel: Sendable {
    public var id: String
    public var number: String
    public var state: String
    public var stateLabel: String
    public var outcome: String
    public var instrument: String
    public var country: String
    public var tenant: String
    public var isEmergency: Bool
    public var due: String
    public var isOverdue: Bool
    public var opened: String
    public var reference: String

    public init(_ value: Case, reference: String = "", now: Date) {
        id = value.id.uuidString.lowercased()
        number = value.number
        state = value.state.rawValue
        stateLabel = value.state.label
        outcome = value.outcome?.rawValue ?? ""
        instrument = value.instrument.rawValue
        country = value.country
        tenant = value.customer?.tenantName ?? "—"
        isEmergency = value.isEmergency
        due = value.dueAt.map(Timestamp.format) ?? ""
        isOverdue = !value.isClosed && (value.dueAt.map { $0 < now } ?? false)
        opened = Timestamp.format(value.openedAt)
        self.reference = reference
    }
}

public struct Option: Sendable {
    public var value: String
    public var label: String
    public var isSelected: Bool
    public init(value: String, label: String, isSelected: Bool) {
        self.value = value
        self.label = label
        self.isSelected = isSelected
    }
}

/// The staff queue with its filters.
public struct QueueModel: Sendable {
    public var rows: [CaseRowModel]
    public var states: [Option]
    public var instruments: [Option]
    public var country: String
    public var isEmpty: Bool
    public var count: Int
    public init(rows: [CaseRowModel], states: [Option], instruments: [Option], country: String) {
        self.rows = rows
        self.isEmpty = rows.isEmpty
        self.count = rows.count
        self.states = states
        self.instruments = instruments
        self.country = country
    }
}

public struct FactModel: Sendable {
    public var label: String
    public var value: String
    public init(_ label: String, _ value: String) {
        self.label = label
        self.value = value
    }
}

public struct DocumentModel: Sendable {
    public var filename: String
    public var mediaType: String
    public var byteCount: Int
    public var sha256: String
    public var downloadPath: String
    public init(filename: String, mediaType: String, byteCount: Int, sha256: String, downloadPath: String) {
        self.filename = filename
        self.mediaType = mediaType
        self.byteCount = byteCount
        self.sha256 = sha256
        self.downloadPath = downloadPath
    }
}

public struct TimelineEntryModel: Sendable {
    public var sequence: Int
    public var at: String
    public var actor: String
    public var action: String
    public var isRefused: Bool
    public var details: String
    public var hashPrefix: String
    public init(_ entry: AuditEntry) {
        sequence = entry.sequence
        at = Timestamp.format(entry.record.at)
        actor = entry.record.actor
        action = entry.record.action
        isRefused = entry.record.outcome == .refused
        details = entry.record.details.sorted { $0.key < $1.key }.filter { !$0.value.isEmpty }
            .map { "\($0.key)=\($0.value)" }.joined(separator: " · ")
        hashPrefix = String(entry.hash.prefix(12))
    }
}

/// One action button (a form posting one event) on the case page.
public struct ActionModel: Sendable {
    public var kind: String
    public var label: String
    public var needsReason: Bool
    public var needsRules: Bool
    public var needsCategories: Bool
    public var needsCheck: Bool
    public var needsChallenge: Bool
    public var needsCount: Bool
    public var needsDate: Bool
    public var needsAnswer: Bool
    public var needsUpheld: Bool
    public var needsExcuse: Bool
    public var categories: [Option]

    public init(kind: CaseEvent.Kind, requested: [DataCategory]) {
        self.kind = kind.rawValue
        label = kind.label
        needsReason = [.verificationFailed, .reject, .askAgency, .agencyReplied, .withdraw].contains(kind)
        needsRules = kind == .reject
        needsCategories = kind == .approveScope
        needsExcuse = kind == .approveScope
        needsCheck = kind == .recordCheck
        needsChallenge = kind == .fileChallenge
        needsCount = kind == .collectionFinished
        needsDate = kind == .beginPreservation
        needsAnswer = kind == .agencyAnswer
        needsUpheld = [.challengeDecided, .preservationEnded].contains(kind)
        categories = requested.filter { $0 != .encryptionKeys }.map { Option(value: $0.rawValue, label: $0.label, isSelected: false) }
    }
}

/// The case page: facts, documents, timeline and the actions the viewer's roles allow.
public struct CaseModel: Sendable {
    public var id: String
    public var number: String
    public var stateLabel: String
    /// nil while open, so the template shows no badge.
    public var outcome: String?
    public var isEmergency: Bool
    public var facts: [FactModel]
    public var targets: [FactModel]
    public var documents: [DocumentModel]
    public var timeline: [TimelineEntryModel]
    public var actions: [ActionModel]
    public var hasActions: Bool
    public var eventPath: String

    public init(
        id: String, number: String, stateLabel: String, outcome: String?, isEmergency: Bool, facts: [FactModel],
        targets: [FactModel], documents: [DocumentModel], timeline: [TimelineEntryModel], actions: [ActionModel], eventPath: String
    ) {
        self.id = id
        self.number = number
        self.stateLabel = stateLabel
        self.outcome = outcome
        self.isEmergency = isEmergency
        self.facts = facts
        self.targets = targets
        self.documents = documents
        self.timeline = timeline
        self.actions = actions
        self.hasActions = !actions.isEmpty
        self.eventPath = eventPath
    }
}

/// The agency portal's list of its own demands.
public struct AgencyDemandsModel: Sendable {
    public var agencyName: String
    public var rows: [CaseRowModel]
    public var isEmpty: Bool
    public init(agencyName: String, rows: [CaseRowModel]) {
        self.agencyName = agencyName
        self.rows = rows
        self.isEmpty = rows.isEmpty
    }
}

/// The agency portal's submission form, refilled after a validation error.
public struct DemandFormModel: Sendable {
    public var instruments: [Option]
    public var roles: [Option]
    public var categories: [Option]
    public var targetTypes: [Option]
    public var issues: [ValidationIssue]
    public var hasIssues: Bool
    public var values: [String: String]

    public init(instruments: [Option], roles: [Option], categories: [Option], targetTypes: [Option], issues: [ValidationIssue], values: [String: String]) {
        self.instruments = instruments
        self.roles = roles
        self.categories = categories
        self.targetTypes = targetTypes
        self.issues = issues
        self.hasIssues = !issues.isEmpty
        self.values = values
    }
}

/// A simple message page (errors, not found, customer portal placeholder).
public struct MessageModel: Sendable {
    public var heading: String
    public var text: String
    public init(heading: String, text: String) {
        self.heading = heading
        self.text = text
    }
}
