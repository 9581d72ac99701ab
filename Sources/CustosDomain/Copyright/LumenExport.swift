import Foundation

/// Notices in the shape Lumen (lumendatabase.org, anchors.md) accepts: `{"notice": {…}}` with the
/// Rails nested attributes its API reads (`works_attributes` with `infringing_urls_attributes`,
/// `entity_notice_roles_attributes`), type `DMCA` or `Counternotice`, and `action_taken`. Personal
/// data is redacted as Lumen's own redactors do: e-mail addresses and telephone numbers, in the
/// entity fields and in free text.
public enum LumenExport {
    public static let redacted = "[REDACTED]"

    public struct URLItem: Codable, Equatable, Sendable { public var url: String }

    public struct Work: Codable, Equatable, Sendable {
        public var description: String
        public var kind: String
        public var infringing_urls_attributes: [URLItem]
        public var copyrighted_urls_attributes: [URLItem]
    }

    public struct Entity: Codable, Equatable, Sendable {
        public var name: String
        public var kind: String
        public var address_line_1: String?
        public var country_code: String?
        public var email: String?
        public var phone: String?
    }

    public struct Role: Codable, Equatable, Sendable {
        public var name: String
        public var entity_attributes: Entity
    }

    public struct Notice: Codable, Equatable, Sendable {
        public var type: String
        public var title: String
        public var subject: String?
        public var date_sent: String
        public var date_received: String
        public var source: String
        public var jurisdiction_list: String
        public var action_taken: String
        public var case_id_number: String
        public var counternotice_for_sid: String?
        public var works_attributes: [Work]
        public var entity_notice_roles_attributes: [Role]
    }

    public struct Envelope: Codable, Equatable, Sendable { public var notice: Notice }

    /// `Yes`, `No`, `Partial` or `Unspecified`, from where the notice ended.
    public static func actionTaken(_ state: CopyrightCase.State) -> String {
        switch state {
        case .takenDown, .courtAction: "Yes"
        case .restored: "Partial"
        case .rejected, .deficient, .notHosted: "No"
        case .awaitingConfirmation, .withCustomer, .takedownPending, .countered: "Unspecified"
        }
    }

    /// The notices (and the counter-notices they received) of `cases` that may be published at
    /// `time`: confirmed ones received at least `delay` before it (Lumen's per-submitter publication delay).
    public static func envelopes(_ cases: [CopyrightCase], provider: String, at time: Date, delay: TimeInterval) -> [Envelope] {
        var out: [Envelope] = []
        for subject in cases where subject.confirmedAt != nil && time.timeIntervalSince(subject.receivedAt) >= delay {
            let day = String(Timestamp.format(subject.receivedAt).prefix(10))
            let text = subject.text
            var roles = [Role(name: "recipient", entity_attributes: Entity(name: provider, kind: "organization", country_code: "US"))]
            let sender = Entity(
                name: scrub(text.complainant.organisation ?? text.complainant.name), kind: text.complainant.organisation == nil ? "individual" : "organization",
                address_line_1: text.complainant.address == nil ? nil : redacted, country_code: text.complainant.country,
                email: redacted, phone: text.complainant.phone == nil ? nil : redacted)
            roles.append(Role(name: "sender", entity_attributes: sender))
            if let owner = text.rightsOwner { roles.append(Role(name: "principal", entity_attributes: Entity(name: scrub(owner), kind: "organization"))) }
            let works: [Work] = text.works.map { work in
                Work(
                    description: scrub(work.description), kind: "Unspecified",
                    infringing_urls_attributes: work.infringingURLs.map { URLItem(url: $0) },
                    copyrighted_urls_attributes: work.copyrightedURLs.map { URLItem(url: $0) })
            }
            let notice = Notice(
                type: "DMCA", title: "DMCA notice to \(provider)", subject: nil, date_sent: day, date_received: day, source: "Online Form",
                jurisdiction_list: "US", action_taken: actionTaken(subject.state), case_id_number: subject.number, counternotice_for_sid: nil,
                works_attributes: works, entity_notice_roles_attributes: roles)
            out.append(Envelope(notice: notice))
            if let counter = subject.counterNotice, let received = subject.counterReceivedAt {
                let counterDay = String(Timestamp.format(received).prefix(10))
                out.append(Envelope(notice: Notice(
                    type: "Counternotice", title: "Counter-notice to \(subject.number)", subject: nil, date_sent: counterDay, date_received: counterDay,
                    source: "Online Form", jurisdiction_list: "US", action_taken: subject.state == .restored ? "Yes" : actionTaken(subject.state),
                    case_id_number: subject.number + "-C", counternotice_for_sid: subject.number,
                    works_attributes: [Work(description: scrub(counter.material), kind: "Unspecified", infringing_urls_attributes: [], copyrighted_urls_attributes: [])],
                    entity_notice_roles_attributes: [
                        Role(name: "recipient", entity_attributes: Entity(name: provider, kind: "organization", country_code: "US")),
                        Role(name: "sender", entity_attributes: Entity(name: scrub(counter.name), kind: "organization", address_line_1: redacted, email: redacted, phone: redacted)),
                    ])))
            }
        }
        return out
    }

    /// Replaces e-mail addresses and telephone-like digit runs in free text.
    public static func scrub(_ text: String) -> String {
        var out = text.replacing(/[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/, with: redacted)
        out = out.replacing(/\+?[0-9][0-9 ()\/.-]{6,}[0-9]/, with: redacted)
        return out
    }
}
