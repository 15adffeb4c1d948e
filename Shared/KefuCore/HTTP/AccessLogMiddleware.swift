import Hummingbird
import Logging

/// One log line per request, errors included, carrying the request id from the logger metadata
/// and the authenticated caller. It runs outside authentication (so that refused credentials are
/// logged too) and learns the caller through `context.caller`.
public struct AccessLogMiddleware: RouterMiddleware {
    public typealias Context = KefuRequestContext

    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        do {
            let response = try await next(request, context)
            log(request, context: context, status: response.status.code, since: start)
            return response
        } catch {
            // Rare: ProblemMiddleware below answers errors. What escapes it becomes this status.
            log(request, context: context, status: (error as? any HTTPResponseError)?.status.code ?? 500, since: start)
            throw error
        }
    }

    func log(_ request: Request, context: Context, status: Int, since start: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - start
        context.logger.info("request", metadata: [
            "method": "\(request.method)",
            "path": "\(request.uri.path)",
            "status": "\(status)",
            "duration_ms": "\(Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000)",
            "principal": "\(context.caller.description ?? "-")",
        ])
    }
}
