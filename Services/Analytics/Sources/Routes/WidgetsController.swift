import Foundation
import Hummingbird
import KefuCore
import KefuModels
import PostgresNIO

/// Widget analysis (网站H5接入分析). The embed script reports impressions and clicks through
/// `POST /v1/public/widgets/{key}/events` (anonymous, any origin, limited per client address
/// with the shared `RateLimiter`, as routing's visitor starts are); `GET /v1/analytics/widgets`
/// (`analytics.sessions`) answers per widget — and per day, source or page — impressions, clicks,
/// click rate, conversations (customers connected), connection rate, assigned and answered: the
/// reception funnel impression → click → conversation → assigned → answered.
struct WidgetsController {
    let analytics: Analytics

    func addRoutes(to router: Router<KefuRequestContext>) {
        router.post("/v1/public/widgets/{key}/events", use: record)
        router.get("/v1/analytics/widgets", use: report)
        PublicCORS.allowPreflight(router, paths: ["/v1/public/widgets/{key}/events"])
    }

    struct WidgetEvent: Decodable {
        /// `impression` or `click`.
        let kind: String
        let pageUrl: String?
        let source: String?
        let visitorId: VisitorID?
    }

    @Sendable func record(request: Request, context: KefuRequestContext) async throws -> Response {
        let key = context.parameters.get("key") ?? ""
        let body = try await request.decode(as: WidgetEvent.self, context: context)
        var errors: [FieldError] = []
        if !["impression", "click"].contains(body.kind) {
            errors.append(FieldError(field: "kind", code: "invalid", message: "must be impression or click"))
        }
        if let page = body.pageUrl, page.count > 2000 {
            errors.append(FieldError(field: "page_url", code: "too_long", message: "must be at most 2000 characters"))
        }
        if let source = body.source, source.count > 200 {
            errors.append(FieldError(field: "source", code: "too_long", message: "must be at most 200 characters"))
        }
        guard errors.isEmpty else { throw Problem.validation(errors) }
        // Per minute and address: a page's impressions and clicks are generous; a script is not.
        try await analytics.rateLimiter.admit([
            RateLimit(key: "widget events address \(context.remoteAddress ?? "unknown")", limit: analytics.widgetEventsPerAddress, window: 60),
        ])
        guard key.count <= 64, let (tenant, widget) = try await analytics.reception.widget(key: key),
              try await analytics.reception.snapshot(for: tenant).widgets.contains(where: { $0.id == widget })
        else { throw Problem.notFound("widget") }
        try await analytics.database.withTenant(tenant) { tx in
            try await tx.query("""
                INSERT INTO analytics.widget_events (tenant_id, id, widget_id, kind, page_url, source, visitor_id, occurred_at)
                VALUES (\(tenant.uuid), \(UUID()), \(widget), \(body.kind), \(body.pageUrl), \(body.source), \(body.visitorId?.uuid), now())
                """)
        }
        var response = Response(status: .noContent)
        PublicCORS.allowAnyOrigin(&response)
        return response
    }

    enum Dimension: String, CaseIterable {
        case widget, day, source, page

        var eventKey: String {
            switch self {
            case .widget: "NULL::text"
            case .day: "to_char(e.occurred_at AT TIME ZONE z.zone, 'YYYY-MM-DD')"
            case .source: "coalesce(e.source, '')"
            case .page: "coalesce(e.page_url, '')"
            }
        }

        var conversationKey: String {
            switch self {
            case .widget: "NULL::text"
            case .day: "to_char(c.started_at AT TIME ZONE z.zone, 'YYYY-MM-DD')"
            case .source: "coalesce(lc.source, '')"
            case .page: "coalesce(lc.page_url, '')"
            }
        }
    }

    struct Row: Codable, Sendable {
        @LowercaseUUID var widgetId: UUID?
        let key: String?
        let impressions: Int
        let clicks: Int
        let clickRate: Double?
        /// Conversations started on the widget (customers connected).
        let conversations: Int
        let connectionRate: Double?
        let assigned: Int
        let answered: Int

        static let csvHeader = ["widget_id", "key", "impressions", "clicks", "click_rate", "conversations", "connection_rate", "assigned", "answered"]
        var csvRow: [String] {
            [widgetId?.uuidString.lowercased() ?? "", key ?? "", String(impressions), String(clicks), CSVNumber.text(clickRate),
             String(conversations), CSVNumber.text(connectionRate), String(assigned), String(answered)]
        }

        init(widgetId: UUID?, key: String?, impressions: Int, clicks: Int, conversations: Int, assigned: Int, answered: Int) {
            self.widgetId = widgetId
            self.key = key
            self.impressions = impressions
            self.clicks = clicks
            self.clickRate = Ratio.of(clicks, impressions)
            self.conversations = conversations
            self.connectionRate = Ratio.of(conversations, clicks)
            self.assigned = assigned
            self.answered = answered
        }
    }

    struct Funnel: Codable, Sendable {
        let impressions: Int
        let clicks: Int
        let conversations: Int
        let assigned: Int
        let answered: Int
    }

    struct Report: ResponseEncodable, Sendable {
        let by: String
        let from: Date
        let to: Date
        let timeZone: String
        let data: [Row]
        let totals: Row
        let funnel: Funnel
    }

    @Sendable func report(request: Request, context: KefuRequestContext) async throws -> Response {
        let principal = try context.requirePermission(.analyticsSessions)
        let format = try ReportFormat(request: request)
        if format == .csv { try context.requirePermission(.analyticsExport) }
        guard let by = Dimension(rawValue: request.stringParameter("by") ?? "widget") else {
            throw Problem.invalid("by", "must be one of \(Dimension.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let widget = try request.uuidParameter("widget_id")
        let period = try Period(request: request, timeZone: try await analytics.settings(of: principal.tenantID).timeZone)
        let rows = try await analytics.database.withTenant(principal.tenantID) { tx in
            let reach = try await tx.reachableAgents(of: principal)
            // A conversation is credited to the visitor's last click on its widget before it
            // started: that click's page and source are the conversation's.
            return try await tx.query("""
                WITH z AS (SELECT \(period.timeZone)::text AS zone), ev AS (
                    SELECT e.widget_id, \(unescaped: by.eventKey) AS key,
                           count(*) FILTER (WHERE e.kind = 'impression')::int AS impressions, count(*) FILTER (WHERE e.kind = 'click')::int AS clicks
                    FROM analytics.widget_events e CROSS JOIN z
                    WHERE e.occurred_at >= \(period.from) AND e.occurred_at < \(period.to) AND (\(widget)::uuid IS NULL OR e.widget_id = \(widget))
                    GROUP BY 1, 2
                ), conv AS (
                    SELECT c.widget_id, \(unescaped: by.conversationKey) AS key, count(*)::int AS conversations,
                           count(*) FILTER (WHERE c.first_assigned_at IS NOT NULL)::int AS assigned,
                           count(*) FILTER (WHERE c.first_assigned_at IS NOT NULL AND c.agent_messages > 0)::int AS answered
                    FROM analytics.conversations c CROSS JOIN z
                    LEFT JOIN LATERAL (
                        SELECT e.page_url, e.source FROM analytics.widget_events e
                        WHERE e.tenant_id = c.tenant_id AND e.widget_id = c.widget_id AND e.visitor_id = c.visitor_id AND e.kind = 'click'
                          AND e.occurred_at <= c.started_at
                        ORDER BY e.occurred_at DESC LIMIT 1
                    ) lc ON true
                    WHERE c.widget_id IS NOT NULL AND c.started_at >= \(period.from) AND c.started_at < \(period.to)
                      AND (\(widget)::uuid IS NULL OR c.widget_id = \(widget)) AND (\(reach == nil) OR c.agent_ids && \(reach ?? [])::uuid[])
                    GROUP BY 1, 2
                )
                SELECT coalesce(ev.widget_id, conv.widget_id), coalesce(ev.key, conv.key), coalesce(ev.impressions, 0), coalesce(ev.clicks, 0),
                       coalesce(conv.conversations, 0), coalesce(conv.assigned, 0), coalesce(conv.answered, 0)
                FROM ev FULL JOIN conv ON conv.widget_id = ev.widget_id AND conv.key IS NOT DISTINCT FROM ev.key
                ORDER BY 1, 2
                """).collect().map { row in
                let (id, key, impressions, clicks, conversations, assigned, answered) = try row.decode((UUID, String?, Int, Int, Int, Int, Int).self)
                return Row(widgetId: id, key: key, impressions: impressions, clicks: clicks, conversations: conversations, assigned: assigned, answered: answered)
            }
        }
        let totals = Row(
            widgetId: widget, key: nil, impressions: rows.map(\.impressions).reduce(0, +), clicks: rows.map(\.clicks).reduce(0, +),
            conversations: rows.map(\.conversations).reduce(0, +), assigned: rows.map(\.assigned).reduce(0, +), answered: rows.map(\.answered).reduce(0, +)
        )
        if format == .csv { return CSVResponse.table(Row.csvHeader, rows.map(\.csvRow) + [totals.csvRow], filename: "widgets-\(by.rawValue).csv") }
        return try Report(
            by: by.rawValue, from: period.from, to: period.to, timeZone: period.timeZone, data: rows, totals: totals,
            funnel: Funnel(impressions: totals.impressions, clicks: totals.clicks, conversations: totals.conversations,
                           assigned: totals.assigned, answered: totals.answered)
        ).response(from: request, context: context)
    }
}
