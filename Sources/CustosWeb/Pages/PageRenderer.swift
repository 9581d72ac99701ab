import CustosDomain
import Foundation
import Mustache

/// Renders pages from the bundled Mustache templates. Mustache escapes HTML by default, and
/// templates only ever see the plain view models below, so logic stays in testable Swift.
public struct PageRenderer: Sendable {
    let library: MustacheLibrary

    public init() async throws {
        guard let directory = Bundle.module.resourceURL?.appendingPathComponent("Templates").path else {
            throw RenderError.missingTemplates
        }
        library = try await MustacheLibrary(directory: directory)
    }

    public enum RenderError: Error {
        case missingTemplates
        case unknownTemplate(String)
    }

    /// Renders `page` inside the shared layout.
    public func render<Model: Sendable>(_ page: Page<Model>) throws -> String {
        guard let html = library.render(page, withTemplate: page.template) else {
            throw RenderError.unknownTemplate(page.template)
        }
        return html
    }
}

/// What every page has: a title, the signed-in person (if any), the CSRF token for its forms,
/// a flash message, and its own model.
public struct Page<Model: Sendable>: Sendable {
    public var template: String
    public var title: String
    public var viewer: Viewer?
    public var csrfToken: String
    public var flash: String?
    public var error: String?
    /// Seconds after which the browser reloads the page (a build in progress); nil: never.
    public var refresh: String?
    public var model: Model

    public init(template: String, title: String, viewer: Viewer?, csrfToken: String, flash: String? = nil, error: String? = nil, model: Model) {
        self.template = template
        self.title = title
        self.viewer = viewer
        self.csrfToken = csrfToken
        self.flash = flash
        self.error = error
        self.model = model
    }
}

/// The signed-in person as the layout shows them.
public struct Viewer: Sendable {
    public var name: String
    public var email: String
    public var kindLabel: String
    public var roles: String
    public var logoutPath: String
    public var homePath: String
    /// The signed-in person's own page: second factor and recovery codes.
    public var accountPath: String
    /// Staff get the console's navigation.
    public var isStaff: Bool

    public init(name: String, email: String, kindLabel: String, roles: String, logoutPath: String, homePath: String) {
        self.isStaff = kindLabel == PrincipalKind.staff.rawValue
        self.accountPath = "/\(kindLabel)/account"
        self.name = name
        self.email = email
        self.kindLabel = kindLabel
        self.roles = roles
        self.logoutPath = logoutPath
        self.homePath = homePath
    }
}
