import HTTPTypes
import Hummingbird

/// Routes called from tenants' own pages (the widget's), on any origin. They carry no cookies
/// (a visitor token travels in `Authorization`, if at all), so any origin may call them.
public enum PublicCORS {
    public static func allowAnyOrigin(_ response: inout Response) {
        response.headers[.accessControlAllowOrigin] = "*"
    }

    /// Answers browsers' preflight `OPTIONS` for `paths`.
    public static func allowPreflight<Context: RequestContext>(_ router: Router<Context>, paths: [String]) {
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
