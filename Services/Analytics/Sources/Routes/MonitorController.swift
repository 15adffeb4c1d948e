import Foundation
import Hummingbird
import KefuCore
import KefuModels
import PostgresNIO

/// Live monitoring (客服监控, `analytics.monitoring`): `GET /v1/analytics/monitor`, polled. Each
/// agent in reach by state (in conversation, reception on, reception off, not logged in) with the
/// time in it, their open conversations, today's conversations and satisfaction (today in the
/// tenant's zone); the ongoing and queued counts. It reads what the `analytics.facts` consumer
/// has applied, which follows the outbox's NOTIFY (well under a second: `make bench` measures it).
struct MonitorController {
    let analytics: Analytics

    func addRoutes(to router: Router<KefuRequestContext>) {
        router.get("/v1/analytics/monitor", use: monitor)
    }

    enum State: String, Codable, CaseIterable {
        case inConversation = "in_conversation"
        case receptionOn = "reception_on"
        case receptionOff = "reception_off"
        case notLoggedIn = "not_logged_in"
    }

    struct AgentNow: Codable, Sendable {
        let agentId: EmployeeID
        let displayName: String
        let state: State
        /// The last state change (nil: none known).
        let since: Date?
        let secondsInState: Int?
        let openConversations: Int
        let todayConversations: Int
        let todayAverageStars: Double?

        static let csvHeader = ["agent_id", "display_name", "state", "since", "seconds_in_state", "open_conversations",
                                "today_conversations", "today_average_stars"]
        var csvRow: [String] {
            [agentId.description, displayName, state.rawValue, since.map(RFC3339.string(from:)) ?? "", CSVNumber.text(secondsInState),
             String(openConversations), String(todayConversations), CSVNumber.text(todayAverageStars)]
        }
    }

    struct Snapshot: ResponseEncodable, Sendable {
        let asOf: Date
        let timeZone: String
        /// Conversations started and not ended (open, queued or waiting) that the scope reaches.
        let ongoing: Int
        let queued: Int
        /// Agents per state.
        let states: [String: Int]
        let agents: [AgentNow]
    }

    @Sendable func monitor(request: Request, context: KefuRequestContext) async throws -> Response {
        let principal = try context.requirePermission(.analyticsMonitoring)
        let format = try ReportFormat(request: request)
        if format == .csv { try context.requirePermission(.analyticsExport) }
        let zone = try await analytics.settings(of: principal.tenantID).timeZone
        let snapshot = try await analytics.database.withTenant(principal.tenantID) { tx in
            let reach = try await tx.reachableAgents(of: principal)
            let agents = try await tx.query("""
                WITH today AS (SELECT date_trunc('day', now() AT TIME ZONE \(zone)) AT TIME ZONE \(zone) AS start),
                known AS (
                    SELECT employee_id AS agent_id FROM analytics.agents WHERE status = 'active'
                    UNION SELECT DISTINCT agent_id FROM analytics.agent_states
                ), latest AS (
                    SELECT DISTINCT ON (s.agent_id) s.agent_id, s.changed_at, s.status, s.reception
                    FROM analytics.agent_states s ORDER BY s.agent_id, s.changed_at DESC
                ), open AS (
                    SELECT holder_id AS agent_id, count(*)::int AS n FROM analytics.conversations
                    WHERE ended_at IS NULL AND started_at IS NOT NULL AND holder_id IS NOT NULL GROUP BY holder_id
                ), day AS (
                    SELECT c.agent_id, count(*)::int AS n, avg(c.rating_stars)::float8 AS stars
                    FROM analytics.conversations c CROSS JOIN today
                    WHERE c.started_at >= today.start AND c.agent_id IS NOT NULL GROUP BY c.agent_id
                )
                SELECT k.agent_id, coalesce(a.display_name, ''), l.changed_at, l.status, l.reception,
                       greatest(0, extract(epoch FROM now() - l.changed_at))::int, coalesce(o.n, 0), coalesce(d.n, 0), d.stars
                FROM known k
                LEFT JOIN analytics.agents a ON a.employee_id = k.agent_id
                LEFT JOIN latest l ON l.agent_id = k.agent_id
                LEFT JOIN open o ON o.agent_id = k.agent_id
                LEFT JOIN day d ON d.agent_id = k.agent_id
                WHERE (\(reach == nil) OR k.agent_id = ANY(\(reach ?? [])::uuid[])) AND coalesce(a.status, 'active') = 'active'
                ORDER BY k.agent_id
                """).collect().map { row -> AgentNow in
                let (id, name, since, status, reception, seconds, open, today, stars) =
                    try row.decode((UUID, String, Date?, String?, String?, Int?, Int, Int, Double?).self)
                let state: State =
                    if status == nil || status == AgentStatus.offline.rawValue { .notLoggedIn }
                    else if open > 0 { .inConversation }
                    else if reception == ReceptionSwitch.on.rawValue { .receptionOn }
                    else { .receptionOff }
                return AgentNow(agentId: EmployeeID(id), displayName: name, state: state, since: since, secondsInState: seconds,
                                openConversations: open, todayConversations: today, todayAverageStars: stars.map(Ratio.round4))
            }
            let (ongoing, queued) = try await tx.query("""
                SELECT count(*) FILTER (WHERE \(reach == nil) OR c.holder_id = ANY(\(reach ?? [])::uuid[]))::int,
                       count(*) FILTER (WHERE \(reach == nil) AND c.last_queued_at IS NOT NULL
                                          AND (c.last_assigned_at IS NULL OR c.last_queued_at > c.last_assigned_at))::int
                FROM analytics.conversations c WHERE c.ended_at IS NULL AND c.started_at IS NOT NULL
                """).decode((Int, Int).self).reduce(into: (0, 0)) { $0 = $1 }
            var states = Dictionary(uniqueKeysWithValues: State.allCases.map { ($0.rawValue, 0) })
            for agent in agents { states[agent.state.rawValue, default: 0] += 1 }
            return Snapshot(asOf: Date(), timeZone: zone, ongoing: ongoing, queued: queued, states: states, agents: agents)
        }
        if format == .csv { return CSVResponse.table(AgentNow.csvHeader, snapshot.agents.map(\.csvRow), filename: "monitor.csv") }
        return try snapshot.response(from: request, context: context)
    }
}
