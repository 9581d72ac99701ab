import ArgumentParser
import CustosDomain
import CustosServer
import Foundation

/// `custos tenant webhook set|remove`: where a tenant's own systems receive its customer notices.
struct TenantCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "tenant", abstract: "Tenants.", subcommands: [Webhook.self, Host.self])

    /// `custos tenant host add|list`: the hosts a tenant serves content from, which route copyright
    /// notices' URLs to it (issue 9).
    struct Host: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The host names a tenant serves content from (copyright notices are routed by them).", subcommands: [Add.self, List.self])

        struct Add: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Add a host (its subdomains count too); audited.")
            @Option(help: "The tenant's name.") var tenant: String
            @Option(help: "A host name such as shop.example.com.") var host: String

            func validate() throws {
                let labels = host.lowercased().split(separator: ".", omittingEmptySubsequences: false)
                guard labels.count >= 2, labels.allSatisfy({ !$0.isEmpty && $0.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") } }) else {
                    throw ValidationError("--host must be a host name such as shop.example.com")
                }
            }

            func run() async throws {
                try await withServices { services in
                    guard let found = try await services.directory.findTenant(named: tenant) else { throw ValidationError("no tenant named \(tenant)") }
                    try await services.copyright.addHost(host, tenantID: found.id, by: "cli", at: services.now())
                    say("Copyright notices about \(host.lowercased()) now go to \(found.name).")
                }
            }
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Print a tenant's hosts.")
            @Option(help: "The tenant's name.") var tenant: String

            func run() async throws {
                try await withServices { services in
                    guard let found = try await services.directory.findTenant(named: tenant) else { throw ValidationError("no tenant named \(tenant)") }
                    for host in try await services.copyright.hosts(tenantID: found.id) { say(host) }
                }
            }
        }
    }

    struct Webhook: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "A tenant's own webhook for customer notices (signed per Standard Webhooks).", subcommands: [Set.self, Remove.self])

        struct Set: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Set or replace the tenant's notice webhook and print its new signing secret once.",
                discussion: "Notices go to this URL in addition to email and the provider's webhook. The URL must use https (http only for localhost).")
            @Option(help: "The tenant's name.") var tenant: String
            @Option(help: "The https URL that receives the tenant's notices.") var url: String

            func validate() throws {
                if let problem = TenantWebhook.problem(with: url) { throw ValidationError("--url \(problem)") }
            }

            func run() async throws {
                let services = try await buildServices(reader: makeReader())
                do {
                    guard let found = try await services.directory.findTenant(named: tenant) else { throw ValidationError("no tenant named \(tenant)") }
                    let secret = WebhookChannel.newSecret()
                    try await services.directory.setWebhook(
                        TenantWebhook(tenantID: found.id, url: url, secret: secret, createdAt: services.now()), by: "cli")
                    await services.shutdown()
                    say("Notices for \(found.name) now also go to \(url).")
                    say("Signing secret (shown once; give it to the tenant): \(secret)")
                } catch {
                    await services.shutdown()
                    throw error
                }
            }
        }

        struct Remove: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Stop posting the tenant's notices to its webhook.")
            @Option(help: "The tenant's name.") var tenant: String

            func run() async throws {
                let services = try await buildServices(reader: makeReader())
                do {
                    guard let found = try await services.directory.findTenant(named: tenant) else { throw ValidationError("no tenant named \(tenant)") }
                    let removed = try await services.directory.removeWebhook(tenantID: found.id, at: services.now(), by: "cli")
                    await services.shutdown()
                    say(removed ? "Removed the notice webhook of \(found.name)." : "\(found.name) had no notice webhook.")
                } catch {
                    await services.shutdown()
                    throw error
                }
            }
        }
    }
}
