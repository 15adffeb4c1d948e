import Foundation
import Hummingbird
import KefuCore
import KefuModels

/// A web page's visitor: `POST /v1/public/widgets/{key}/visitors` (anonymous, any origin) starts
/// or resumes a visitor session and answers the visitor token; `/v1/visitor/...` routes take it.
struct VisitorsController {
    let routing: Routing

    func addRoutes(to router: Router<KefuRequestContext>) {
        router.post("/v1/public/widgets/{key}/visitors", use: start)
        router.post("/v1/visitor/page-views", use: pageView)
        PublicCORS.allowPreflight(router, paths: ["/v1/public/widgets/{key}/visitors", "/v1/visitor/page-views"])
    }

    struct StartRequest: Decodable {
        let visitorToken: String?
        let attributes: VisitorAttributes?
    }

    struct StartResponse: ResponseEncodable {
        let visitorId: VisitorID
        let visitorToken: String
        let visitCount: Int
    }

    @Sendable func start(request: Request, context: KefuRequestContext) async throws -> Response {
        let key = context.parameters.get("key") ?? ""
        let body = try await request.decode(as: StartRequest.self, context: context)
        let attributes = try (body.attributes ?? VisitorAttributes()).validated()
        // Per minute and address: a page view each is generous; a script making visitors is not.
        try await routing.rateLimiter.admit([
            RateLimit(key: "visitors address \(context.remoteAddress ?? "unknown")", limit: routing.visitorsPerAddress, window: 60),
        ])
        guard key.count <= 64, let (tenant, widget) = try await routing.reception.widget(key: key) else { throw Problem.notFound("widget") }
        let holdsWidget = { (snapshot: ReceptionSnapshot) in snapshot.widgets.contains { $0.id == widget } }
        guard holdsWidget(try await routing.reception.snapshot(for: tenant, holding: holdsWidget)) else { throw Problem.notFound("widget") }
        // A token of another tenant (or a forged one) is simply not this visitor: a new one starts.
        let earlier = body.visitorToken.flatMap { routing.visitorTokens.verify($0) }.flatMap { $0.tid == tenant ? $0.vid : nil }
        let (visitor, visits, isNew) = try await routing.database.withTenant(tenant) { tx -> (VisitorID, Int, Bool) in
            let json = String(decoding: try KefuJSON.encoder().encode(attributes), as: UTF8.self)
            if let earlier, let visits = try await tx.query("""
                UPDATE routing.visitors SET visit_count = visit_count + 1, last_seen_at = now(), attributes = \(json)::jsonb, widget_id = \(widget)
                WHERE id = \(earlier.uuid) RETURNING visit_count
                """).collect().first.map({ try $0.decode(Int.self) }) {
                try await tx.publish(VisitorSeen(visitorId: earlier, widgetId: widget, isNew: false, visitCount: visits, attributes: attributes.flattened, seenAt: Date()))
                return (earlier, visits, false)
            }
            let visitor = VisitorID()
            try await tx.query("""
                INSERT INTO routing.visitors (tenant_id, id, widget_id, attributes) VALUES (\(tenant.uuid), \(visitor.uuid), \(widget), \(json)::jsonb)
                """)
            try await tx.publish(VisitorSeen(visitorId: visitor, widgetId: widget, isNew: true, visitCount: 1, attributes: attributes.flattened, seenAt: Date()))
            return (visitor, 1, true)
        }
        var response = try EditedResponse(
            status: isNew ? .created : .ok,
            response: StartResponse(visitorId: visitor, visitorToken: try routing.visitorTokens.issue(tenant: tenant, visitor: visitor), visitCount: visits)
        ).response(from: request, context: context)
        PublicCORS.allowAnyOrigin(&response)
        return response
    }

    struct PageViewRequest: Decodable {
        let url: String
        let title: String?
        let referrer: String?
    }

    /// A page the visitor opened (the customer trail).
    @Sendable func pageView(request: Request, context: KefuRequestContext) async throws -> Response {
        let visitor = try routing.visitorTokens.require(context)
        let body = try await request.decode(as: PageViewRequest.self, context: context)
        var v = Validation()
        let url = v.text(body.url, "url", length: 1...2048)
        let title = v.text(body.title, "title", length: 0...500, optional: true)
        let referrer = v.text(body.referrer, "referrer", length: 0...2048, optional: true)
        try v.throwIfInvalid()
        try await routing.database.withTenant(visitor.tid) { tx in
            try await tx.query("""
                INSERT INTO routing.page_views (tenant_id, visitor_id, url, title, referrer) VALUES (\(visitor.tid.uuid), \(visitor.vid.uuid), \(url!), \(title), \(referrer))
                """)
            try await tx.query("UPDATE routing.visitors SET last_seen_at = now() WHERE id = \(visitor.vid.uuid)")
            try await tx.publish(VisitorPageViewed(visitorId: visitor.vid, url: url!, title: title, referrer: referrer, viewedAt: Date()))
        }
        var response = Response(status: .noContent)
        PublicCORS.allowAnyOrigin(&response)
        return response
    }
}

/// What a page reports about its visitor; rules test these (`visitor.page_url`, …).
struct VisitorAttributes: Codable, Sendable {
    var pageUrl: String?
    var pageTitle: String?
    var referrer: String?
    /// The ad campaign or source the visitor came from (`visitor.source_ad`).
    var source: String?
    var region: String?
    var language: String?
    /// The tenant's own attributes (up to 20, short strings).
    var custom: [String: String]?

    func validated() throws -> VisitorAttributes {
        var v = Validation()
        _ = v.text(pageUrl, "attributes.page_url", length: 0...2048, optional: true)
        _ = v.text(pageTitle, "attributes.page_title", length: 0...500, optional: true)
        _ = v.text(referrer, "attributes.referrer", length: 0...2048, optional: true)
        _ = v.text(source, "attributes.source", length: 0...200, optional: true)
        _ = v.text(region, "attributes.region", length: 0...100, optional: true)
        _ = v.text(language, "attributes.language", length: 0...35, optional: true)
        if let custom {
            v.check(custom.count <= 20, "attributes.custom", "may hold up to 20 attributes")
            for (key, value) in custom where key.count > 64 || value.count > 500 {
                v.add("attributes.custom.\(key.prefix(64))", "keys are up to 64 characters, values up to 500")
            }
        }
        try v.throwIfInvalid()
        return self
    }

    /// As the `visitor.seen` event carries them.
    var flattened: [String: String] {
        var all: [String: String] = [:]
        for (key, value) in [("page_url", pageUrl), ("page_title", pageTitle), ("referrer", referrer), ("source", source),
                             ("region", region), ("language", language)] {
            if let value { all[key] = value }
        }
        for (key, value) in custom ?? [:] { all["custom.\(key)"] = value }
        return all
    }
}

extension VisitorTokens {
    /// The visitor a `/v1/visitor/...` request comes from, or 401.
    func require(_ context: KefuRequestContext) throws -> Claims {
        guard let token = context.visitorCredential, let claims = verify(token) else {
            throw Problem.unauthorized("Send the visitor token from POST /v1/public/widgets/{key}/visitors.")
        }
        return claims
    }
}
