import CustosDomain
import Foundation

/// What the agency sees of its demand: never internal notes or other customers' facts.
struct DemandSummary: Encodable {
    var id: UUID
    var status: String
    var outcome: String?
    var caseNumber: String
    var caseReference: String
    var instrument: String
    var receivedAt: Date
    var documents: [DemandDocument]
    /// C4: the letter asking the requester to approach the customer, and when its answer is due.
    var redirectLetter: String?
    var redirectAnswerDueAt: Date?

    init(_ demand: Demand, _ caseRecord: Case) {
        redirectLetter = caseRecord.redirectLetter
        redirectAnswerDueAt = caseRecord.redirectAnswerDueAt
        id = demand.id
        status = caseRecord.state.rawValue
        outcome = caseRecord.outcome?.rawValue
        caseNumber = caseRecord.number
        caseReference = demand.caseReference
        instrument = demand.instrument.rawValue
        receivedAt = demand.receivedAt
        documents = demand.documents
    }
}

/// A case with its demand and timeline, for staff.
struct CaseDetail: Encodable {
    var caseRecord: Case
    var demand: Demand?
    var timeline: [AuditEntry]
    var availableEvents: [String]

    enum CodingKeys: String, CodingKey {
        case caseRecord = "case"
        case demand, timeline, availableEvents
    }
}

/// A package's state in the API (`GET /api/v1/cases/{id}/production`).
struct PackageStatus: Encodable {
    var purpose: String
    var status: String
    var recordsRead: Int
    var recordsExpected: Int?
    var percent: Int?
    var updatedAt: String
    var builtAt: String?
    var files: Int?
    var bytes: Int?
    var merkleRoot: String?
    var manifestSHA256: String?
    var error: String?
    var deletedAt: String?
    var deletionReason: String?

    init(_ record: PackageRecord) {
        purpose = record.purpose.rawValue
        status = record.status.rawValue
        recordsRead = record.recordsRead
        recordsExpected = record.recordsExpected
        percent = record.percent
        updatedAt = Timestamp.format(record.updatedAt)
        builtAt = record.builtAt.map(Timestamp.format)
        files = record.files
        bytes = record.bytes
        merkleRoot = record.merkleRoot
        manifestSHA256 = record.manifestSHA256
        error = record.error
        deletedAt = record.deletedAt.map(Timestamp.format)
        deletionReason = record.deletionReason
    }
}
