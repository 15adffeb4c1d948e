import Hummingbird
import Logging

/// One log line per request, carrying the request id from the logger metadata.
public struct AccessLogMiddleware: RouterMiddleware {
    public typealias Context = KefuRequestContext

    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let response = try await next(request, context)
        let elapsed = ContinuousClock.now - start
        context.logger.info("request", metadata: [
            "method": "\(request.method)",
            "path": "\(request.uri.path)",
            "status": "\(response.status.code)",
            "duration_ms": "\(Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000)",
            "principal": "\(context.principal?.description ?? "-")",
        ])
        return response
    }
}
