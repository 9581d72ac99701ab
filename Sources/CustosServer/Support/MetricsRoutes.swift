import Crypto
import CustosDomain
import CustosStorage
import Foundation
import HTTPTypes
import Hummingbird
import Metrics
import Prometheus

/// Prometheus metrics (issue 28): swift-metrics with swift-prometheus's registry. Requests per
/// route with their latency histograms come from Hummingbird's `MetricsMiddleware`; the rest is
/// read from the database at each scrape (`OperationalFigures`), so every instance reports the
/// installation's state and one scrape target suffices for it.
public enum CustosMetrics {
    public static let registry = PrometheusCollectorRegistry()

    private static let bootstrapped: Bool = {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
            .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10),
        ]
        MetricsSystem.bootstrap(factory)
        return true
    }()

    /// Installs the registry as the process's metrics backend, once (swift-metrics allows one).
    public static func bootstrap() { _ = bootstrapped }
}

struct MetricsRoutes {
    static let path = "/metrics"
    let services: CustosServices

    func register(on router: inout SecuredRouter) {
        router.on(.get, Self.path, .open, .api) { request, context in try await metrics(request, context) }
    }

    /// Only for the scraper: the bearer token `CUSTOS_METRICS_TOKEN`, or without one a client on
    /// this host that came through no proxy (a proxy on this host would make every client look local).
    func allowed(_ request: Request, _ context: AppRequestContext) -> Bool {
        if let token = services.configuration.metricsToken, !token.isEmpty {
            guard let given = request.headers[.authorization], given.lowercased().hasPrefix("bearer ") else { return false }
            // Compared as hashes, so the time taken says nothing about the token.
            return SHA256.hash(data: Data(given.dropFirst(7).utf8)) == SHA256.hash(data: Data(token.utf8))
        }
        let proxied = request.headers[HTTPField.Name("X-Forwarded-For")!] != nil || request.headers[HTTPField.Name("Forwarded")!] != nil
        return !proxied && ["127.0.0.1", "::1"].contains(context.remoteAddress ?? "")
    }

    func metrics(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        guard allowed(request, context) else {
            throw Problem(.forbidden, detail: "metrics are for the scraper: send CUSTOS_METRICS_TOKEN as a bearer token, or scrape from this host")
        }
        let registry = CustosMetrics.registry
        let time = services.now()
        let figures = try await OperationalFigures.read(services.database, at: time, staleAfter: services.staleAfter)
        for state in CaseState.allCases where state != .closed {
            registry.makeGauge(name: "custos_cases_open", labels: [("state", state.rawValue)], help: "Open cases by state")
                .set(Double(figures.casesByState[state.rawValue] ?? 0))
        }
        for (kind, statuses) in figures.jobs {
            for status in [JobStatus.pending, .leased, .done, .dead] {
                registry.makeGauge(name: "custos_jobs", labels: [("kind", kind), ("status", status.rawValue)], help: "Queued jobs (notices, builds, mail, pages) by status")
                    .set(Double(statuses[status.rawValue] ?? 0))
            }
            registry.makeGauge(name: "custos_job_lag_seconds", labels: [("kind", kind)], help: "How long the oldest due job has waited")
                .set(figures.jobLag[kind] ?? 0)
        }
        for status in PackageRecord.Status.allCases {
            registry.makeGauge(name: "custos_packages", labels: [("status", status.rawValue)], help: "Package builds by status")
                .set(Double(figures.packagesByStatus[status.rawValue] ?? 0))
        }
        let opens = (try? await services.keys.keyring.unopenable().isEmpty) ?? false
        registry.makeGauge(name: "custos_keyring_opens", help: "1 while the keyring opens with this server's master key; 0 after a master key rotation until it restarts with the new key")
            .set(opens ? 1.0 : 0.0)
        registry.makeGauge(name: "custos_instances_live", help: "Servers of this installation with a recent heartbeat").set(Double(figures.liveInstances))
        for log in TransparencyLog.allCases {
            registry.makeGauge(name: "custos_log_size", labels: [("log", log.rawValue)], help: "Entries in the log")
                .set(Double(try await services.logs.head(log).size))
            let latest = try await services.logs.latestCheckpoint(log, publishedOnly: false)
            let age = latest.flatMap { Timestamp.parse($0.createdAt) }.map { time.timeIntervalSince($0) } ?? -1
            registry.makeGauge(name: "custos_checkpoint_age_seconds", labels: [("log", log.rawValue)], help: "Age of the latest signed checkpoint (-1: none yet)")
                .set(age)
        }
        var bytes: [UInt8] = []
        registry.emit(into: &bytes)
        return Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
