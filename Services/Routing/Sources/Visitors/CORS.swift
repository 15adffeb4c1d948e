import Hummingbird
import HTTPTypes
import KefuCore

/// The widget's routes are called from the tenant's own pages, on any origin. They carry no
/// cookies (the visitor token travels in `Authorization`), so any origin may call them.
enum CORS {
    static func allowAnyOrigin(_ response: inout Response) {
        response.headers[.accessControlAllowOrigin] = "*"
    }

    /// Answers browsers' preflight `OPTIONS` for `paths`.
    static func allowPreflight(_ router: Router<KefuRequestContext>, paths: [String]) {
        for path in paths {
            router.on(RouterPath(path), method: .options) { _, _ -> Response in
                Response(status: .noContent, headers: [
                    .accessControlAllowOrigin: "*",
                    .accessControlAllowMethods: "GET, POST, OPTIONS",
                    .accessControlAllowHeaders: "Authorization, Content-Type, Idempotency-Key",
                    .accessControlMaxAge: "600",
                ])
            }
        }
    }
}
