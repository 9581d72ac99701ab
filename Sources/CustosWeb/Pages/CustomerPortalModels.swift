import CustosDomain
import Foundation

/// One demand as its customer sees it in the portal: what was asked, by whom, a copy, and a way to answer.
public struct CustomerNoticeItem: Sendable {
    public struct Copy: Sendable {
        public var filename: String
        public var downloadPath: String
    }

    public var caseID: String
    public var caseNumber: String
    public var instrument: String
    public var requester: String
    public var caseReference: String
    public var receivedAt: String
    public var categories: String
    public var dueAt: String
    public var documents: [Copy]
    public var answered: String?
    public var canAnswer: Bool
    public var answerPath: String
    public var isClosed: Bool
    /// Where the customer downloads the tlog-proof that this demand is in the public
    /// legal-process log, once it is published there (issue 6).
    public var proofPath: String?

    public init(_ subject: Case, demand: Demand, instrumentLabel: String, hasLogProof: Bool = false) {
        caseID = subject.id.uuidString.lowercased()
        caseNumber = subject.number
        instrument = instrumentLabel
        requester = demand.issuingAuthority.name
        caseReference = demand.caseReference
        receivedAt = Timestamp.format(demand.receivedAt)
        categories = demand.categories.map(\.label).joined(separator: ", ")
        dueAt = subject.dueAt.map(Timestamp.format) ?? "—"
        documents = demand.documents.map { Copy(filename: $0.filename, downloadPath: "/customer/documents/\($0.id.uuidString.lowercased())") }
        answered = subject.customerAnswer.map { answer in
            let documents = (answer.attachments ?? []).map { "\($0.filename) (SHA-256 \($0.sha256.prefix(12))…)" }
            return "\(answer.answer.label) (\(Timestamp.format(answer.at)))" + (documents.isEmpty ? "" : "; documents sent: " + documents.joined(separator: ", "))
        }
        isClosed = subject.isClosed
        canAnswer = subject.customerAnswer == nil && CaseWorkflow.sourceStates(of: .customerAnswer).contains(subject.state)
        answerPath = "/customer/cases/\(caseID)/answer"
        proofPath = hasLogProof ? "/customer/cases/\(caseID)/proof.tlog-proof" : nil
    }
}

/// The customer portal's home: the demands about this tenant that no legal bar holds back.
public struct CustomerPortalModel: Sendable {
    public var tenantName: String
    public var items: [CustomerNoticeItem]
    public var isEmpty: Bool
    /// Where this tenant's notices are sent, so it can tell whether they reach the right people.
    public var noticeContacts: String
    public var noticeWebhook: String?

    public init(tenantName: String, items: [CustomerNoticeItem], noticeContacts: [String] = [], noticeWebhook: String? = nil) {
        self.tenantName = tenantName
        self.items = items
        self.isEmpty = items.isEmpty
        self.noticeContacts = noticeContacts.isEmpty ? "no contact on record" : noticeContacts.joined(separator: ", ")
        self.noticeWebhook = noticeWebhook
    }
}
