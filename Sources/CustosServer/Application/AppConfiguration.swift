import CustosDomain
import Configuration
import CustosStorage
import Foundation
import MerkleLog

/// Every setting Custos reads, from one `ConfigReader` (CLI args > environment > defaults).
/// Environment names follow swift-configuration's mapping: `custos.data.dir` is `CUSTOS_DATA_DIR`.
public struct AppConfiguration: Sendable {
    public var host: String
    public var port: Int
    public var dataDirectory: String
    public var databaseURL: String?
    public var maxDocumentBytes: Int
    /// Path of a provider's own rulebook file; nil selects the bundled rulebook.
    public var rulebookPath: String?
    /// Where customer notices are posted (Standard Webhooks); nil leaves due notices on the board.
    public var noticeWebhookURL: String?
    public var noticeWebhookSecret: String?
    /// Staff are reminded this many days before a dated gag order lapses.
    public var noticeReminderDays: Int
    public var noticeIntervalSeconds: Int
    /// This server's name among those sharing a database (`CUSTOS_INSTANCE`, the host name by
    /// default): a restarted server takes back only its own instance's job leases (`RunIdentity`).
    public var instanceName: String
    /// How long a requester may download a released package (C3).
    public var packageLinkDays: Int
    /// The provider's customers and accounts in all, for the report's share of customers affected
    /// (the seed's "only a tiny fraction" as a computed figure); nil: not published.
    public var reportTotalTenants: Int?
    public var reportTotalAccounts: Int?
    /// The on-call webhook emergencies page (issue 8), and its Standard Webhooks secret.
    public var emergencyPageURL: String?
    public var emergencyPageSecret: String?
    /// The service the DSA template's `Service` column names (one report per service).
    public var reportService: String
    /// The 50 U.S.C. § 1874(a) structure national-security process is reported in (1–4).
    public var reportNationalSecurityStructure: NationalSecurityStructure
    /// Set when a setting cannot work (a § 1874 option that does not exist, a pager without its secret); startup stops with it.
    var settingProblem: String?
    /// Built production packages are deleted this many days after they were built, once the case
    /// is past release; an audit tombstone records what was deleted (issue 5).
    public var packageRetentionDays: Int
    /// E8: days after an emergency release the follow-up legal process falls due, unless a rule sets a date.
    public var emergencyFollowUpDays: Int
    /// The provider's collection connector (`/openapi.yaml`, tag `connector`); nil uses the demo store.
    public var connectorURL: String?
    /// The largest single record a connector may return.
    public var connectorMaxRecordBytes: Int
    /// Take the client address from `X-Forwarded-For` (only behind a reverse proxy that sets it).
    public var trustForwardedFor: Bool
    /// A C2SP tlog-policy file naming the witnesses (with their add-checkpoint URLs) and the quorum
    /// a checkpoint needs before it counts as published (issue 6). None: checkpoints publish unwitnessed.
    public var witnessPolicyPath: String?
    /// How often the audit log gets a signed checkpoint when it has grown.
    public var auditCheckpointSeconds: Int
    /// How often a serving SQLite database copies its WAL into the file in the background; 0
    /// leaves it to SQLite, inside the commit that fills the WAL.
    public var sqliteCheckpointMilliseconds: Int
    /// How often pending legal-process entries are published as one batch (tlog.md §6.1: batches,
    /// so single demands are not exposed in real time).
    public var legalProcessBatchHours: Int
    /// Whether the canary states that no national-security process was received (a legal decision,
    /// tlog.md §5; off by default).
    public var canaryNationalSecurity: Bool

    /// The address people use to reach this server (links in notices); defaults to host and port.
    public var publicURL: String
    /// The provider's SMTP relay for customer notices by email; nil sends no email.
    public var smtp: SMTPSettings?
    /// Set when an `CUSTOS_SMTP_*` setting cannot be read (a bad port or TLS mode); startup stops with it.
    var smtpProblem: String?

    public var hasNoticeChannel: Bool { smtp != nil || noticeWebhookURL?.isEmpty == false }

    /// The configured notice channels: email when `CUSTOS_SMTP_HOST` is set, the webhook when
    /// `CUSTOS_NOTICE_WEBHOOK_URL` is. Settings that cannot work stop startup with the reason.
    public func noticeChannels() throws -> [any NoticeChannel] {
        if let smtpProblem { throw ConfigurationProblem(smtpProblem) }
        var channels: [any NoticeChannel] = []
        if let smtp { channels.append(try SMTPChannel(settings: smtp)) }
        if let url = noticeWebhookURL, !url.isEmpty {
            guard let secret = noticeWebhookSecret, !secret.isEmpty else {
                throw ConfigurationProblem("CUSTOS_NOTICE_WEBHOOK_SECRET must be set when CUSTOS_NOTICE_WEBHOOK_URL is")
            }
            channels.append(WebhookChannel(url: url, secret: secret))
        }
        return channels
    }

    public var maxRequestBytes: Int
    /// Who must sign in with a second factor (issue 8): agency users always; staff unless
    /// `CUSTOS_STAFF_SECOND_FACTOR=optional`.
    public var secondFactor: SecondFactorPolicy
    /// Set by `serve --demo` only: the code page shows the demo accounts' current code, so a
    /// newcomer can sign in without an authenticator app. Never set for real accounts' secrets.
    public var showsDemoCodes = false
    public var sessionLifetime: TimeInterval
    /// Copyright notices (issue 9): business days a customer has to answer, the repeat-infringer
    /// policy's strikes and window, Lumen's publication delay, and notices one address may file per hour.
    public var dmcaResponseBusinessDays: Int
    public var dmcaStrikeThreshold: Int
    public var dmcaStrikeWindowDays: Int
    public var lumenDelayDays: Int
    public var publicFormsPerHour: Int
    /// Sign-in attempts one client address may make in ten minutes (issue 10), on top of the
    /// per-account lock after wrong passwords (`LoginThrottle`).
    public var signInAttemptsPer10Minutes: Int
    /// The key uploaded documents are sealed with, base64 of 32 bytes; unset: the data folder's
    /// `storage-keys/` (created on first start).
    public var storageKey: String?
    /// The master key that seals every key in the database (issue 28): base64 of 32 bytes, or a
    /// file holding it. Every instance of one installation is given the same one.
    public var masterKey: String?
    public var masterKeyFile: String?
    /// How often a server reloads the storage keys and records that it is alive (`instance_runs`);
    /// a run silent for three of these is taken for dead and its leases are taken back.
    public var heartbeatSeconds: Int
    public var secureCookies: Bool
    public var logLevel: String
    /// `text` (swift-log's lines) or `json` (one JSON object per line, for a log collector).
    public var logFormat: String
    /// The bearer token `GET /metrics` wants; unset, only clients on this host (through no proxy) may scrape.
    public var metricsToken: String?
    /// Use an in-memory SQLite database (tests only).
    public var inMemoryDatabase: Bool
    /// Where packages and snapshots are kept (issue 28): `folder` (the data folder; the default on
    /// SQLite), `database` (chunked in the database; the default with `CUSTOS_DATABASE_URL`) or
    /// `s3://bucket/prefix` with the `CUSTOS_S3_*` settings.
    public var blobURL: String?
    public var s3Endpoint: String?
    public var s3Region: String
    public var s3AccessKeyID: String?
    public var s3SecretAccessKey: String?
    public var s3SessionToken: String?
    public var s3PartMiB: Int
    /// Staff sign-in through the provider's OpenID Connect provider (issue 28, part 4).
    public var oidcIssuer: String?
    public var oidcClientID: String?
    public var oidcClientSecret: String?
    /// The claim → role mapping file (`IdentityProviderRoles`).
    public var oidcRoleMapPath: String?
    /// Local staff passwords off: staff sign in through the identity provider only.
    public var oidcOnly: Bool
    public var oidcScopes: String
    public var oidcLeewaySeconds: Int

    public init(reader: ConfigReader) {
        host = reader.string(forKey: "custos.host", default: "127.0.0.1")
        port = reader.int(forKey: "custos.port", default: 8080)
        dataDirectory = reader.string(forKey: "custos.data.dir", default: "./custos-data")
        databaseURL = reader.string(forKey: "custos.database.url")
        maxDocumentBytes = reader.int(forKey: "custos.max.document.bytes", default: 25 * 1024 * 1024)
        maxRequestBytes = reader.int(forKey: "custos.max.request.bytes", default: maxDocumentBytes * 3 / 2 + 1024 * 1024)
        sessionLifetime = TimeInterval(reader.int(forKey: "custos.session.minutes", default: 8 * 60) * 60)
        dmcaResponseBusinessDays = max(1, reader.int(forKey: "custos.dmca.response.business.days", default: 2))
        dmcaStrikeThreshold = max(1, reader.int(forKey: "custos.dmca.strike.threshold", default: 3))
        dmcaStrikeWindowDays = max(1, reader.int(forKey: "custos.dmca.strike.window.days", default: 365))
        lumenDelayDays = max(0, reader.int(forKey: "custos.lumen.delay.days", default: 0))
        publicFormsPerHour = max(1, reader.int(forKey: "custos.public.forms.per.hour", default: 10))
        storageKey = reader.string(forKey: "custos.storage.key", isSecret: true)
        masterKey = reader.string(forKey: "custos.master.key", isSecret: true)
        masterKeyFile = reader.string(forKey: "custos.master.key.file")
        heartbeatSeconds = max(1, reader.int(forKey: "custos.heartbeat.seconds", default: 10))
        signInAttemptsPer10Minutes = max(1, reader.int(forKey: "custos.sign.in.attempts.per.10.minutes", default: 100))
        let staffSecondFactor = reader.string(forKey: "custos.staff.second.factor", default: SecondFactorPolicy.Requirement.required.rawValue)
        secondFactor = SecondFactorPolicy(staff: SecondFactorPolicy.Requirement(rawValue: staffSecondFactor) ?? .required)
        secureCookies = reader.bool(forKey: "custos.secure.cookies", default: false)
        logLevel = reader.string(forKey: "custos.log.level", default: "info")
        logFormat = reader.string(forKey: "custos.log.format", default: "text")
        metricsToken = reader.string(forKey: "custos.metrics.token", isSecret: true)
        inMemoryDatabase = reader.bool(forKey: "custos.database.memory", default: false)
        blobURL = reader.string(forKey: "custos.blob.url")
        s3Endpoint = reader.string(forKey: "custos.s3.endpoint")
        s3Region = reader.string(forKey: "custos.s3.region", default: "us-east-1")
        s3AccessKeyID = reader.string(forKey: "custos.s3.access.key.id")
        s3SecretAccessKey = reader.string(forKey: "custos.s3.secret.access.key", isSecret: true)
        s3SessionToken = reader.string(forKey: "custos.s3.session.token", isSecret: true)
        s3PartMiB = reader.int(forKey: "custos.s3.part.mib", default: 64)
        oidcIssuer = reader.string(forKey: "custos.oidc.issuer").flatMap { $0.isEmpty ? nil : $0 }
        oidcClientID = reader.string(forKey: "custos.oidc.client.id")
        oidcClientSecret = reader.string(forKey: "custos.oidc.client.secret", isSecret: true)
        oidcRoleMapPath = reader.string(forKey: "custos.oidc.role.map")
        oidcOnly = reader.bool(forKey: "custos.oidc.only", default: false)
        oidcScopes = reader.string(forKey: "custos.oidc.scopes", default: "openid email profile")
        oidcLeewaySeconds = max(0, reader.int(forKey: "custos.oidc.leeway.seconds", default: 60))
        rulebookPath = reader.string(forKey: "custos.rulebook")
        noticeWebhookURL = reader.string(forKey: "custos.notice.webhook.url")
        noticeWebhookSecret = reader.string(forKey: "custos.notice.webhook.secret", isSecret: true)
        noticeReminderDays = reader.int(forKey: "custos.notice.reminder.days", default: 14)
        noticeIntervalSeconds = reader.int(forKey: "custos.notice.interval.seconds", default: 5)
        instanceName = reader.string(forKey: "custos.instance", default: ProcessInfo.processInfo.hostName)
        packageLinkDays = reader.int(forKey: "custos.package.link.days", default: 14)
        reportTotalTenants = reader.int(forKey: "custos.report.total.tenants").flatMap { $0 > 0 ? $0 : nil }
        reportTotalAccounts = reader.int(forKey: "custos.report.total.accounts").flatMap { $0 > 0 ? $0 : nil }
        reportService = reader.string(forKey: "custos.report.service", default: "Cloud services")
        emergencyPageURL = reader.string(forKey: "custos.emergency.page.url").flatMap { $0.isEmpty ? nil : $0 }
        emergencyPageSecret = reader.string(forKey: "custos.emergency.page.secret", isSecret: true)
        if emergencyPageURL != nil && (emergencyPageSecret ?? "").isEmpty {
            settingProblem = "CUSTOS_EMERGENCY_PAGE_SECRET must be set when CUSTOS_EMERGENCY_PAGE_URL is"
        }
        let structure = reader.int(forKey: "custos.report.ns.structure", default: NationalSecurityStructure.separateByFiveHundred.rawValue)
        reportNationalSecurityStructure = NationalSecurityStructure(rawValue: structure) ?? .separateByFiveHundred
        if NationalSecurityStructure(rawValue: structure) == nil {
            settingProblem = "CUSTOS_REPORT_NS_STRUCTURE must be 1, 2, 3 or 4 (the options of 50 U.S.C. § 1874(a)), not \(structure)"
        }
        if !["text", "json"].contains(logFormat) {
            settingProblem = "CUSTOS_LOG_FORMAT must be text or json, not \(logFormat)"
        }
        if SecondFactorPolicy.Requirement(rawValue: staffSecondFactor) == nil {
            settingProblem = "CUSTOS_STAFF_SECOND_FACTOR must be required or optional, not \(staffSecondFactor)"
        }
        packageRetentionDays = reader.int(forKey: "custos.package.retention.days", default: 90)
        emergencyFollowUpDays = reader.int(forKey: "custos.emergency.follow.up.days", default: 30)
        connectorURL = reader.string(forKey: "custos.connector.url")
        connectorMaxRecordBytes = reader.int(forKey: "custos.connector.max.record.bytes", default: 64 * 1024 * 1024)
        trustForwardedFor = reader.bool(forKey: "custos.trust.forwarded.for", default: false)
        witnessPolicyPath = reader.string(forKey: "custos.witness.policy")
        auditCheckpointSeconds = reader.int(forKey: "custos.audit.checkpoint.seconds", default: 300)
        sqliteCheckpointMilliseconds = reader.int(forKey: "custos.sqlite.checkpoint.milliseconds", default: 1000)
        if sqliteCheckpointMilliseconds < 0 {
            settingProblem = "CUSTOS_SQLITE_CHECKPOINT_MILLISECONDS must be 0 (SQLite checkpoints inside commits) or more, not \(sqliteCheckpointMilliseconds)"
        }
        legalProcessBatchHours = reader.int(forKey: "custos.legal.process.batch.hours", default: 24)
        canaryNationalSecurity = reader.bool(forKey: "custos.canary.national.security", default: false)
        var publicURL = reader.string(forKey: "custos.public.url", default: "http://\(host):\(port)")
        while publicURL.hasSuffix("/") { publicURL.removeLast() }
        self.publicURL = publicURL
        if let smtpHost = reader.string(forKey: "custos.smtp.host"), !smtpHost.isEmpty {
            let mode = reader.string(forKey: "custos.smtp.tls", default: SMTPSecurity.startTLS.rawValue)
            let security = SMTPSecurity(rawValue: mode)
            if security == nil {
                smtpProblem = "CUSTOS_SMTP_TLS must be one of \(SMTPSecurity.allCases.map(\.rawValue).joined(separator: ", ")), not \(mode)"
            }
            smtp = SMTPSettings(
                host: smtpHost, port: reader.int(forKey: "custos.smtp.port", default: security == .tls ? 465 : 587),
                security: security ?? .startTLS, username: reader.string(forKey: "custos.smtp.username"),
                password: reader.string(forKey: "custos.smtp.password", isSecret: true),
                from: reader.string(forKey: "custos.smtp.from", default: ""),
                heloName: reader.string(forKey: "custos.smtp.helo", default: "custos.localdomain"),
                trustRootsFile: reader.string(forKey: "custos.smtp.ca.file"),
                timeout: .seconds(reader.int(forKey: "custos.smtp.timeout.seconds", default: 30)))
        }
    }

    /// The rulebook in force: the provider's own file (`CUSTOS_RULEBOOK`) or the bundled one.
    /// A file that does not validate stops the server with every problem and its location.
    public func loadRulebook() throws -> Rulebook {
        guard let rulebookPath, !rulebookPath.isEmpty else { return try Rulebook.bundled() }
        return try Rulebook.load(contentsOf: rulebookPath)
    }

    /// The witness policy, validated at startup.
    public func loadWitnessPolicy() throws -> WitnessPolicy? {
        guard let witnessPolicyPath, !witnessPolicyPath.isEmpty else { return nil }
        guard let text = try? String(contentsOfFile: witnessPolicyPath, encoding: .utf8) else {
            throw ConfigurationProblem("CUSTOS_WITNESS_POLICY: cannot read \(witnessPolicyPath)")
        }
        do {
            return try WitnessPolicy(parsing: text)
        } catch {
            throw ConfigurationProblem("CUSTOS_WITNESS_POLICY \(witnessPolicyPath): \(error.description)")
        }
    }

    public func databaseLocation() throws -> DatabaseLocation {
        if inMemoryDatabase { return .sqliteInMemory }
        return try DatabaseLocation.resolve(databaseURL: databaseURL, dataDirectory: dataDirectory)
    }
}

extension Rulebook {
    /// Reads and validates a provider's rulebook file (`CUSTOS_RULEBOOK`, `custos rules check`).
    public static func load(contentsOf path: String) throws(RulebookError) -> Rulebook {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RulebookError(source: path, issues: [RulebookIssue(location: "file", message: "cannot be read (missing, or not a file)")])
        }
        return try load(data, source: path)
    }
}

extension AppConfiguration {
    /// The identity provider's settings, or nil when staff sign in with local passwords only.
    /// Every setting that cannot work stops startup with its name (the provider itself is asked
    /// on first sign-in, so Custos starts while it is down).
    public func identityProviderSettings() throws -> OpenIDProvider.Settings? {
        guard let issuer = oidcIssuer else {
            if oidcOnly { throw ConfigurationProblem("CUSTOS_OIDC_ONLY needs CUSTOS_OIDC_ISSUER: without an identity provider no staff could sign in") }
            return nil
        }
        guard let url = URLComponents(string: issuer), url.scheme == "https" || url.scheme == "http", url.host != nil else {
            throw ConfigurationProblem("CUSTOS_OIDC_ISSUER must be the provider's issuer URL (https://…), not \(issuer)")
        }
        guard let clientID = oidcClientID, !clientID.isEmpty, let secret = oidcClientSecret, !secret.isEmpty else {
            throw ConfigurationProblem("CUSTOS_OIDC_ISSUER needs CUSTOS_OIDC_CLIENT_ID and CUSTOS_OIDC_CLIENT_SECRET")
        }
        guard let path = oidcRoleMapPath else {
            throw ConfigurationProblem("CUSTOS_OIDC_ISSUER needs CUSTOS_OIDC_ROLE_MAP, the file that gives the provider's groups their Custos roles")
        }
        guard let data = FileManager.default.contents(atPath: path) else { throw ConfigurationProblem("CUSTOS_OIDC_ROLE_MAP: \(path) cannot be read") }
        let roles: IdentityProviderRoles
        do {
            roles = try IdentityProviderRoles.parse(data)
        } catch {
            throw ConfigurationProblem("CUSTOS_OIDC_ROLE_MAP (\(path)): \(error)")
        }
        return OpenIDProvider.Settings(
            issuer: issuer, clientID: clientID, clientSecret: secret, redirectURI: publicURL + "/staff/login/oidc/callback", scopes: oidcScopes,
            leeway: TimeInterval(oidcLeewaySeconds), roles: roles, only: oidcOnly, postLogoutURI: publicURL + "/staff/login")
    }
}

/// A setting that cannot work; startup stops with its message.
public struct ConfigurationProblem: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
