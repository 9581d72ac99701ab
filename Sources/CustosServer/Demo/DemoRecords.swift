import CustosDomain
import Foundation

/// The demo data store's records (issue 5): for each demo account, a year of realistic data in
/// every category: a contact profile, subscriber and billing records, sign-in and access logs,
/// messages and files, and key-material entries that must never leave. Deterministic, so the
/// demo's packages are the same on every machine.
enum DemoRecords {
    static let accounts: [(account: String, name: String, email: String)] = [
        ("acct-northwind-001", "Northwind Traders", "ops@northwind.example"),
        ("acct-mueller-001", "Müller Maschinenbau GmbH", "it@mueller-mb.example"),
        ("acct-contoso-001", "Contoso Health", "admin@contoso-health.example"),
        ("acct-alice-001", "Alice Example", "alice@example.com"),
        ("acct-dupont-001", "Jean Dupont", "jean.dupont@example.fr"),
        ("acct-relay-001", "Anonymous relay user", "relay-user@example.net"),
    ]

    /// Records for every demo account, dated in the year before `now`.
    static func all(now: Date) -> [CustomerRecord] {
        accounts.enumerated().flatMap { index, account in records(for: account, seed: index, now: now) }
    }

    static func records(for account: (account: String, name: String, email: String), seed: Int, now: Date) -> [CustomerRecord] {
        let day: TimeInterval = 86_400
        let start = now.addingTimeInterval(-365 * day)
        func at(_ days: Int, _ seconds: Int = 0) -> Date { start.addingTimeInterval(Double(days) * day + Double(seconds)) }
        func json(_ object: [String: Any]) -> Data {
            (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        }
        var out: [CustomerRecord] = []
        func add(_ category: DataCategory, _ date: Date, _ type: String, _ bytes: Data) {
            out.append(CustomerRecord(
                account: account.account, category: category, timestamp: date, mediaType: type, bytes: bytes,
                sourceID: "\(account.account)/\(category.rawValue)/\(out.count + 1)"))
        }
        add(.customerContact, at(1), "application/json", json(["account": account.account, "name": account.name, "email": account.email]))
        add(.subscriberInfo, at(1, 60), "application/json", json([
            "account": account.account, "name": account.name, "email": account.email, "created": Timestamp.format(at(1)),
            "plan": seed % 2 == 0 ? "business" : "personal", "billingAddress": "\(10 + seed) Example Street, Springfield",
            "paymentMethod": "card ending \(4000 + seed * 7)",
        ]))
        for month in 0..<12 {
            add(.subscriberInfo, at(month * 30 + 5), "application/json", json([
                "invoice": "INV-\(seed)-\(month + 1)", "amount": "\(19 + seed).00", "currency": "EUR", "paid": true,
            ]))
        }
        for signIn in 0..<24 {
            let when = at(signIn * 15 + 2, (signIn * 3_761 + seed * 911) % 86_400)
            let address = "203.0.113.\((signIn * 7 + seed * 13) % 250 + 1)"
            add(.identificationData, when, "application/json", json(["ip": address, "port": 40_000 + signIn, "at": Timestamp.format(when)]))
            add(.nonContent, when.addingTimeInterval(5), "text/plain", Data("\(Timestamp.format(when)) sign-in ok user=\(account.email) ip=\(address) agent=Mozilla/5.0\n".utf8))
        }
        for message in 0..<10 {
            let when = at(message * 33 + 9, 36_000)
            let eml = """
                From: \(account.email)\r
                To: partner\(message)@example.org\r
                Date: \(Timestamp.format(when))\r
                Subject: Order \(1_000 + message)\r
                \r
                Please find the order details for delivery \(message + 1) attached.\r

                """
            add(.content, when, "message/rfc822", Data(eml.utf8))
        }
        add(.content, at(200), "text/plain", Data("Quarterly plan for \(account.name): budget, hiring, travel.\n".utf8))
        add(.locationHistory, at(150), "application/json", json(["lat": 47.6 + Double(seed) / 10, "lon": -122.3, "accuracyMeters": 30]))
        add(.accessCredentials, at(3), "application/json", json(["passwordHash": "$2b$12$demo\(seed)", "totpEnrolled": true]))
        // C9: key material sits beside the data; no plan can reach it and the scope check cuts it.
        add(.encryptionKeys, at(1, 120), "application/json", json(["kid": "k-\(seed)", "wrappedKey": "demo-wrapped-key-material-\(seed)"]))
        return out
    }
}
