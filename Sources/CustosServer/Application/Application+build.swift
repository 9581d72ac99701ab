import Configuration
import CustosDomain
import CustosStorage
import CustosWeb
import Foundation
import Hummingbird
import Logging

/// The one composition root, used unchanged by `custos serve` and by the tests.
public func buildApplication(reader: ConfigReader, clock: @escaping @Sendable () -> Date = { Date() }) async throws -> some ApplicationProtocol {
    buildApplication(services: try await buildServices(reader: reader, clock: clock))
}

/// The application around services that are already open (so `serve --demo` opens the database once).
public func buildApplication(services: CustosServices) -> some ApplicationProtocol {
    let router = buildRouter(services: services).router
    var app = Application(
        router: router,
        configuration: ApplicationConfiguration(address: .hostname(services.configuration.host, port: services.configuration.port), serverName: "Custos"),
        logger: services.logger)
    app.addServices(services.database, services.demoRecords.database)
    // buildServices has already checked the channel settings, so this cannot fail here.
    let channels = (try? services.configuration.noticeChannels()) ?? []
    let interval = Duration.seconds(services.configuration.noticeIntervalSeconds)
    // Each runner leases jobs as this run of this instance, and at start takes back what an
    // earlier run of it left leased when it died (the crash harness, Tests/stress, kills it).
    let run = services.run
    // Heartbeat, key refresh and taking back dead servers' leases (issue 28).
    app.addServices(InstallationRunner(services: services))
    app.addServices(NoticeRunner(services: services, channels: channels, interval: interval, owner: run.owner("notices"), restartOf: run))
    if let url = services.configuration.emergencyPageURL, let secret = services.configuration.emergencyPageSecret {
        app.addServices(EmergencyPager(services: services, url: url, secret: secret, owner: run.owner("pager"), restartOf: run))
    }
    app.addServices(PackageRunner(services: services, interval: interval, owner: run.owner("packages"), restartOf: run))
    app.addServices(TransparencyRunner(services: services))
    app.addServices(CopyrightRunner(services: services, interval: interval, owner: run.owner("copyright"), restartOf: run))
    return app
}

/// `buildServices` from plain settings (`custos.data.dir` …), for tools that link Custos without
/// swift-configuration (the benchmarks).
public func buildServices(settings: [String: String]) async throws -> CustosServices {
    var values: [AbsoluteConfigKey: ConfigValue] = [:]
    for (key, value) in settings { values[AbsoluteConfigKey(stringLiteral: key)] = .init(.string(value), isSecret: false) }
    return try await buildServices(reader: ConfigReader(providers: [InMemoryProvider(values: values)]))
}

/// Opens (and on first start creates and migrates) the database and loads the page templates.
public func buildServices(reader: ConfigReader, clock: @escaping @Sendable () -> Date = { Date() }) async throws -> CustosServices {
    let configuration = AppConfiguration(reader: reader)
    var logger = configuration.logFormat == "json" ? Logger(label: "custos", factory: { JSONLinesLogHandler(label: $0) }) : Logger(label: "custos")
    logger.logLevel = Logger.Level(rawValue: configuration.logLevel) ?? .info
    // Every key comes from the database's keyring, sealed with the master key (issue 28); the
    // master key is read first, so a missing one stops startup before anything is opened.
    let master = try InstallationKeys.masterKey(configuration: configuration)
    let database = try CustosDatabase(
        location: try configuration.databaseLocation(), logger: logger,
        checkpointInterval: configuration.sqliteCheckpointMilliseconds > 0 ? .milliseconds(configuration.sqliteCheckpointMilliseconds) : nil)
    do {
        let rulebook = try configuration.loadRulebook()
        _ = try configuration.noticeChannels()  // channel settings that cannot work stop startup here
        if let problem = configuration.settingProblem { throw ConfigurationProblem(problem) }
        let identityProvider = try configuration.identityProviderSettings().map { OpenIDProvider(settings: $0) }
        logger.info("rulebook \(rulebook.version) with \(rulebook.rules.count) rules", metadata: ["source": .string(configuration.rulebookPath ?? "bundled")])
        try await database.migrate()
        let keys = try await InstallationKeys.open(
            database: database, master: master, configuration: configuration, logger: logger, at: Timestamp.truncatedToMilliseconds(clock()))
        database.use(keys.sealer)
        let blobs = try BlobStores.make(configuration: configuration, database: database)
        if let s3 = blobs as? S3BlobStore {
            try await s3.ensureBucket()
            // Documents and objection attachments go to the object store too; in the database
            // (or an embedded data folder) they stay in their rows, stored with the demand.
            database.keepDocuments(in: s3)
        }
        logger.info("packages are stored in \(blobs.description)")
        let demoRecords = try await DemoRecordStore.open(
            dataDirectory: configuration.dataDirectory, inMemory: configuration.inMemoryDatabase, beside: database.location, logger: logger)
        return CustosServices(
            configuration: configuration, database: database, rulebook: rulebook, renderer: try await PageRenderer(), logger: logger,
            keys: keys, demoRecords: demoRecords, witnessPolicy: try configuration.loadWitnessPolicy(), blobs: blobs,
            identityProvider: identityProvider, clock: clock)
    } catch {
        // A step that fails closes the pool, so startup ends with the message, not a crash.
        await database.shutdown()
        throw error
    }
}

/// Every route with its access policy.
public func buildRouter(services: CustosServices) -> SecuredRouter {
    let router = Router(context: AppRequestContext.self)
    // Requests per route and their latency, for GET /metrics (issue 28).
    CustosMetrics.bootstrap()
    router.add(middleware: MetricsMiddleware())
    router.add(middleware: SecurityHeadersMiddleware(strictTransport: services.configuration.publicURL.lowercased().hasPrefix("https://")))
    let known = KnownRoutes()
    router.add(middleware: UnmatchedRouteMiddleware(routes: known))
    router.add(middleware: AuthenticationMiddleware(identity: services.identity, now: services.now))
    var secured = SecuredRouter(router: router)
    APIRoutes(services: services).register(on: &secured)
    WebRoutes(services: services).register(on: &secured)
    TransparencyRoutes(services: services).register(on: &secured)
    ReportRoutes(services: services).register(on: &secured)
    MetricsRoutes(services: services).register(on: &secured)
    CopyrightRoutes(
        services: services,
        limiter: RateLimiter(counters: RateCounters(store: services.database), name: "public-form", limit: services.configuration.publicFormsPerHour, window: 3600)).register(on: &secured)
    known.record(secured.policies.keys)
    return secured
}

/// The installation's keys for a tool that reads them (`custos log key`, `custos package verify`,
/// `custos keys export-public`): opens the database, loads the keyring and closes it again.
/// `create: false` makes no key and throws when the server never started on this database;
/// `create: true` makes them as a first start would (a witness is told a new log's key first).
public func readInstallationKeys(reader: ConfigReader, create: Bool = false) async throws -> InstallationKeys {
    let configuration = AppConfiguration(reader: reader)
    let master = try InstallationKeys.masterKey(configuration: configuration)
    let database = try CustosDatabase(location: try configuration.databaseLocation(), logger: Logger(label: "custos"))
    do {
        try await database.migrate()
        let keys = try await InstallationKeys.open(
            database: database, master: master, configuration: configuration, logger: Logger(label: "custos"), at: Date(), create: create)
        await database.shutdown()
        return keys
    } catch {
        await database.shutdown()
        throw error
    }
}
