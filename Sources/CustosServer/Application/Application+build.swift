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
    let run = RunIdentity(instance: services.configuration.instanceName)
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
    var logger = Logger(label: "custos")
    logger.logLevel = Logger.Level(rawValue: configuration.logLevel) ?? .info
    // Uploaded documents and second-factor keys are sealed with the data folder's storage key
    // (issue 10); an in-memory database (tests) gets a key that lives as long as the process.
    let sealer = configuration.inMemoryDatabase
        ? StorageSealer.ephemeral() : try StorageSealer.load(folder: configuration.dataDirectory, environmentKey: configuration.storageKey)
    let database = try CustosDatabase(
        location: try configuration.databaseLocation(), logger: logger, sealer: sealer,
        checkpointInterval: configuration.sqliteCheckpointMilliseconds > 0 ? .milliseconds(configuration.sqliteCheckpointMilliseconds) : nil)
    let rulebook = try configuration.loadRulebook()
    _ = try configuration.noticeChannels()  // channel settings that cannot work stop startup here
    if let problem = configuration.settingProblem { throw ConfigurationProblem(problem) }
    logger.info("rulebook \(rulebook.version) with \(rulebook.rules.count) rules", metadata: ["source": .string(configuration.rulebookPath ?? "bundled")])
    try await database.migrate()
    // The package signing key lives in the data folder, created on first start; an in-memory
    // database (tests) gets a key that lives as long as the process.
    let signingKey = configuration.inMemoryDatabase
        ? PackageSigningKey(privateKey: .init()) : try PackageSigningKey.loadOrCreate(in: configuration.dataDirectory)
    let demoRecords = try await DemoRecordStore.open(
        dataDirectory: configuration.dataDirectory, inMemory: configuration.inMemoryDatabase, logger: logger)
    let transparencyKeys = try TransparencyKeys.load(
        folder: configuration.inMemoryDatabase ? nil : configuration.dataDirectory, publicURL: configuration.publicURL)
    if transparencyKeys.audit.name != TransparencyLog.audit.origin(publicURL: configuration.publicURL) {
        logger.notice("the logs keep the name they were created with: \(transparencyKeys.audit.name) (pinned in \(TransparencyKeys.addressFile)), not \(configuration.publicURL)")
    }
    return CustosServices(
        configuration: configuration, database: database, rulebook: rulebook, renderer: try await PageRenderer(), logger: logger,
        signingKey: signingKey, demoRecords: demoRecords, transparencyKeys: transparencyKeys,
        witnessPolicy: try configuration.loadWitnessPolicy(), clock: clock)
}

/// Every route with its access policy.
public func buildRouter(services: CustosServices) -> SecuredRouter {
    let router = Router(context: AppRequestContext.self)
    router.add(middleware: SecurityHeadersMiddleware(strictTransport: services.configuration.publicURL.lowercased().hasPrefix("https://")))
    let known = KnownRoutes()
    router.add(middleware: UnmatchedRouteMiddleware(routes: known))
    router.add(middleware: AuthenticationMiddleware(identity: services.identity, now: services.now))
    var secured = SecuredRouter(router: router)
    APIRoutes(services: services).register(on: &secured)
    WebRoutes(services: services).register(on: &secured)
    TransparencyRoutes(services: services).register(on: &secured)
    ReportRoutes(services: services).register(on: &secured)
    CopyrightRoutes(services: services, limiter: RateLimiter(limit: services.configuration.publicFormsPerHour, window: 3600)).register(on: &secured)
    known.record(secured.policies.keys)
    return secured
}
