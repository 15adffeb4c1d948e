import Foundation
import Hummingbird
import KefuCore
import KefuModels
import PostgresNIO

/// Conversation analysis (会话分析, `analytics.sessions`): `GET /v1/analytics/sessions?by=…`,
/// conversations started in the period grouped by channel, hour of day or day (in the tenant's
/// zone, so daylight saving moves no conversation to another hour or day), visitor region, or
/// widget; with the totals over the same rows. CSV with `analytics.export`.
struct SessionsController {
    let analytics: Analytics

    func addRoutes(to router: Router<KefuRequestContext>) {
        router.get("/v1/analytics/sessions", use: sessions)
    }

    enum Dimension: String, CaseIterable {
        case channel, hour, day, region, widget

        /// The key of conversation `c` (visitor `v`), in zone `$zone`.
        var sql: String {
            switch self {
            case .channel: "coalesce(c.channel, '')"
            case .hour: "extract(hour FROM c.started_at AT TIME ZONE z.zone)::int::text"
            case .day: "to_char(c.started_at AT TIME ZONE z.zone, 'YYYY-MM-DD')"
            case .region: "coalesce(v.region, '')"
            case .widget: "coalesce(c.widget_id::text, '')"
            }
        }
    }

    struct Row: Codable, Sendable {
        let key: String?
        let conversations: Int
        let assigned: Int
        let answered: Int
        let replyRate: Double?
        let averageFirstResponseSeconds: Double?
        let averageDurationSeconds: Double?
        let rated: Int
        let averageStars: Double?
        /// Conversations per quality (unanswered, customer_no_reply, silent, normal, high_quality).
        let quality: [String: Int]

        static let csvHeader = ["key", "conversations", "assigned", "answered", "reply_rate", "average_first_response_seconds",
                                "average_duration_seconds", "rated", "average_stars"] + Quality.allCases.map { "quality_\($0.rawValue)" }
        var csvRow: [String] {
            [key ?? "", String(conversations), String(assigned), String(answered), CSVNumber.text(replyRate),
             CSVNumber.text(averageFirstResponseSeconds), CSVNumber.text(averageDurationSeconds), String(rated), CSVNumber.text(averageStars)]
                + Quality.allCases.map { String(quality[$0.rawValue] ?? 0) }
        }
    }

    struct Report: ResponseEncodable, Sendable {
        let by: String
        let from: Date
        let to: Date
        let timeZone: String
        let data: [Row]
        let totals: Row
    }

    @Sendable func sessions(request: Request, context: KefuRequestContext) async throws -> Response {
        let principal = try context.requirePermission(.analyticsSessions)
        let format = try ReportFormat(request: request)
        if format == .csv { try context.requirePermission(.analyticsExport) }
        guard let by = Dimension(rawValue: request.stringParameter("by") ?? "channel") else {
            throw Problem.invalid("by", "must be one of \(Dimension.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let settings = try await analytics.settings(of: principal.tenantID)
        let period = try Period(request: request, timeZone: settings.timeZone)
        let hq = Quality.bounds(settings.highQuality)
        let rows = try await analytics.database.withTenant(principal.tenantID) { tx in
            let reach = try await tx.reachableAgents(of: principal)
            // GROUPING SETS: each key's row and the totals from one pass over the same rows.
            return try await tx.query("""
                SELECT grouping(k.key) = 1, k.key, count(*)::int, count(*) FILTER (WHERE k.first_assigned_at IS NOT NULL)::int,
                       count(*) FILTER (WHERE k.first_assigned_at IS NOT NULL AND k.agent_messages > 0)::int,
                       avg(k.first_response_ms)::float8, avg(k.duration)::float8, count(k.rating_stars)::int, avg(k.rating_stars)::float8,
                       count(*) FILTER (WHERE k.quality = 'unanswered')::int, count(*) FILTER (WHERE k.quality = 'customer_no_reply')::int,
                       count(*) FILTER (WHERE k.quality = 'silent')::int, count(*) FILTER (WHERE k.quality = 'normal')::int,
                       count(*) FILTER (WHERE k.quality = 'high_quality')::int
                FROM (
                    SELECT \(unescaped: by.sql) AS key, c.first_assigned_at, c.agent_messages, c.first_response_ms, c.rating_stars,
                           extract(epoch FROM c.ended_at - c.started_at) AS duration, \(unescaped: Quality.sql) AS quality
                    FROM analytics.conversations c
                    CROSS JOIN (SELECT \(hq.minVisitor)::int AS min_visitor, \(hq.minAgent)::int AS min_agent,
                                       \(hq.maxFirstMs)::int8 AS max_first_ms, \(hq.minStars)::int AS min_stars) hq
                    CROSS JOIN (SELECT \(period.timeZone)::text AS zone) z
                    LEFT JOIN analytics.visitors v ON v.tenant_id = c.tenant_id AND v.visitor_id = c.visitor_id
                    WHERE c.started_at >= \(period.from) AND c.started_at < \(period.to)
                      AND (\(reach == nil) OR c.agent_ids && \(reach ?? [])::uuid[])
                ) k
                GROUP BY GROUPING SETS ((k.key), ())
                ORDER BY 1, \(unescaped: by == .hour ? "k.key::int" : "k.key")
                """).collect().map { row in
                var cells = row.makeIterator()
                func next<T: PostgresDecodable>(_: T.Type) throws -> T { try cells.next()!.decode(T.self, context: .default) }
                let isTotal = try next(Bool.self), key = try next(String?.self), conversations = try next(Int.self)
                let assigned = try next(Int.self), answered = try next(Int.self), firstMs = try next(Double?.self)
                let duration = try next(Double?.self), rated = try next(Int.self), stars = try next(Double?.self)
                var quality: [String: Int] = [:]
                for q in Quality.allCases { quality[q.rawValue] = try next(Int.self) }
                return (isTotal, Row(
                    key: isTotal ? nil : key, conversations: conversations, assigned: assigned, answered: answered,
                    replyRate: Ratio.of(answered, assigned), averageFirstResponseSeconds: Ratio.seconds(ms: firstMs),
                    averageDurationSeconds: duration.map { ($0 * 1000).rounded() / 1000 }, rated: rated, averageStars: stars.map(Ratio.round4),
                    quality: quality
                ))
            }
        }
        let data = rows.filter { !$0.0 }.map(\.1)
        let totals = rows.first { $0.0 }?.1 ?? Row(
            key: nil, conversations: 0, assigned: 0, answered: 0, replyRate: nil, averageFirstResponseSeconds: nil, averageDurationSeconds: nil,
            rated: 0, averageStars: nil, quality: Dictionary(uniqueKeysWithValues: Quality.allCases.map { ($0.rawValue, 0) })
        )
        if format == .csv { return CSVResponse.table(Row.csvHeader, data.map(\.csvRow) + [totals.csvRow], filename: "sessions-\(by.rawValue).csv") }
        return try Report(by: by.rawValue, from: period.from, to: period.to, timeZone: period.timeZone, data: data, totals: totals)
            .response(from: request, context: context)
    }
}
