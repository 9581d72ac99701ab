import Foundation
/// The legal instrument a demand rests on. The legal meaning of each (what it compels, deadlines,
/// notice rules) lives in the rulebook; here they are only the ids agencies may send.
public enum LegalInstrument: String, Codable, CaseIterable, Sendable {
    case usSubpoena = "us.subpoena"
    case usCourtOrder2703d = "us.court_order_2703d"
    case usSearchWarrant = "us.search_warrant"
    case usPreservation2703f = "us.preservation_2703f"
    case usEmergency2702 = "us.emergency_2702"
    case usNSL = "us.nsl"
    case usFISATitle1 = "us.fisa_title1"
    case usFISA702 = "us.fisa_702"
    case usCivilSubpoena = "us.civil_subpoena"
    case euEPOC = "eu.epoc"
    case euEPOCPR = "eu.epoc_pr"
    case ukOverseasProductionOrder = "uk.overseas_production_order"
    case deStPO100j = "de.stpo_100j"
    case deStPO100g = "de.stpo_100g"
    case brAdminRequisition = "br.admin_requisition"
    case brCourtOrder = "br.court_order"
    case brPreservationRequest = "br.preservation_request"
    case inLawfulOrder = "in.lawful_order"
    case intlMLAT = "intl.mlat"
    case intlBudapestArt6 = "intl.budapest_art6"
    case intlBudapestArt7 = "intl.budapest_art7"
    case other

    /// Instruments that only make the provider keep data (18 U.S.C. § 2703(f), e-Evidence EPOC-PR,
    /// Brazil's Marco Civil art. 13 § 2 request): nothing is disclosed on them, so the report counts
    /// them apart from every total.
    public var isPreservationOnly: Bool {
        switch self {
        case .usPreservation2703f, .euEPOCPR, .brPreservationRequest: true
        default: false
        }
    }

    /// National-security process is reported only in bands (C1), so the queue and report must know.
    public var isNationalSecurity: Bool {
        switch self {
        case .usNSL, .usFISATitle1, .usFISA702: true
        default: false
        }
    }
}

/// Who issued the instrument; the rulebook checks issuer competence against it.
public enum IssuerRole: String, Codable, CaseIterable, Sendable {
    case court
    case judge
    case prosecutor
    case investigatingAuthority = "investigating_authority"
    case police
    case nationalSecurity = "national_security"
    case regulator
    case civilParty = "civil_party"
    case rightsHolder = "rights_holder"
}

public struct IssuingAuthority: Codable, Equatable, Hashable, Sendable {
    public var name: String
    public var role: IssuerRole

    public init(name: String, role: IssuerRole) {
        self.name = name
        self.role = role
    }
}
