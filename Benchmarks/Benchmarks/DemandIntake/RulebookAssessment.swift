import Benchmark
import CustosDomain
import Foundation

/// Issue 3's latency goal: one `Rulebook.assess` well under a millisecond at p99, so intake can
/// assess every demand inline. The inputs rotate through demands that exercise most of the
/// engine: conditions on customer facts, issuer requirements, overrides, several calendars and
/// counting regimes, notice bars and flags.
func rulebookBenchmarks() {
    Benchmark("Rulebook.assess (bundled rulebook, 6 rotating demands)") { benchmark in
        let rulebook = try Rulebook.bundled()
        let inputs = try RulebookInputs.all.map { try AssessmentRequest.parse(Data($0.utf8), now: nil) }
        benchmark.startMeasurement()
        for index in benchmark.scaledIterations {
            let (demand, customer, at) = inputs[index % inputs.count]
            blackHole(rulebook.assess(demand, customer: customer, at: at))
        }
    }

    Benchmark("Rulebook load (decode + validate the bundled rulebook's JSON)") { benchmark in
        // The bundled rulebook re-encoded: the same rules, calendars and regions as the shipped file.
        let data = try JSONEncoder().encode(try Rulebook.bundled())
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(try Rulebook.load(data, source: "rulebook.json"))
        }
    }
}

enum RulebookInputs {
    static let all = [
        // US warrant for an EU resident's content held in Ireland, with a dated gag order.
        #"{"demand": {"instrument": "us.search_warrant", "jurisdiction": "US", "subdivision": "US-WA", "issuingAuthority": {"name": "W.D. Wash.", "role": "judge"}, "caseReference": "1", "receivedAt": "2026-05-04T09:00:00Z", "targets": [{"type": "email", "value": "a@example.com"}], "categories": ["subscriber_info", "non_content", "content"], "nonDisclosureOrder": {"basis": "2705(b)", "until": "2027-06-30"}}, "customer": {"kind": "enterprise", "nationality": "DE", "residence": "DE", "dataLocation": "IE", "services": [{"id": "s", "unlinked": false}]}, "at": "2026-05-04T09:00:00Z"}"#,
        // EPOC from a prosecutor for content and subscriber data of a person in another Member State.
        #"{"demand": {"instrument": "eu.epoc", "jurisdiction": "DE", "issuingAuthority": {"name": "StA", "role": "prosecutor"}, "caseReference": "2", "receivedAt": "2026-12-15T09:00:00Z", "targets": [{"type": "email", "value": "a@example.com"}], "categories": ["subscriber_info", "content"], "offenceMaxYears": 5}, "customer": {"kind": "consumer", "nationality": "FR", "residence": "FR", "dataLocation": "US"}, "at": "2026-12-15T09:00:00Z"}"#,
        // Grand-jury subpoena over Thanksgiving, asking for too much.
        #"{"demand": {"instrument": "us.subpoena", "jurisdiction": "US", "issuingAuthority": {"name": "GJ", "role": "prosecutor"}, "caseReference": "3", "receivedAt": "2026-11-16T15:00:00Z", "targets": [{"type": "email", "value": "a@example.com"}], "categories": ["subscriber_info", "non_content", "location_history", "content", "encryption_keys"]}, "customer": {"kind": "consumer", "nationality": "US"}, "at": "2026-11-16T15:00:00Z"}"#,
        // NSL asking for content.
        #"{"demand": {"instrument": "us.nsl", "jurisdiction": "US", "issuingAuthority": {"name": "FBI", "role": "national_security"}, "caseReference": "4", "receivedAt": "2026-05-04T09:00:00Z", "targets": [{"type": "email", "value": "a@example.com"}], "categories": ["subscriber_info", "content"]}, "customer": {"kind": "consumer", "nationality": "US"}, "at": "2026-05-04T09:00:00Z"}"#,
        // Emergency EPOC from the police without validation.
        #"{"demand": {"instrument": "eu.epoc", "jurisdiction": "FR", "issuingAuthority": {"name": "Police", "role": "police"}, "caseReference": "5", "receivedAt": "2026-09-07T10:20:00Z", "targets": [{"type": "email", "value": "a@example.com"}], "categories": ["subscriber_info"], "emergency": true}, "customer": {"kind": "consumer", "nationality": "FR"}, "at": "2026-09-07T10:20:00Z"}"#,
        // US warrant for a UK resident: CLOUD Act comity motion.
        #"{"demand": {"instrument": "us.search_warrant", "jurisdiction": "US", "issuingAuthority": {"name": "SDNY", "role": "judge"}, "caseReference": "6", "receivedAt": "2026-05-04T09:00:00Z", "targets": [{"type": "email", "value": "a@example.com"}], "categories": ["content"]}, "customer": {"kind": "consumer", "nationality": "GB", "residence": "GB", "dataLocation": "GB"}, "at": "2026-05-04T09:00:00Z"}"#,
    ]
}
