import Crypto
import Foundation

/// One thing wrong with a submitted demand, naming the field in the request's own terms.
public struct ValidationIssue: Codable, Equatable, Hashable, Sendable {
    public var field: String
    public var message: String

    public init(field: String, message: String) {
        self.field = field
        self.message = message
    }
}

/// Thrown when a draft cannot become a demand; carries every issue found, not just the first.
public struct DemandValidationError: Error, Equatable, Sendable {
    public var issues: [ValidationIssue]
    public init(issues: [ValidationIssue]) { self.issues = issues }
}

/// Limits that an operator may configure.
public struct DemandLimits: Sendable, Equatable {
    public var maxDocumentBytes: Int
    public var maxDocuments: Int
    public var acceptedMediaTypes: Set<String>

    public init(
        maxDocumentBytes: Int = 25 * 1024 * 1024, maxDocuments: Int = 10,
        acceptedMediaTypes: Set<String> = DemandLimits.defaultMediaTypes
    ) {
        self.maxDocumentBytes = maxDocumentBytes
        self.maxDocuments = maxDocuments
        self.acceptedMediaTypes = acceptedMediaTypes
    }

    /// The first bytes a file of each type starts with: a file that claims a type it is not is
    /// refused (a script named `.pdf`). Text and mail have no signature.
    static let signatures: [String: [[UInt8]]] = [
        "application/pdf": [Array("%PDF".utf8)], "image/png": [[0x89, 0x50, 0x4E, 0x47]], "image/jpeg": [[0xFF, 0xD8, 0xFF]],
        "image/tiff": [[0x49, 0x49, 0x2A, 0x00], [0x4D, 0x4D, 0x00, 0x2A]],
    ]
    /// More targets than this in one demand is a fishing expedition or an attack, not an order.
    public static let maxTargets = 1000
    /// No demand Custos handles was received before this (a typo or a forged date otherwise).
    public static let earliestReceipt = Date(timeIntervalSince1970: 631_152_000)  // 1990-01-01

    public static let defaultMediaTypes: Set<String> = [
        "application/pdf", "image/png", "image/jpeg", "image/tiff", "text/plain", "message/rfc822",
    ]
}

extension DemandDocument {
    /// Checks uploaded files (plain name, accepted media type, not empty, within the size limit)
    /// and hashes the good ones. Shared by demand intake and a customer's objection documents.
    public static func check(
        _ uploads: [DocumentUpload], limits: DemandLimits, makeID: () -> UUID
    ) -> (documents: [DemandDocument], bytes: [UUID: Data], issues: [ValidationIssue]) {
        var issues: [ValidationIssue] = []
        var documents: [DemandDocument] = []
        var bytes: [UUID: Data] = [:]
        func fail(_ field: String, _ message: String) { issues.append(.init(field: field, message: message)) }
        for upload in uploads {
            let name = upload.filename.trimmingCharacters(in: .whitespacesAndNewlines)
            if name.isEmpty || name.count > 255 || name.contains("/") || name.contains("\\") || name == "." || name == ".."
                || name.unicodeScalars.contains(where: { [.control, .format].contains($0.properties.generalCategory) })
            {
                // Control and format characters (NUL, bidi overrides such as U+202E) hide a name's real ending.
                fail("\(upload.field).filename", "must be a plain file name of 1 to 255 characters, without control or direction characters")
                continue
            }
            if !limits.acceptedMediaTypes.contains(upload.mediaType) {
                fail("\(upload.field).mediaType", "\"\(upload.mediaType)\" is not accepted; use one of \(limits.acceptedMediaTypes.sorted().joined(separator: ", "))")
                continue
            }
            if upload.bytes.isEmpty {
                fail(upload.field, "is empty")
                continue
            }
            if upload.bytes.count > limits.maxDocumentBytes {
                fail(upload.field, "is \(upload.bytes.count) bytes; the limit is \(limits.maxDocumentBytes) bytes")
                continue
            }
            if let magic = DemandLimits.signatures[upload.mediaType], !magic.contains(where: { upload.bytes.starts(with: $0) }) {
                fail(upload.field, "is not a \(upload.mediaType) file: its first bytes do not match the type it claims")
                continue
            }
            let document = DemandDocument(
                id: makeID(), filename: name, mediaType: upload.mediaType, byteCount: upload.bytes.count,
                sha256: Hex.encode(SHA256.hash(data: upload.bytes))
            )
            documents.append(document)
            bytes[document.id] = upload.bytes
        }
        return (documents, bytes, issues)
    }
}

/// A validated demand together with the document bytes to store.
public struct AcceptedDemand: Sendable {
    public var demand: Demand
    public var documentBytes: [UUID: Data]
}

extension Demand {
    /// Turns a requester's draft into a demand, or throws every problem found.
    ///
    /// - Parameters:
    ///   - now: the time of receipt; `receivedAt` defaults to it and may not lie in the future.
    ///   - requireDocuments: false only where nothing is stored, as in `custos rules assess`.
    ///   - makeID: the source of new ids (the domain never makes its own).
    public static func validate(
        _ draft: DemandDraft, uploads: [DocumentUpload], limits: DemandLimits,
        agencyID: UUID, submittedBy: UUID, now: Date, requireDocuments: Bool = true, makeID: () -> UUID
    ) throws(DemandValidationError) -> AcceptedDemand {
        var issues: [ValidationIssue] = []
        func fail(_ field: String, _ message: String) { issues.append(.init(field: field, message: message)) }
        func text(_ value: String?, _ field: String, max: Int = 500) -> String? {
            guard let trimmed = value?.trimmingCharacters(in: .whitespacesAndNewlines), !trimmed.isEmpty else {
                fail(field, "is required")
                return nil
            }
            guard trimmed.count <= max else {
                fail(field, "is longer than \(max) characters")
                return nil
            }
            return trimmed
        }
        func time(_ value: String?, _ field: String) -> Date? {
            guard let value else { return nil }
            guard let date = Timestamp.parse(value) else {
                fail(field, "must be an ISO 8601 timestamp such as 2026-05-04T09:00:00Z")
                return nil
            }
            return date
        }
        func window(_ value: DemandDraft.Window?, _ field: String) -> DateWindow? {
            guard let value else { return nil }
            if value.from == nil { fail("\(field).from", "is required") }
            if value.to == nil { fail("\(field).to", "is required") }
            guard let from = time(value.from, "\(field).from"), let to = time(value.to, "\(field).to") else { return nil }
            guard from < to else {
                fail("\(field).to", "must be after \(field).from")
                return nil
            }
            return DateWindow(from: from, to: to)
        }

        // Instrument and jurisdiction.
        var instrument: LegalInstrument?
        if let raw = text(draft.instrument, "instrument") {
            instrument = LegalInstrument(rawValue: raw)
            if instrument == nil {
                fail("instrument", "unknown instrument \"\(raw)\"; expected one of \(LegalInstrument.allCases.map(\.rawValue).joined(separator: ", "))")
            }
        }
        var jurisdiction: Jurisdiction?
        if let country = text(draft.jurisdiction, "jurisdiction", max: 2) {
            if Jurisdiction.countryCodes.contains(country) {
                jurisdiction = Jurisdiction(country: country)
                if let subdivision = draft.subdivision, !subdivision.isEmpty {
                    if Jurisdiction.isValidSubdivision(subdivision, of: country) {
                        jurisdiction?.subdivision = subdivision
                    } else {
                        fail("subdivision", "must be an ISO 3166-2 code of \(country), such as \(country)-XX")
                    }
                }
            } else {
                fail("jurisdiction", "must be an ISO 3166-1 alpha-2 country code such as US or DE")
            }
        }

        // An authority is a name and a known role; `field` names it in the problems.
        func authority(_ draftAuthority: DemandDraft.Authority, _ field: String) -> IssuingAuthority? {
            let name = text(draftAuthority.name, "\(field).name")
            var role: IssuerRole?
            if let raw = text(draftAuthority.role, "\(field).role") {
                role = IssuerRole(rawValue: raw)
                if role == nil {
                    fail("\(field).role", "unknown role \"\(raw)\"; expected one of \(IssuerRole.allCases.map(\.rawValue).joined(separator: ", "))")
                }
            }
            guard let name, let role else { return nil }
            return IssuingAuthority(name: name, role: role)
        }
        let issuer = draft.issuingAuthority.flatMap { authority($0, "issuingAuthority") }
        if draft.issuingAuthority == nil { fail("issuingAuthority", "is required") }
        // Validating authority (Reg. (EU) 2023/1543 Art. 4): optional, but complete when given.
        let validatingAuthority = draft.validatingAuthority.flatMap { authority($0, "validatingAuthority") }

        let caseReference = text(draft.caseReference, "caseReference", max: 200)
        let receivedAt = draft.receivedAt == nil ? now : time(draft.receivedAt, "receivedAt")
        if let receivedAt, receivedAt > now.addingTimeInterval(300) {
            fail("receivedAt", "lies in the future")
        }
        if let receivedAt, receivedAt < DemandLimits.earliestReceipt {
            fail("receivedAt", "lies before 1990; check the date")
        }
        let responseDueAt = time(draft.responseDueAt, "responseDueAt")

        // Targets.
        var targets: [Target] = []
        if let draftTargets = draft.targets, draftTargets.count > DemandLimits.maxTargets {
            fail("targets", "at most \(DemandLimits.maxTargets) targets per demand; split larger orders")
        } else if let draftTargets = draft.targets, !draftTargets.isEmpty {
            for (index, draftTarget) in draftTargets.enumerated() {
                let field = "targets[\(index)]"
                var type: TargetType?
                if let raw = text(draftTarget.type, "\(field).type") {
                    type = TargetType(rawValue: raw)
                    if type == nil {
                        fail("\(field).type", "unknown target type \"\(raw)\"; expected one of \(TargetType.allCases.map(\.rawValue).joined(separator: ", "))")
                    }
                }
                let value = text(draftTarget.value, "\(field).value", max: 320)
                let range = window(draftTarget.range, "\(field).range")
                if type == .ipAddress, draftTarget.range == nil {
                    fail("\(field).range", "is required for an ip_address target: an address identifies no one without the time it was used")
                }
                if let type, let value { targets.append(Target(type: type, value: value, range: range)) }
            }
        } else {
            fail("targets", "must name at least one target")
        }

        // Categories.
        var categories: [DataCategory] = []
        if let draftCategories = draft.categories, !draftCategories.isEmpty {
            for (index, raw) in draftCategories.enumerated() {
                if let category = DataCategory(rawValue: raw) {
                    if !categories.contains(category) { categories.append(category) }
                } else {
                    fail("categories[\(index)]", "unknown category \"\(raw)\"; expected one of \(DataCategory.allCases.map(\.rawValue).joined(separator: ", "))")
                }
            }
        } else {
            fail("categories", "must name at least one data category")
        }

        let dataWindow = window(draft.window, "window")
        if let years = draft.offenceMaxYears, years < 0 || years > 100 {
            fail("offenceMaxYears", "must be between 0 and 100")
        }
        if let statement = draft.emergencyStatement, statement.unicodeScalars.count > 10_000 {
            fail("emergencyStatement", "must be at most 10,000 characters")
        }
        if let category = draft.dsaCategory, !DSAOrders.categories.contains(category) {
            fail("dsaCategory", "must be a DSA category code such as STATEMENT_CATEGORY_SCAMS_AND_FRAUD")
        }

        // Non-disclosure order: a basis plus either an end date or `indefinite: true`.
        var order: NonDisclosureOrder?
        if let draftOrder = draft.nonDisclosureOrder {
            let basis = text(draftOrder.basis, "nonDisclosureOrder.basis")
            let isIndefinite = draftOrder.indefinite ?? false
            var until: Date?
            if let raw = draftOrder.until {
                until = Timestamp.parseDay(raw) ?? Timestamp.parse(raw)
                if until == nil { fail("nonDisclosureOrder.until", "must be a date such as 2027-05-04") }
            }
            if isIndefinite && draftOrder.until != nil {
                fail("nonDisclosureOrder.until", "cannot be given together with indefinite: true")
            } else if !isIndefinite && draftOrder.until == nil {
                fail("nonDisclosureOrder.until", "is required unless indefinite is true")
            }
            if let basis, isIndefinite || until != nil {
                order = NonDisclosureOrder(basis: basis, until: until, isIndefinite: isIndefinite)
            }
        }

        // Documents: every legal instrument arrives as a document, except an emergency request,
        // which may be made first and papered afterwards (18 U.S.C. § 2702(c)(4)).
        var documents: [DemandDocument] = []
        var documentBytes: [UUID: Data] = [:]
        if requireDocuments && uploads.isEmpty && !(draft.emergency ?? false) {
            fail("documents", "must include the instrument's document (for example the signed order as a PDF)")
        }
        if uploads.count > limits.maxDocuments {
            fail("documents", "at most \(limits.maxDocuments) documents per demand")
        }
        let checked = DemandDocument.check(uploads, limits: limits, makeID: makeID)
        issues += checked.issues
        documents = checked.documents
        documentBytes = checked.bytes

        guard issues.isEmpty, let instrument, let jurisdiction, let authority = issuer, let caseReference, let receivedAt else {
            throw DemandValidationError(issues: issues)
        }
        var demand = Demand(
            id: makeID(), agencyID: agencyID, submittedBy: submittedBy, instrument: instrument,
            jurisdiction: jurisdiction, issuingAuthority: authority, caseReference: caseReference,
            receivedAt: Timestamp.truncatedToMilliseconds(receivedAt), targets: targets, categories: categories,
            dataTypes: draft.dataTypes ?? [], window: dataWindow, offenceMaxYears: draft.offenceMaxYears,
            isListedOffence: draft.listedOffence, validatingAuthority: validatingAuthority,
            enforcingAuthorityNotified: draft.enforcingAuthorityNotified,
            isEmergency: draft.emergency ?? false, isPreservation: draft.preservation ?? false,
            nonDisclosureOrder: order, responseDueAt: responseDueAt, documents: documents
        )
        demand.dsaCategory = draft.dsaCategory
        if let statement = draft.emergencyStatement?.trimmingCharacters(in: .whitespacesAndNewlines), !statement.isEmpty {
            demand.emergencyStatement = statement
        }
        return AcceptedDemand(demand: demand, documentBytes: documentBytes)
    }
}
