import Hummingbird
import Logging

/// Turns every error thrown below it into a problem+json response, so that clients see one error
/// shape whatever failed. Unexpected errors are logged in full and answered with a bare 500.
public struct ProblemMiddleware: RouterMiddleware {
    public typealias Context = KefuRequestContext

    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            return try Self.response(for: error, request: request, context: context)
        }
    }

    /// The problem+json response `error` is answered with.
    static func response(for error: any Error, request: Request, context: Context) throws -> Response {
        switch error {
        case let problem as Problem:
            return try problem.response(from: request, context: context)
        case let error as any HTTPResponseError:
            // Hummingbird's own errors: unknown route, body too large, bad query string …
            return try problem(from: error).response(from: request, context: context)
        case _ where ConnectionLost.isDatabaseUnavailable(error):
            context.logger.warning("database unavailable", metadata: ["error": "\(String(reflecting: error))"])
            return try Problem(
                .serviceUnavailable, code: "database_unavailable",
                detail: "The database is briefly unreachable (a restart?). Retry shortly: with the same Idempotency-Key a retry cannot write twice.",
                headers: [.retryAfter: "1"]
            ).response(from: request, context: context)
        default:
            context.logger.error("unhandled error", metadata: ["error": "\(String(reflecting: error))"])
            return try Problem(
                .internalServerError, code: "internal_error",
                detail: "Something went wrong on our side. Quote request id \(context.requestID) when reporting it."
            ).response(from: request, context: context)
        }
    }

    static func problem(from error: any HTTPResponseError) -> Problem {
        let code = switch error.status {
        case .notFound: "not_found"
        case .methodNotAllowed: "method_not_allowed"
        case .contentTooLarge: "body_too_large"
        case .unauthorized: "unauthorized"
        case .forbidden: "permission_denied"
        case .unprocessableContent: "validation_failed"
        default: error.status.code < 500 ? "bad_request" : "internal_error"
        }
        let httpError = error as? HTTPError
        return Problem(error.status, code: code, detail: httpError?.body, headers: httpError?.headers ?? [:])
    }
}
