import ArgumentParser
import Configuration
import CustosDomain
import CustosServer
import CustosStorage
import Foundation
import Hummingbird

/// `custos`: the server and its administration commands. Every subcommand reads the same
/// settings (`CUSTOS_DATA_DIR`, `CUSTOS_DATABASE_URL`, …) as `serve`.
@main
struct Custos: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Custos: handle government and third-party demands for customer data.",
        subcommands: [Serve.self, Migrate.self, Demo.self, User.self, Token.self, Rules.self, TenantCommand.self, CopyrightCommand.self, KeysCommand.self, AgencyCommand.self, BlocklistCommand.self, PackageCommand.self, ProductionCommand.self,
            LogCommand.self, WitnessCommand.self, ReportCommand.self, ImportCommand.self,
        ])
}

/// Settings: flags given on the command line first, then the environment, then defaults.
func makeReader(overrides: [AbsoluteConfigKey: ConfigValue] = [:]) -> ConfigReader {
    ConfigReader(providers: [InMemoryProvider(name: "flags", values: overrides), EnvironmentVariablesProvider()])
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Start the server (creates and migrates the database on first start).")

    @Flag(help: "Load the demo data set (once) and print the demo logins.") var demo = false
    @Option(help: "Address to listen on.") var host: String?
    @Option(help: "Port to listen on.") var port: Int?

    func run() async throws {
        var overrides: [AbsoluteConfigKey: ConfigValue] = [:]
        if let host { overrides["custos.host"] = .init(.string(host), isSecret: false) }
        if let port { overrides["custos.port"] = .init(.int(port), isSecret: false) }
        let reader = makeReader(overrides: overrides)
        let preliminary = AppConfiguration(reader: reader)
        // Held while serving, so `custos keys rotate` cannot retire the key this server seals with.
        let folderLock = preliminary.inMemoryDatabase ? nil : try DataFolderLock(folder: preliminary.dataDirectory, mode: .shared)
        let instanceLock = preliminary.inMemoryDatabase ? nil : try DataFolderLock(folder: preliminary.dataDirectory, instance: preliminary.instanceName)
        var services = try await buildServices(reader: reader)
        if demo {
            let loaded = try await DemoData.load(into: services)
            say(loaded ? "Demo data loaded." : "Demo data already present.")
            say("Demo logins (password in brackets):")
            for login in DemoData.logins { say("  \(login.what): \(login.email) [\(login.password)]") }
            say("Second factor: staff and agency demo accounts share the authenticator key \(DemoData.secondFactorSecretBase32);")
            say("  this demo server also shows the current code on the sign-in page.")
            services = services.showingDemoCodes()
        }
        let configuration = services.configuration
        if configuration.smtp == nil {
            say("No SMTP relay (CUSTOS_SMTP_HOST): account mail, such as registration links, is written to \(try services.accountMailer().dropDirectory.path)")
        }
        let assessed = try await services.assessCasesWithoutAssessment()
        if assessed > 0 { say("Assessed \(assessed) open case(s) from before the rulebook against rulebook \(services.rulebook.version).") }
        let app = buildApplication(services: services)
        say("Rulebook \(services.rulebook.version) (\(services.configuration.rulebookPath ?? "bundled")), \(services.rulebook.rules.count) rules")
        say("Custos on \(try configuration.databaseLocation())")
        say("Staff console:  http://\(configuration.host):\(configuration.port)/staff/login")
        say("Agency portal:  http://\(configuration.host):\(configuration.port)/agency/login")
        say("API:            http://\(configuration.host):\(configuration.port)/openapi.yaml")
        try await app.runService()
        withExtendedLifetime((folderLock, instanceLock)) {}
    }
}

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Apply pending migrations, or revert the last batch.")
    @Flag(help: "Revert the last batch of migrations.") var revert = false

    func run() async throws {
        let configuration = AppConfiguration(reader: makeReader())
        let database = try CustosDatabase(location: try configuration.databaseLocation(), logger: .init(label: "custos"))
        do {
            if revert {
                try await database.revertLastBatch()
                say("Reverted the last migration batch on \(database.location).")
            } else {
                try await database.migrate()
                say("Database on \(database.location) is up to date.")
            }
        } catch {
            // Close the pool before reporting, so a failed migration is an error message, not a crash.
            await database.shutdown()
            throw error
        }
        await database.shutdown()
    }
}

struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Demo data.", subcommands: [Load.self])

    struct Load: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Load the demo data set (once).",
            discussion: "With --scale N, also generate N realistic closed cases received in one period (by default the last finished half-year), for trying the report and the console at a provider's size.")

        @Option(help: "Also generate this many closed cases.") var scale: Int?
        @Option(help: "The period the generated cases were received in: YYYY-H1, YYYY-H2 or FROM..TO.") var period: String?

        func validate() throws {
            if let scale, scale < 1 { throw ValidationError("--scale must be a positive number of cases") }
            if let period {
                do { _ = try ReportPeriod(parsing: period) } catch { throw ValidationError(error.description) }
            }
            if period != nil && scale == nil { throw ValidationError("--period only goes with --scale") }
        }

        func run() async throws {
            let services = try await buildServices(reader: makeReader())
            if let scale {
                do {
                    let result = try await ScaleCases.load(scale, in: try period.map { try ReportPeriod(parsing: $0) }, into: services)
                    await services.shutdown()
                    say("Generated \(result.cases) closed cases received in \(result.period) in \(String(format: "%.1f", result.seconds)) s (\(Int(Double(result.cases) / max(result.seconds, 0.001))) cases/s).")
                } catch {
                    await services.shutdown()
                    throw error
                }
                return
            }
            let loaded = try await DemoData.load(into: services)
            await services.shutdown()
            say(loaded ? "Demo data loaded." : "Demo data already present; nothing changed.")
            for login in DemoData.logins { say("  \(login.what): \(login.email) [\(login.password)]") }
        }
    }
}

struct User: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Users.", subcommands: [Add.self, Standing.self, Password.self, SecondFactor.self])

    /// `custos user second-factor`: a user's second factor, and the reset for a lost device (issue 8).
    struct SecondFactor: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "second-factor",
            abstract: "Show a user's second factor, or reset it (--reset --reason) for a lost device.",
            discussion: """
                A reset removes the authenticator key and the recovery codes and ends every session; where the policy \
                requires a second factor, the user sets up a new one at the next sign-in. The reset is audited, and the \
                user's demands carry the recent-reset red flag for 14 days.
                """)
        @Option(help: "The user's email address.") var email: String
        @Flag(help: "Remove the second factor.") var reset = false
        @Option(help: "Why (kept in the audit log); required with --reset.") var reason: String?

        func validate() throws {
            if reset && (reason ?? "").trimmingCharacters(in: .whitespaces).isEmpty { throw ValidationError("--reset needs --reason") }
        }

        func run() async throws {
            try await withServices { services in
                guard let user = try await services.identity.findPrincipal(email: email) else { throw ValidationError("no user with email \(email)") }
                if reset {
                    try await services.secondFactors.reset(principalID: user.id, reason: reason ?? "", by: "cli", at: services.now())
                    say("Second factor of \(user.email) reset; every session ended.")
                    return
                }
                let status = try await services.secondFactors.status(principalID: user.id)
                let required = services.configuration.secondFactor.isRequired(for: user.kind) ? "required" : "optional"
                if let status, status.isEnrolled, let at = status.enrolledAt {
                    say("\(user.email): authenticator app since \(Timestamp.format(at)); \(status.recoveryCodesLeft) recovery code(s) left; \(required) for \(user.kind.rawValue) users")
                } else {
                    say("\(user.email): no second factor; \(required) for \(user.kind.rawValue) users")
                }
            }
        }
    }

    /// `custos user password`: reset a password (issue 8: a recent reset flags the user's demands).
    struct Password: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Reset a user's password; the new one is read from standard input. Every session of the user ends; audited.")
        @Option(help: "The user's email address.") var email: String

        func run() async throws {
            let password = readLine(strippingNewline: true) ?? ""
            guard Passwords.isAcceptable(password) else {
                throw ValidationError("the password (read from standard input) must be at least 12 characters")
            }
            try await withServices { services in
                guard let user = try await services.identity.findPrincipal(email: email) else { throw ValidationError("no user with email \(email)") }
                try await services.identity.resetPassword(principalID: user.id, passwordHash: try await Passwords.hash(password), by: "cli", at: services.now())
                say("Password of \(user.email) reset; every session ended.")
            }
        }
    }

    /// `custos user standing`: a requester's standing and emergency permission (issue 8).
    struct Standing: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show or set an agency user's standing (pending, active, unverified, suspended, blocklisted) and emergency permission.",
            discussion: "Without --set, prints the standing and its history. Every change needs --reason and is audited.")

        @Option(help: "The agency user's email address.") var email: String
        @Option(help: "pending, active, unverified, suspended or blocklisted.") var set: String?
        @Option(help: "allow or deny emergency requests (kept as it is when omitted).") var emergency: String?
        @Option(help: "Why (kept with the change).") var reason: String?

        func validate() throws {
            if let set, RequesterStanding(rawValue: set) == nil {
                throw ValidationError("--set must be one of \(RequesterStanding.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            if let emergency, emergency != "allow" && emergency != "deny" { throw ValidationError("--emergency must be allow or deny") }
            if (set != nil || emergency != nil) && (reason ?? "").trimmingCharacters(in: .whitespaces).isEmpty {
                throw ValidationError("a change needs --reason")
            }
        }

        func run() async throws {
            try await withServices { services in
                guard let user = try await services.identity.findPrincipal(email: email), user.kind == .agency,
                    var status = try await services.identity.requesterStatus(principalID: user.id)
                else { throw ValidationError("no agency user with email \(email)") }
                if set != nil || emergency != nil {
                    let standing = set.flatMap(RequesterStanding.init(rawValue:)) ?? status.standing
                    let allowed = emergency.map { $0 == "allow" } ?? status.mayRequestEmergency
                    try await services.identity.setStanding(
                        principalID: user.id, standing, mayRequestEmergency: allowed, reason: reason ?? "", by: "cli", at: services.now())
                    status = try await services.identity.requesterStatus(principalID: user.id) ?? status
                }
                say("\(user.email): \(status.standing.rawValue), emergency requests \(status.mayRequestEmergency ? "allowed" : "not allowed")")
                for change in status.history {
                    say("  \(Timestamp.format(change.at)) \(change.standing.rawValue), emergency \(change.mayRequestEmergency ? "allowed" : "not allowed") by \(change.by): \(change.reason)")
                }
            }
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a user; the password is read from standard input.",
            discussion: "Creates the named agency or tenant when it does not exist yet.")

        @Option(help: "Email address (the login).") var email: String
        @Option(help: "staff, agency or customer.") var kind: String
        @Option(name: .long, help: "Staff role (repeatable): intake, reviewer, approver, custodian, auditor, admin.") var role: [String] = []
        @Option(help: "Agency name (agency users).") var agency: String?
        @Option(help: "Agency country (ISO 3166-1 alpha-2) when the agency is new.") var agencyCountry: String = "US"
        @Option(help: "Tenant name (customer users).") var tenant: String?
        @Option(help: "Tenant kind when the tenant is new: enterprise or consumer.") var tenantKind: String = "enterprise"
        @Option(help: "Display name.") var name: String?

        func validate() throws {
            guard let kind = PrincipalKind(rawValue: kind) else { throw ValidationError("--kind must be staff, agency or customer") }
            guard email.contains("@") else { throw ValidationError("--email must be an email address") }
            for value in role where StaffRole(rawValue: value) == nil {
                throw ValidationError("unknown role \(value); use intake, reviewer, approver, custodian, auditor or admin")
            }
            switch kind {
            case .staff where role.isEmpty: throw ValidationError("staff users need at least one --role")
            case .agency where agency == nil: throw ValidationError("agency users need --agency NAME")
            case .customer where tenant == nil: throw ValidationError("customer users need --tenant NAME")
            default: break
            }
            if kind != .staff && !role.isEmpty { throw ValidationError("--role applies to staff users only") }
            guard Jurisdiction.countryCodes.contains(agencyCountry) else { throw ValidationError("--agency-country must be an ISO 3166-1 alpha-2 code") }
            guard TenantKind(rawValue: tenantKind) != nil else { throw ValidationError("--tenant-kind must be enterprise or consumer") }
        }

        /// Reads the password before the database opens, so a bad one changes nothing.
        func run() async throws {
            let password = readLine(strippingNewline: true) ?? ""
            guard Passwords.isAcceptable(password) else {
                throw ValidationError("the password (read from standard input) must be at least 12 characters")
            }
            let services = try await buildServices(reader: makeReader())
            do {
                try await add(password: password, using: services)
                await services.shutdown()
            } catch {
                await services.shutdown()
                throw error
            }
        }

        private func add(password: String, using services: CustosServices) async throws {
            let kind = PrincipalKind(rawValue: kind)!
            var agencyID: UUID?
            var tenantID: UUID?
            if kind == .agency, let agency {
                if let existing = try await services.directory.findAgency(named: agency) {
                    agencyID = existing.id
                } else {
                    let created = Agency(id: UUID(), name: agency, country: agencyCountry, kind: .lawEnforcement)
                    try await services.directory.createAgency(created)
                    agencyID = created.id
                    say("Created agency \(agency).")
                }
            }
            if kind == .customer, let tenant {
                if let existing = try await services.directory.findTenant(named: tenant) {
                    tenantID = existing.id
                } else {
                    let created = Tenant(id: UUID(), name: tenant, kind: TenantKind(rawValue: tenantKind)!)
                    try await services.directory.createTenant(created)
                    tenantID = created.id
                    say("Created tenant \(tenant).")
                }
            }
            let principal = Principal(
                id: UUID(), email: email, displayName: name ?? email, kind: kind,
                roles: Set(role.compactMap(StaffRole.init(rawValue:))), agencyID: agencyID, tenantID: tenantID)
            do {
                try await services.identity.createPrincipal(principal, passwordHash: try await Passwords.hash(password), at: services.now())
            } catch let error as StorageError {
                throw ValidationError(error.description)
            }
            say("Added \(kind.rawValue) user \(email).")
        }
    }
}

struct Token: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "API tokens.", subcommands: [Add.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Issue an API token for a user and print it once.")
        @Option(help: "The user's email.") var email: String
        @Option(help: "A label to recognise the token by.") var label: String = "cli"

        func run() async throws {
            let services = try await buildServices(reader: makeReader())
            guard let principal = try await services.identity.findPrincipal(email: email) else {
                await services.shutdown()
                throw ValidationError("no user with email \(email)")
            }
            let (_, token) = try await services.identity.issueToken(for: principal.id, label: label, at: services.now())
            await services.shutdown()
            say(token)
        }
    }
}

/// Writes a line to standard output unbuffered, so log files and pipes see it at once.
func say(_ text: String) {
    FileHandle.standardOutput.write(Data((text + "\n").utf8))
}
