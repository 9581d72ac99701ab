import CustosDomain
import CustosWeb
import Foundation
import Hummingbird

/// The public transparency report (C1): the page with its charts and tables, and every export
/// as a download. Open to anyone, like the figures it publishes.
struct ReportRoutes {
    let services: CustosServices

    func register(on router: inout SecuredRouter) {
        router.on(.get, "/transparency", .open, .page) { [services] request, _ in
            let period = try Self.period(request, services)
            let model = try await services.reportPage(period: period)
            let page = Page(template: "transparency", title: "Transparency report \(period.description)", viewer: nil, csrfToken: "", model: model)
            return .html(try services.renderer.render(page))
        }
        router.on(.get, "/transparency/download", .open, .api) { [services] request, _ in
            let period = try Self.period(request, services)
            guard let formatText = request.uri.queryParameters["format"].map(String.init), let format = ReportFormat(rawValue: formatText) else {
                throw Problem(.badRequest, detail: "format must be one of \(ReportFormat.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            var section: ReportSection?
            if let text = request.uri.queryParameters["section"].map(String.init) {
                guard let parsed = ReportSection(rawValue: text) else {
                    throw Problem(.badRequest, detail: "section must be one of \(ReportSection.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                section = parsed
            }
            let body = try await services.buildReport(period: period, format: format, section: section)
            let name = "custos-report-\(period.description.replacingOccurrences(of: "..", with: "_"))\(section.map { "-\($0.rawValue)" } ?? "")"
                + "." + format.fileExtension
            return Response(
                status: .ok,
                headers: [
                    .contentType: format.mediaType,
                    .contentDisposition: "attachment; filename=\"\(name)\"", .cacheControl: "no-cache",
                ],
                body: .init(byteBuffer: ByteBuffer(string: body)))
        }
    }

    /// `?period=` as given, or the half-year we are in.
    static func period(_ request: Request, _ services: CustosServices) throws -> ReportPeriod {
        guard let text = request.uri.queryParameters["period"].map(String.init), !text.isEmpty else {
            return ReportPeriod.halfYear(containing: services.now())
        }
        do {
            return try ReportPeriod(parsing: text)
        } catch {
            throw Problem(.badRequest, detail: "\(error)")
        }
    }
}
