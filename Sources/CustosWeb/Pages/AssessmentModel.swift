import CustosDomain
import Foundation

/// The rulebook's assessment as the staff case page shows it: verdict per category with rules
/// and citations, deadlines with the time left, flags, notice and issuer findings.
public struct AssessmentModel: Sendable {
    public struct VerdictRow: Sendable {
        public var category: String
        public var label: String
        public var verdict: String
        /// CSS class: `allowed`, `denied`, `preserve`, `voluntary`.
        public var verdictClass: String
        public var rules: String
        public var explanation: String
        public var citations: String
        public var limitedTo: String?
    }

    public struct DeadlineRow: Sendable {
        public var kind: String
        public var due: String
        public var local: String
        public var timeLeft: String
        public var isOverdue: Bool
        public var counting: String
        public var rule: String
        public var note: String?
        public var isUncovered: Bool
    }

    public struct FlagRow: Sendable {
        public var flag: String
        public var explanation: String
        public var citations: String
    }

    public struct FindingRow: Sendable {
        public var rule: String
        public var satisfied: Bool
        public var reason: String
    }

    public var rulebookVersion: String
    /// Set when the rulebook in force is a different version: staff should reassess.
    public var newerRulebook: String?
    public var assessedAt: String
    public var verdicts: [VerdictRow]
    public var deadlines: [DeadlineRow]
    public var hasDeadlines: Bool
    public var flags: [FlagRow]
    public var hasFlags: Bool
    public var noticeStatus: String
    public var noticeUntil: String?
    public var noticeAfterEmergency: Bool
    public var noticeExplanation: String
    public var issuerStatus: String
    public var findings: [FindingRow]

    public init(_ assessment: Assessment, now: Date, rulebookInForce: String? = nil) {
        rulebookVersion = assessment.rulebookVersion
        newerRulebook = rulebookInForce.flatMap { $0 == assessment.rulebookVersion ? nil : $0 }
        assessedAt = Timestamp.format(assessment.assessedAt)
        verdicts = assessment.categories.sorted { $0.key < $1.key }.map { category, verdict in
            VerdictRow(
                category: category.rawValue, label: category.label, verdict: verdict.verdict.rawValue,
                verdictClass: verdict.verdict == .preserveOnly ? "preserve" : verdict.verdict.rawValue,
                rules: verdict.rules.joined(separator: ", "), explanation: verdict.explanation,
                citations: verdict.citations.joined(separator: "; "), limitedTo: verdict.limitedTo?.joined(separator: ", "))
        }
        deadlines = assessment.deadlines.map { deadline in
            DeadlineRow(
                kind: deadline.kind.replacingOccurrences(of: "_", with: " "), due: Timestamp.format(deadline.due), local: deadline.local,
                timeLeft: Self.timeLeft(until: deadline.due, now: now), isOverdue: deadline.due <= now,
                counting: deadline.fromRequester
                    ? "date stated by the requester"
                    : "\(deadline.amount) \(deadline.unit.rawValue.replacingOccurrences(of: "_", with: " ")), \(deadline.regime.rawValue), \(deadline.calendar) calendar",
                rule: deadline.rule, note: deadline.note, isUncovered: !deadline.covered)
        }
        hasDeadlines = !deadlines.isEmpty
        flags = assessment.flagDetails.map {
            FlagRow(flag: $0.flag.rawValue, explanation: $0.explanation, citations: $0.citations.joined(separator: "; "))
        }
        hasFlags = !flags.isEmpty
        noticeStatus = assessment.notice.status.rawValue
        noticeUntil = assessment.notice.until.map(Timestamp.format)
        noticeAfterEmergency = assessment.notice.afterEmergency
        noticeExplanation = assessment.notice.explanation
        issuerStatus = assessment.issuer.status.rawValue.replacingOccurrences(of: "_", with: " ")
        findings = assessment.issuer.findings.map { FindingRow(rule: $0.rule, satisfied: $0.satisfied, reason: $0.reason) }
    }

    /// "2 d 5 h left", "40 min left" or "overdue by 3 h".
    public static func timeLeft(until due: Date, now: Date) -> String {
        let seconds = Int(due.timeIntervalSince(now))
        let magnitude = abs(seconds)
        let days = magnitude / 86_400
        let hours = (magnitude % 86_400) / 3_600
        let minutes = (magnitude % 3_600) / 60
        let text = days > 0 ? "\(days) d \(hours) h" : (hours > 0 ? "\(hours) h \(minutes) min" : "\(minutes) min")
        return seconds > 0 ? "\(text) left" : "overdue by \(text)"
    }
}
