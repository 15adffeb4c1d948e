import HTTPTypes
import Hummingbird

/// Resolves `Authorization: Bearer …` into the context's principal. Requests without credentials
/// pass through unauthenticated (public routes exist); routes that need a principal say so with
/// `requirePermission`. Credentials that are present but invalid are refused outright.
public struct AuthenticationMiddleware: RouterMiddleware {
    public typealias Context = KefuRequestContext

    let verifier: TokenVerifier

    public init(verifier: TokenVerifier) {
        self.verifier = verifier
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let authorization = request.headers[.authorization] else {
            return try await next(request, context)
        }
        guard authorization.count > 7, authorization.prefix(7).lowercased() == "bearer " else {
            throw Problem.unauthorized("Use the Bearer scheme.")
        }
        var context = context
        context.principal = try await verifier.verify(String(authorization.dropFirst(7)))
        return try await next(request, context)
    }
}
