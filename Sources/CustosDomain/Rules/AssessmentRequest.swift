import Foundation

/// The input of `custos rules assess` and of the scenario files:
/// `{"demand": {…as POST /api/v1/demands…}, "customer": {"kind": …, "nationality": …,
/// "residence": …, "dataLocation": …, "services": [{"id": …, "unlinked": false}]}, "at": "…"}`.
public struct AssessmentRequest: Codable, Equatable, Sendable {
    public struct CustomerDraft: Codable, Equatable, Sendable {
        public struct ServiceDraft: Codable, Equatable, Sendable {
            public var id: String?
            public var unlinked: Bool?
        }

        public var kind: String?
        public var nationality: String?
        public var residence: String?
        public var dataLocation: String?
        public var services: [ServiceDraft]?
    }

    public var demand: DemandDraft?
    public var customer: CustomerDraft?
    public var at: String?

    static let topLevelKeys: Set<String> = ["demand", "customer", "at"]
    static let customerKeys: Set<String> = ["kind", "nationality", "residence", "dataLocation", "services"]
    static let demandKeys: Set<String> = [
        "instrument", "jurisdiction", "subdivision", "issuingAuthority", "validatingAuthority", "caseReference", "receivedAt",
        "targets", "categories", "dataTypes", "window", "offenceMaxYears", "listedOffence", "enforcingAuthorityNotified",
        "emergency", "preservation", "nonDisclosureOrder", "responseDueAt", "documents",
    ]

    /// Parses the JSON text, naming every problem: bad syntax, unknown fields (a misspelt field
    /// would otherwise be silently ignored and change the answer), and invalid values.
    public static func parse(_ data: Data, now: Date?) throws(DemandValidationError) -> (demand: Demand, customer: CustomerFacts, at: Date) {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: data)
        } catch {
            let detail = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String ?? "\(error)"
            throw DemandValidationError(issues: [ValidationIssue(field: "(input)", message: "is not valid JSON: \(detail)")])
        }
        guard let top = object as? [String: Any] else {
            throw DemandValidationError(issues: [ValidationIssue(field: "(input)", message: "must be one JSON object with demand, customer and at")])
        }
        var issues: [ValidationIssue] = []
        for key in top.keys.sorted() where !topLevelKeys.contains(key) {
            issues.append(ValidationIssue(field: key, message: "unknown field; expected demand, customer and at"))
        }
        if let demand = top["demand"] as? [String: Any] {
            for key in demand.keys.sorted() where !demandKeys.contains(key) {
                issues.append(ValidationIssue(field: "demand.\(key)", message: "unknown field"))
            }
        }
        if let customer = top["customer"] as? [String: Any] {
            for key in customer.keys.sorted() where !customerKeys.contains(key) {
                issues.append(ValidationIssue(field: "customer.\(key)", message: "unknown field; expected \(customerKeys.sorted().joined(separator: ", "))"))
            }
        }
        let request: AssessmentRequest
        do {
            request = try JSONDecoder().decode(AssessmentRequest.self, from: data)
        } catch let error as DecodingError {
            issues.append(ValidationIssue(field: Self.path(of: error), message: "has the wrong type"))
            throw DemandValidationError(issues: issues)
        } catch {
            throw DemandValidationError(issues: issues + [ValidationIssue(field: "(input)", message: "\(error)")])
        }
        switch Result(catching: { () throws(DemandValidationError) in try request.resolve(now: now) }) {
        case .success(let resolved) where issues.isEmpty: return resolved
        case .success: throw DemandValidationError(issues: issues)
        case .failure(let error): throw DemandValidationError(issues: issues + error.issues)
        }
    }

    private static func path(of error: DecodingError) -> String {
        let keys: [any CodingKey]
        switch error {
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context): keys = context.codingPath
        case .keyNotFound(_, let context): keys = context.codingPath
        @unknown default: keys = []
        }
        return keys.reduce("") { partial, key in
            if let index = key.intValue { return partial + "[\(index)]" }
            return partial.isEmpty ? key.stringValue : partial + "." + key.stringValue
        }
    }

    /// Validates the parts into the rulebook's inputs.
    public func resolve(now: Date?) throws(DemandValidationError) -> (demand: Demand, customer: CustomerFacts, at: Date) {
        var issues: [ValidationIssue] = []
        var time: Date?
        if let at {
            time = Timestamp.parse(at)
            if time == nil { issues.append(ValidationIssue(field: "at", message: "must be an ISO 8601 timestamp such as 2026-05-04T09:00:00Z")) }
        } else {
            time = now
            if now == nil { issues.append(ValidationIssue(field: "at", message: "is required")) }
        }
        var facts = CustomerFacts()
        if let customer {
            if let raw = customer.kind {
                if let kind = TenantKind(rawValue: raw) { facts.kind = kind } else {
                    issues.append(ValidationIssue(field: "customer.kind", message: "must be enterprise or consumer"))
                }
            }
            for (field, value) in [("nationality", customer.nationality), ("residence", customer.residence), ("dataLocation", customer.dataLocation)] {
                guard let value else { continue }
                if !Jurisdiction.countryCodes.contains(value) {
                    issues.append(ValidationIssue(field: "customer.\(field)", message: "must be an ISO 3166-1 alpha-2 country code such as DE"))
                }
            }
            facts.nationality = customer.nationality
            facts.residence = customer.residence ?? customer.nationality
            facts.dataLocation = customer.dataLocation
            for (index, service) in (customer.services ?? []).enumerated() {
                guard let id = service.id, !id.isEmpty else {
                    issues.append(ValidationIssue(field: "customer.services[\(index)].id", message: "is required"))
                    continue
                }
                facts.services.append(CustomerFacts.Service(id: id, unlinked: service.unlinked ?? false))
            }
        }
        guard let demand else {
            throw DemandValidationError(issues: issues + [ValidationIssue(field: "demand", message: "is required")])
        }
        let nobody = UUID(uuidString: "00000000-0000-0000-0000-000000000000")!
        let validated = Result { () throws(DemandValidationError) in
            try Demand.validate(
                // Without a time the demand is still checked, against a clock that no receipt lies after.
                demand, uploads: [], limits: DemandLimits(), agencyID: nobody, submittedBy: nobody, now: time ?? .distantFuture,
                requireDocuments: false, makeID: { nobody })
        }
        switch validated {
        case .success(let accepted) where issues.isEmpty:
            guard let time else { throw DemandValidationError(issues: issues) }
            return (accepted.demand, facts, time)
        case .success:
            throw DemandValidationError(issues: issues)
        case .failure(let error):
            throw DemandValidationError(issues: issues + error.issues.map { ValidationIssue(field: "demand.\($0.field)", message: $0.message) })
        }
    }
}
