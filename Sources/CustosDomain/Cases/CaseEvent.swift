import Foundation

/// The requester's answer to a redirect letter (C4).
public enum AgencyAnswer: String, Codable, CaseIterable, Sendable {
    case approachCustomer = "approach_customer"
    case withdraw
    case insist
}

/// The customer's answer to its notice, from the customer portal (C2, C4, C8).
public enum CustomerAnswer: String, Codable, CaseIterable, Sendable {
    /// The customer directs the provider to disclose (C2: "if the customer wants it").
    case consent
    /// The customer objects; the case goes to challenge review (C8).
    case object
    /// The customer will answer the requester itself; the case closes as redirected (C4).
    case answerDirectly = "answer_directly"

    public var label: String {
        switch self {
        case .consent: "We consent to the disclosure"
        case .object: "We object"
        case .answerDirectly: "We will answer the requester directly"
        }
    }
}

/// Everything that can happen to a case. Names on the wire are the `kind` values (snake_case).
public enum CaseEvent: Equatable, Sendable {
    case beginVerification
    case recordCheck(name: String, passed: Bool, note: String?)
    /// A callback to the agency on `phone`, which storage took from the agency directory (never
    /// from the request): whom staff reached and whether the request was confirmed (E2).
    case recordCallback(phone: AgencyPhone, spokeWith: String, confirmed: Bool, note: String?)
    case verificationPassed
    case verificationFailed(reason: String)
    case beginReview
    case askAgency(question: String)
    case agencyReplied(answer: String)
    case reject(reason: String, ruleIDs: [String])
    /// C4: send the requester to the enterprise customer; `contacts` are the tenant's legal contacts the letter names (C7).
    case redirect(note: String?, contacts: [LegalContact])
    case agencyAnswer(AgencyAnswer, note: String?)
    case fileChallenge(kind: ChallengeKind, court: String, grounds: String, deadline: Date?)
    case challengeDecided(demandUpheld: Bool, note: String?)
    /// Freeze a snapshot of the demand's scope until `until`, or until the rulebook's
    /// preservation expiry when nil (18 U.S.C. § 2703(f)(1); Reg. (EU) 2023/1543 Art. 11(1)).
    case beginPreservation(until: Date?)
    /// The requester renewed its preservation request: extend once by the rulebook's renewal.
    case renewPreservation(note: String?)
    case preservationEnded(followUpReceived: Bool)
    case approveScope(categories: [DataCategory], excuse: RedirectExcuse?)
    case startCollection
    case collectionFinished(recordCount: Int)
    case approveRelease
    case release
    case withdraw(reason: String?)
    case close
    /// The rulebook assessed the demand again (new rulebook version, or a case from before the rulebook).
    case reassess(Assessment)
    /// Staff mark an emergency over; notices held for it go out (E9).
    case endEmergency(note: String?)
    /// The customer answered its notice in the portal.
    case customerAnswer(CustomerAnswer, note: String?, attachments: [DemandDocument] = [])
    /// A reviewer decides not to challenge after a customer objection, with the reasons (C8).
    case dismissObjection(note: String)
    /// E8: the follow-up legal process for an emergency disclosure arrived (with its reference),
    /// or never came (with a note on the escalation).
    case recordFollowUp(received: Bool, reference: String?, note: String?)

    /// The wire and audit name of the event.
    public var kind: Kind {
        switch self {
        case .beginVerification: .beginVerification
        case .recordCheck: .recordCheck
        case .recordCallback: .recordCallback
        case .verificationPassed: .verificationPassed
        case .verificationFailed: .verificationFailed
        case .beginReview: .beginReview
        case .askAgency: .askAgency
        case .agencyReplied: .agencyReplied
        case .reject: .reject
        case .redirect: .redirect
        case .agencyAnswer: .agencyAnswer
        case .fileChallenge: .fileChallenge
        case .challengeDecided: .challengeDecided
        case .beginPreservation: .beginPreservation
        case .renewPreservation: .renewPreservation
        case .preservationEnded: .preservationEnded
        case .approveScope: .approveScope
        case .startCollection: .startCollection
        case .collectionFinished: .collectionFinished
        case .approveRelease: .approveRelease
        case .release: .release
        case .withdraw: .withdraw
        case .close: .close
        case .reassess: .reassess
        case .endEmergency: .endEmergency
        case .customerAnswer: .customerAnswer
        case .dismissObjection: .dismissObjection
        case .recordFollowUp: .recordFollowUp
        }
    }

    public enum Kind: String, Codable, CaseIterable, Sendable {
        case beginVerification = "begin_verification"
        case recordCheck = "record_check"
        case recordCallback = "record_callback"
        case verificationPassed = "verification_passed"
        case verificationFailed = "verification_failed"
        case beginReview = "begin_review"
        case askAgency = "ask_agency"
        case agencyReplied = "agency_replied"
        case reject
        case redirect
        case agencyAnswer = "agency_answer"
        case fileChallenge = "file_challenge"
        case challengeDecided = "challenge_decided"
        case beginPreservation = "begin_preservation"
        case renewPreservation = "renew_preservation"
        case preservationEnded = "preservation_ended"
        case approveScope = "approve_scope"
        case startCollection = "start_collection"
        case collectionFinished = "collection_finished"
        case approveRelease = "approve_release"
        case release
        case withdraw
        case close
        case reassess
        case endEmergency = "end_emergency"
        case customerAnswer = "customer_answer"
        case dismissObjection = "dismiss_objection"
        case recordFollowUp = "record_follow_up"

        public var label: String { rawValue.replacingOccurrences(of: "_", with: " ").capitalized }
    }

    /// The details an audit entry records, as plain strings.
    public var details: [String: String] {
        switch self {
        case .recordCheck(let name, let passed, let note):
            ["check": name, "passed": String(passed), "note": note ?? ""]
        case .recordCallback(let phone, let spokeWith, let confirmed, let note):
            // The entry records the number and where it came from, so the audit shows it was the directory's.
            ["number": phone.number, "phoneId": phone.id.uuidString.lowercased(), "source": phone.source, "spokeWith": spokeWith,
             "confirmed": String(confirmed), "note": note ?? ""]
        case .verificationFailed(let reason): ["reason": reason]
        case .askAgency(let question): ["question": question]
        case .agencyReplied(let answer): ["answer": answer]
        case .reject(let reason, let ruleIDs): ["reason": reason, "rules": ruleIDs.joined(separator: ",")]
        case .redirect(let note, let contacts):
            // C7: the redirect discloses the customer's contact details; the entry records exactly which.
            ["note": note ?? "", "disclosed": DataCategory.customerContact.rawValue, "contacts": contacts.map { "\($0.name) <\($0.email)>" }.joined(separator: "; ")]
        case .agencyAnswer(let answer, let note): ["answer": answer.rawValue, "note": note ?? ""]
        case .fileChallenge(let kind, let court, let grounds, let deadline):
            ["kind": kind.rawValue, "court": court, "grounds": grounds, "deadline": deadline.map(Timestamp.format) ?? ""]
        case .challengeDecided(let upheld, let note): ["demandUpheld": String(upheld), "note": note ?? ""]
        case .beginPreservation(let until): ["until": until.map(Timestamp.format) ?? ""]
        case .renewPreservation(let note): ["note": note ?? ""]
        case .preservationEnded(let followUp): ["followUpReceived": String(followUp)]
        case .approveScope(let categories, let excuse):
            ["categories": categories.map(\.rawValue).joined(separator: ","), "excuse": excuse?.rawValue ?? ""]
        case .collectionFinished(let count): ["records": String(count)]
        case .withdraw(let reason): ["reason": reason ?? ""]
        case .reassess(let assessment): CaseIntake.auditDetails(of: assessment)
        case .endEmergency(let note): ["note": note ?? ""]
        case .customerAnswer(let answer, let note, let attachments):
            // The entry names each attachment with its hash, so the record proves what the customer sent.
            ["answer": answer.rawValue, "note": note ?? "", "attachments": attachments.map { "\($0.filename) sha256:\($0.sha256)" }.joined(separator: "; ")]
        case .dismissObjection(let note): ["note": note]
        case .recordFollowUp(let received, let reference, let note):
            ["received": String(received), "reference": reference ?? "", "note": note ?? ""]
        case .beginVerification, .verificationPassed, .beginReview, .startCollection, .approveRelease, .release, .close:
            [:]
        }
    }
}
