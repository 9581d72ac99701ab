import CustosDomain
import Foundation

/// The body of `POST /api/v1/cases/{id}/events` (and of the case page's action forms):
/// `{"type": "approve_scope", "categories": ["subscriber_info"]}`.
struct EventRequest: Codable {
    var type: String?
    var reason: String?
    var ruleIds: [String]?
    var categories: [String]?
    var excuse: String?
    var check: String?
    var passed: Bool?
    var note: String?
    var answer: String?
    var court: String?
    var challengeKind: String?
    var grounds: String?
    var deadline: String?
    var upheld: Bool?
    var until: String?
    var recordCount: Int?
    var reference: String?
    var received: Bool?
    /// `record_callback`: the directory number called (its id), whom staff reached, and the result.
    var phoneId: String?
    var spokeWith: String?
    var confirmed: Bool?

    func makeEvent() throws -> CaseEvent {
        guard let type else { throw Problem.invalid(field: "type", "is required") }
        guard let kind = CaseEvent.Kind(rawValue: type) else {
            throw Problem.invalid(field: "type", "unknown event \"\(type)\"; expected one of \(CaseEvent.Kind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        func date(_ value: String?, _ field: String) throws -> Date? {
            guard let value, !value.isEmpty else { return nil }
            guard let date = Timestamp.parse(value) ?? Timestamp.parseDay(value) else {
                throw Problem.invalid(field: field, "must be a date (2027-05-04) or timestamp (2027-05-04T00:00:00Z)")
            }
            return date
        }
        switch kind {
        case .beginVerification: return .beginVerification
        case .recordCheck:
            guard let passed else { throw Problem.invalid(field: "passed", "is required") }
            return .recordCheck(name: check ?? "", passed: passed, note: note)
        case .recordCallback:
            guard let raw = phoneId, let id = UUID(uuidString: raw) else {
                throw Problem.invalid(field: "phoneId", "is required: the id of a number in the agency directory")
            }
            guard let confirmed else { throw Problem.invalid(field: "confirmed", "is required (true: the agency confirmed the request)") }
            // The number itself comes from the directory (CustosServices.withDirectoryFacts), never from here.
            return .recordCallback(phone: AgencyPhone(id: id, number: "", label: "", source: ""), spokeWith: spokeWith ?? "", confirmed: confirmed, note: note)
        case .verificationPassed: return .verificationPassed
        case .verificationFailed: return .verificationFailed(reason: reason ?? "")
        case .beginReview: return .beginReview
        case .askAgency: return .askAgency(question: reason ?? note ?? "")
        case .agencyReplied: return .agencyReplied(answer: reason ?? note ?? "")
        case .reject: return .reject(reason: reason ?? "", ruleIDs: ruleIds ?? [])
        case .redirect: return .redirect(note: note, contacts: [])  // filled in by CustosServices from the directory
        case .agencyAnswer:
            guard let raw = answer, let value = AgencyAnswer(rawValue: raw) else {
                throw Problem.invalid(field: "answer", "must be one of \(AgencyAnswer.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return .agencyAnswer(value, note: note)
        case .fileChallenge:
            var challengeKind = ChallengeKind.other
            if let raw = self.challengeKind, !raw.isEmpty {
                guard let value = ChallengeKind(rawValue: raw) else {
                    throw Problem.invalid(field: "challengeKind", "must be one of \(ChallengeKind.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                challengeKind = value
            }
            return .fileChallenge(kind: challengeKind, court: court ?? "", grounds: grounds ?? "", deadline: try date(deadline, "deadline"))
        case .challengeDecided:
            guard let upheld else { throw Problem.invalid(field: "upheld", "is required") }
            return .challengeDecided(demandUpheld: upheld, note: note)
        case .beginPreservation:
            // Without a date the rulebook's preservation expiry applies.
            return .beginPreservation(until: try date(until, "until"))
        case .renewPreservation: return .renewPreservation(note: note)
        case .recordFollowUp:
            guard let received else { throw Problem.invalid(field: "received", "is required (true: the process arrived; false: it never came)") }
            return .recordFollowUp(received: received, reference: reference, note: note)
        case .preservationEnded: return .preservationEnded(followUpReceived: upheld ?? false)
        case .approveScope:
            var parsed: [DataCategory] = []
            for (index, raw) in (categories ?? []).enumerated() {
                guard let category = DataCategory(rawValue: raw) else {
                    throw Problem.invalid(field: "categories[\(index)]", "unknown category \"\(raw)\"")
                }
                parsed.append(category)
            }
            var parsedExcuse: RedirectExcuse?
            if let excuse, !excuse.isEmpty {
                guard let value = RedirectExcuse(rawValue: excuse) else {
                    throw Problem.invalid(field: "excuse", "must be one of \(RedirectExcuse.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                parsedExcuse = value
            }
            return .approveScope(categories: parsed, excuse: parsedExcuse)
        case .startCollection: return .startCollection
        case .collectionFinished:
            guard let recordCount else { throw Problem.invalid(field: "recordCount", "is required") }
            return .collectionFinished(recordCount: recordCount)
        case .approveRelease: return .approveRelease
        case .release: return .release
        case .withdraw: return .withdraw(reason: reason)
        case .close: return .close
        case .endEmergency: return .endEmergency(note: note ?? reason)
        case .customerAnswer:
            guard let raw = answer, let value = CustomerAnswer(rawValue: raw) else {
                throw Problem.invalid(field: "answer", "must be one of \(CustomerAnswer.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return .customerAnswer(value, note: note ?? reason)
        case .dismissObjection: return .dismissObjection(note: note ?? reason ?? "")
        case .reassess:
            // The server computes the assessment itself (CustosServices.apply(_:toCase:by:)).
            throw Problem.invalid(field: "type", "reassess is computed by the server; send it to the events endpoint as is")
        }
    }
}
