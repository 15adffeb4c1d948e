import HTTPTypes
import Hummingbird

/// Resolves `Authorization: Bearer …` into the context's principal. Requests without credentials
/// pass through unauthenticated (public routes exist); routes that need a principal say so with
/// `requirePermission`. Credentials that are present but invalid are refused outright.
public struct AuthenticationMiddleware: RouterMiddleware {
    public typealias Context = KefuRequestContext

    public static let visitorTokenPrefix = "kefu_vt."

    let verifier: TokenVerifier
    let revocations: RevocationList
    let platformToken: String?

    public init(verifier: TokenVerifier, revocations: RevocationList, platformToken: String?) {
        self.verifier = verifier
        self.revocations = revocations
        self.platformToken = platformToken
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let authorization = request.headers[.authorization] else {
            return try await next(request, context)
        }
        guard authorization.count > 7, authorization.prefix(7).lowercased() == "bearer " else {
            throw Problem.unauthorized("Use the Bearer scheme.")
        }
        let credential = authorization.dropFirst(7)
        var context = context
        if let platformToken, constantTimeEquals(credential.utf8, platformToken.utf8) {
            context.isPlatformOperator = true
            return try await next(request, context)
        }
        // Visitors' tokens are routing's own (not access tokens): the visitor routes check them.
        if credential.hasPrefix(Self.visitorTokenPrefix) {
            context.visitorCredential = String(credential)
            return try await next(request, context)
        }
        let principal = try await verifier.verify(String(credential))
        guard !revocations.isRevoked(principal) else {
            throw Problem.unauthorized("The credential was revoked. Sign in again.")
        }
        context.principal = principal
        return try await next(request, context)
    }
}

/// Compares secrets without leaking, through timing, how long a prefix matched.
public func constantTimeEquals(_ a: some Collection<UInt8>, _ b: some Collection<UInt8>) -> Bool {
    guard a.count == b.count else { return false }
    var difference: UInt8 = 0
    for (x, y) in zip(a, b) { difference |= x ^ y }
    return difference == 0
}
