import Hummingbird
import Synchronization

/// Answers 405 with `Allow` (RFC 9110) when the path exists but not for the request's method;
/// the router alone answers 404 for both. Filled with the routes once they are all added.
public final class MethodNotAllowedMiddleware: RouterMiddleware, Sendable {
    public typealias Context = KefuRequestContext

    /// Each route template's segments (`nil` for a parameter) and its methods.
    private let templates = Mutex<[(segments: [String?], methods: Set<String>)]>([])

    public init() {}

    /// Records the router's routes; call after every route is added.
    public func learn(_ routes: [(path: RouterPath, method: HTTPRequest.Method)]) {
        var byPath: [[String?]: Set<String>] = [:]
        for route in routes {
            let segments = route.path.components.map { component -> String? in
                let text = component.description
                return text.hasPrefix(":") || text.hasPrefix("{") ? nil : text
            }
            byPath[segments, default: []].insert(route.method.rawValue)
        }
        templates.withLock { $0 = byPath.map { ($0.key, $0.value) } }
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            // Only the router's own "no route" (handlers throw `Problem.notFound`).
            let allowed = allowedMethods(for: request.uri.path)
            guard !allowed.isEmpty else { throw error }
            var headers = HTTPFields()
            headers[.allow] = allowed.sorted().joined(separator: ", ")
            throw Problem(.methodNotAllowed, code: "method_not_allowed", detail: "This path answers \(headers[.allow]!) only.", headers: headers)
        }
    }

    func allowedMethods(for path: String) -> Set<String> {
        let parts = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        return templates.withLock { templates in
            templates.reduce(into: Set<String>()) { allowed, template in
                guard template.segments.count == parts.count,
                      zip(template.segments, parts).allSatisfy({ $0 == nil || $0 == $1 }) else { return }
                allowed.formUnion(template.methods)
            }
        }
    }
}
