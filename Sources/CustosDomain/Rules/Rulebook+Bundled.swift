import Foundation

extension Rulebook {
    /// The rulebook shipped with Custos (`Resources/rulebook.json`), loaded and validated once.
    ///
    /// Reading this read-only resource of the module is the domain's only file access; a
    /// provider's own rulebook (`CUSTOS_RULEBOOK`) is read by the server and the CLI instead.
    public static func bundled() throws(RulebookError) -> Rulebook {
        try bundledResult.get()
    }

    private static let bundledResult: Result<Rulebook, RulebookError> = {
        guard let url = Bundle.module.url(forResource: "rulebook", withExtension: "json"),
            let data = try? Data(contentsOf: url)
        else {
            return .failure(RulebookError(source: "rulebook.json", issues: [RulebookIssue(location: "bundle", message: "the bundled rulebook resource is missing")]))
        }
        return Result { () throws(RulebookError) in try Rulebook.load(data, source: "bundled rulebook.json") }
    }()
}
