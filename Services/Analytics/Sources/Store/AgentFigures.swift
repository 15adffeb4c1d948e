import Foundation
import KefuCore
import KefuModels
import PostgresNIO

/// One agent's numbers for a period (or the totals over every agent in reach). Each conversation
/// counts for the one agent it is credited to (docs/ANALYTICS.md), so the rows add up to the totals.
struct AgentFigures: Codable, Sendable {
    let agentId: EmployeeID?
    let displayName: String?
    let conversations: Int
    /// Conversations that were assigned to an agent, and of those the ones an agent wrote in.
    let assigned: Int
    let answered: Int
    let replyRate: Double?
    /// Conversations with a first response, and its average in seconds.
    let firstResponses: Int
    let averageFirstResponseSeconds: Double?
    let rated: Int
    let averageStars: Double?
    /// Stars given this calendar month and the last one (the tenant's zone), and the change.
    let thisMonthAverageStars: Double?
    let lastMonthAverageStars: Double?
    let starsChange: Double?
    let resolved: Int
    let resolvedRate: Double?

    static let csvHeader = [
        "agent_id", "display_name", "conversations", "assigned", "answered", "reply_rate", "first_responses",
        "average_first_response_seconds", "rated", "average_stars", "this_month_average_stars", "last_month_average_stars",
        "stars_change", "resolved", "resolved_rate",
    ]

    var csvRow: [String] {
        [agentId?.description ?? "", displayName ?? "", String(conversations), String(assigned), String(answered), CSVNumber.text(replyRate),
         String(firstResponses), CSVNumber.text(averageFirstResponseSeconds), String(rated), CSVNumber.text(averageStars),
         CSVNumber.text(thisMonthAverageStars), CSVNumber.text(lastMonthAverageStars), CSVNumber.text(starsChange), String(resolved),
         CSVNumber.text(resolvedRate)]
    }
}

/// Ratios and averages rounded the same way everywhere (4 decimals; seconds to the millisecond).
enum Ratio {
    static func of(_ part: Int, _ whole: Int) -> Double? { whole == 0 ? nil : round4(Double(part) / Double(whole)) }
    static func round4(_ value: Double) -> Double { (value * 10_000).rounded() / 10_000 }
    static func seconds(ms: Double?) -> Double? { ms.map { ($0).rounded() / 1000 } }
}

extension TenantTransaction {
    /// Per-agent figures for conversations started in `period`, credited to agents `reach`
    /// reaches, plus every active agent in reach without any; and the totals over the same rows.
    func agentFigures(_ period: Period, reach: [UUID]?, agent: UUID?, group: UUID?) async throws -> (rows: [AgentFigures], totals: AgentFigures) {
        let zone = period.timeZone
        let aggregates = """
            count(*)::int AS conversations, count(*) FILTER (WHERE c.first_assigned_at IS NOT NULL)::int AS assigned,
            count(*) FILTER (WHERE c.first_assigned_at IS NOT NULL AND c.agent_messages > 0)::int AS answered,
            count(c.first_response_ms)::int AS first_responses, avg(c.first_response_ms)::float8 AS first_ms,
            count(c.rating_stars)::int AS rated, avg(c.rating_stars)::float8 AS stars, count(*) FILTER (WHERE c.resolved)::int AS resolved
            """
        // Months in the tenant's zone; a rating counts in the month it was given. The started_at
        // bound only lets the index serve (a conversation is rated when it ends).
        let rows = try await query("""
            WITH per AS (
                SELECT c.agent_id, \(unescaped: aggregates)
                FROM analytics.conversations c
                WHERE c.started_at >= \(period.from) AND c.started_at < \(period.to) AND c.agent_id IS NOT NULL
                  AND (\(reach == nil) OR c.agent_id = ANY(\(reach ?? [])::uuid[]))
                  AND (\(agent)::uuid IS NULL OR c.agent_id = \(agent)) AND (\(group)::uuid IS NULL OR c.group_id = \(group))
                GROUP BY c.agent_id
            ), bounds AS (
                SELECT date_trunc('month', now() AT TIME ZONE \(zone)) AT TIME ZONE \(zone) AS this_month,
                       (date_trunc('month', now() AT TIME ZONE \(zone)) - interval '1 month') AT TIME ZONE \(zone) AS last_month
            ), months AS (
                SELECT c.agent_id,
                       avg(c.rating_stars) FILTER (WHERE c.rated_at >= b.this_month)::float8 AS this_month,
                       avg(c.rating_stars) FILTER (WHERE c.rated_at < b.this_month)::float8 AS last_month
                FROM analytics.conversations c CROSS JOIN bounds b
                WHERE c.started_at >= b.last_month - interval '7 days' AND c.rated_at >= b.last_month AND c.agent_id IS NOT NULL
                  AND (\(reach == nil) OR c.agent_id = ANY(\(reach ?? [])::uuid[])) AND (\(agent)::uuid IS NULL OR c.agent_id = \(agent))
                  AND (\(group)::uuid IS NULL OR c.group_id = \(group))
                GROUP BY c.agent_id
            ), ids AS (
                SELECT agent_id FROM per UNION SELECT agent_id FROM months
                UNION SELECT a.employee_id FROM analytics.agents a
                WHERE a.status = 'active' AND (\(reach == nil) OR a.employee_id = ANY(\(reach ?? [])::uuid[]))
                  AND (\(agent)::uuid IS NULL OR a.employee_id = \(agent)) AND \(group)::uuid IS NULL
            )
            SELECT ids.agent_id, coalesce(a.display_name, ''), coalesce(per.conversations, 0), coalesce(per.assigned, 0), coalesce(per.answered, 0),
                   coalesce(per.first_responses, 0), per.first_ms, coalesce(per.rated, 0), per.stars, coalesce(per.resolved, 0),
                   months.this_month, months.last_month
            FROM ids
            LEFT JOIN per ON per.agent_id = ids.agent_id
            LEFT JOIN months ON months.agent_id = ids.agent_id
            LEFT JOIN analytics.agents a ON a.employee_id = ids.agent_id
            ORDER BY coalesce(per.conversations, 0) DESC, ids.agent_id
            """).collect().map { row in
            let (id, name, conversations, assigned, answered, firsts, averageFirst, rated, stars, resolved, thisMonth, lastMonth) =
                try row.decode((UUID, String, Int, Int, Int, Int, Double?, Int, Double?, Int, Double?, Double?).self)
            return Self.figures(
                agent: EmployeeID(id), name: name, conversations, assigned, answered, firsts, averageFirst, rated, stars, resolved, thisMonth, lastMonth
            )
        }
        let totals = try await query("""
            WITH bounds AS (
                SELECT date_trunc('month', now() AT TIME ZONE \(zone)) AT TIME ZONE \(zone) AS this_month,
                       (date_trunc('month', now() AT TIME ZONE \(zone)) - interval '1 month') AT TIME ZONE \(zone) AS last_month
            )
            SELECT \(unescaped: aggregates),
                   (SELECT avg(m.rating_stars)::float8 FROM analytics.conversations m WHERE m.started_at >= b.last_month - interval '7 days'
                      AND m.rated_at >= b.this_month AND m.agent_id IS NOT NULL
                      AND (\(reach == nil) OR m.agent_id = ANY(\(reach ?? [])::uuid[])) AND (\(agent)::uuid IS NULL OR m.agent_id = \(agent))
                      AND (\(group)::uuid IS NULL OR m.group_id = \(group))),
                   (SELECT avg(m.rating_stars)::float8 FROM analytics.conversations m WHERE m.started_at >= b.last_month - interval '7 days'
                      AND m.rated_at >= b.last_month AND m.rated_at < b.this_month AND m.agent_id IS NOT NULL
                      AND (\(reach == nil) OR m.agent_id = ANY(\(reach ?? [])::uuid[])) AND (\(agent)::uuid IS NULL OR m.agent_id = \(agent))
                      AND (\(group)::uuid IS NULL OR m.group_id = \(group)))
            FROM analytics.conversations c CROSS JOIN bounds b
            WHERE c.started_at >= \(period.from) AND c.started_at < \(period.to) AND c.agent_id IS NOT NULL
              AND (\(reach == nil) OR c.agent_id = ANY(\(reach ?? [])::uuid[]))
              AND (\(agent)::uuid IS NULL OR c.agent_id = \(agent)) AND (\(group)::uuid IS NULL OR c.group_id = \(group))
            GROUP BY b.this_month, b.last_month
            """).collect().map { row in
            let (conversations, assigned, answered, firsts, averageFirst, rated, stars, resolved, thisMonth, lastMonth) =
                try row.decode((Int, Int, Int, Int, Double?, Int, Double?, Int, Double?, Double?).self)
            return Self.figures(agent: nil, name: nil, conversations, assigned, answered, firsts, averageFirst, rated, stars, resolved, thisMonth, lastMonth)
        }.first ?? Self.figures(agent: nil, name: nil, 0, 0, 0, 0, nil, 0, nil, 0, nil, nil)
        return (rows, totals)
    }

    static func figures(
        agent: EmployeeID?, name: String?, _ conversations: Int, _ assigned: Int, _ answered: Int, _ firsts: Int, _ averageFirstMs: Double?,
        _ rated: Int, _ stars: Double?, _ resolved: Int, _ thisMonth: Double?, _ lastMonth: Double?
    ) -> AgentFigures {
        let thisMonth = thisMonth.map(Ratio.round4), lastMonth = lastMonth.map(Ratio.round4)
        return AgentFigures(
            agentId: agent, displayName: name, conversations: conversations, assigned: assigned, answered: answered,
            replyRate: Ratio.of(answered, assigned), firstResponses: firsts, averageFirstResponseSeconds: Ratio.seconds(ms: averageFirstMs),
            rated: rated, averageStars: stars.map(Ratio.round4), thisMonthAverageStars: thisMonth, lastMonthAverageStars: lastMonth,
            starsChange: thisMonth.flatMap { t in lastMonth.map { Ratio.round4(t - $0) } }, resolved: resolved,
            resolvedRate: Ratio.of(resolved, conversations)
        )
    }
}
