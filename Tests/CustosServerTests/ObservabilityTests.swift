import Configuration
import CustosDomain
@testable import CustosServer
import CustosStorage
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Testing

/// Issue 28, item 5: `GET /metrics` in Prometheus text format, only for the scraper, with the
/// requests per route and the installation's state; JSON log lines on request.
@Suite struct ObservabilityTests {
    static func reader(_ extra: [AbsoluteConfigKey: ConfigValue]) -> ConfigReader {
        var values: [AbsoluteConfigKey: ConfigValue] = ["custos.database.memory": true, "custos.log.level": "error"]
        for (key, value) in extra { values[key] = value }
        return ConfigReader(providers: [InMemoryProvider(values: values)])
    }

    /// The value of one sample line (`name{labels} value`).
    static func sample(_ text: String, _ prefix: String) -> Double? {
        text.split(separator: "\n").first { $0.hasPrefix(prefix + " ") }.flatMap { Double($0.split(separator: " ").last!) }
    }

    @Test func metricsNeedTheScrapersTokenAndShowRoutesCasesJobsAndLogs() async throws {
        let token = "scrape-" + UUID().uuidString
        try await ServerTests.withApp(reader: Self.reader(["custos.metrics.token": .init(.string(token), isSecret: true)])) { client, tokens, services in
            try await client.execute(uri: "/api/v1/demands", method: .post, headers: ServerTests.headers(tokens.officer), body: ByteBuffer(string: ServerTests.demandJSON())) {
                #expect($0.status == .created)
            }
            try await client.execute(uri: "/metrics", method: .get) { #expect($0.status == .forbidden) }
            try await client.execute(uri: "/metrics", method: .get, headers: [.authorization: "Bearer wrong"]) { #expect($0.status == .forbidden) }
            try await client.execute(uri: "/metrics", method: .get, headers: [.authorization: "Bearer \(token)"]) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType]?.hasPrefix("text/plain; version=0.0.4") == true)
                let text = String(buffer: response.body)
                #expect(Self.sample(text, #"custos_cases_open{state="received"}"#) == 1, "\(text.prefix(2000))")
                #expect(Self.sample(text, #"custos_cases_open{state="in_review"}"#) == 0)
                #expect((Self.sample(text, #"custos_log_size{log="audit"}"#) ?? 0) >= 1)
                #expect(text.contains("custos_checkpoint_age_seconds"))
                #expect(text.contains(#"hb_requests{http_route="/api/v1/demands",http_request_method="POST",http_response_status_code="201"}"#), "\(text.prefix(3000))")
                #expect(text.contains("http_server_request_duration_bucket"))
                #expect(text.contains("custos_instances_live"))
                #expect(Self.sample(text, "custos_keyring_opens") == 1)
            }
        }
    }

    @Test func withoutATokenOnlyThisHostMayScrapeAndNotThroughAProxy() async throws {
        let services = try await buildServices(reader: Self.reader([:]))
        let app = Application(router: buildRouter(services: services).router, configuration: .init(address: .hostname("127.0.0.1", port: 0)), logger: services.logger)
        do {
            try await app.test(.live) { client in
                try await client.execute(uri: "/metrics", method: .get) { response in
                    #expect(response.status == .ok)
                    #expect(String(buffer: response.body).contains("custos_cases_open"))
                }
                try await client.execute(uri: "/metrics", method: .get, headers: [HTTPField.Name("X-Forwarded-For")!: "203.0.113.5"]) {
                    #expect($0.status == .forbidden)
                }
            }
        } catch {
            await services.shutdown()
            throw error
        }
        await services.shutdown()
    }

    @Test func jsonLogLinesCarryLevelMessageAndMetadata() throws {
        let handler = JSONLinesLogHandler(label: "custos")
        let entry = JSONLinesLogHandler.Entry(time: "2026-12-07T10:00:00.000Z", level: "notice", label: "custos", message: "started", metadata: ["instance": "a"], source: "CustosServer")
        let line = String(decoding: try JSONLinesLogHandler.encoder.encode(entry), as: UTF8.self)
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(parsed["level"] as? String == "notice" && parsed["message"] as? String == "started")
        #expect((parsed["metadata"] as? [String: String])?["instance"] == "a")
        #expect(handler.logLevel == .info)
        #expect(AppConfiguration(reader: Self.reader(["custos.log.format": "yaml"])).settingProblem?.contains("CUSTOS_LOG_FORMAT") == true)
    }
}
