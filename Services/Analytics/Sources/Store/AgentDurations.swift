import Foundation
import KefuCore
import KefuModels
import PostgresNIO

/// Time an agent spent online and with reception on within a period, from the intervals between
/// their `agent.state_changed` events: the state from each change lasts until the next one
/// (or now). Computed when asked from the stored changes, so a late change splits an interval
/// exactly as if it had come in order.
struct AgentDurations: Codable, Sendable {
    let agentId: EmployeeID
    let displayName: String
    /// Status online (在线).
    let onlineSeconds: Double
    /// Status suspended (挂起).
    let suspendedSeconds: Double
    /// Online with reception on (接待状态 on): when new customers could be assigned.
    let receptionOnSeconds: Double

    static let csvHeader = ["agent_id", "display_name", "online_seconds", "suspended_seconds", "reception_on_seconds"]
    var csvRow: [String] {
        [agentId.description, displayName, CSVNumber.text(onlineSeconds), CSVNumber.text(suspendedSeconds), CSVNumber.text(receptionOnSeconds)]
    }
}

extension TenantTransaction {
    func agentDurations(_ period: Period, reach: [UUID]?, agent: UUID?) async throws -> [AgentDurations] {
        try await query("""
            WITH changes AS (
                SELECT s.agent_id, s.changed_at, s.status, s.reception,
                       lead(s.changed_at) OVER (PARTITION BY s.agent_id ORDER BY s.changed_at) AS next_at
                FROM analytics.agent_states s
                WHERE s.changed_at < \(period.to) AND (\(reach == nil) OR s.agent_id = ANY(\(reach ?? [])::uuid[]))
                  AND (\(agent)::uuid IS NULL OR s.agent_id = \(agent))
            ), clipped AS (
                SELECT agent_id, status, reception,
                       greatest(0, extract(epoch FROM least(coalesce(next_at, now()), \(period.to), now()) - greatest(changed_at, \(period.from)))) AS seconds
                FROM changes WHERE next_at IS NULL OR next_at > \(period.from)
            )
            SELECT k.agent_id, coalesce(a.display_name, ''),
                   coalesce(sum(k.seconds) FILTER (WHERE k.status = 'online'), 0)::float8,
                   coalesce(sum(k.seconds) FILTER (WHERE k.status = 'suspended'), 0)::float8,
                   coalesce(sum(k.seconds) FILTER (WHERE k.status = 'online' AND k.reception = 'on'), 0)::float8
            FROM clipped k LEFT JOIN analytics.agents a ON a.employee_id = k.agent_id
            GROUP BY k.agent_id, a.display_name
            ORDER BY k.agent_id
            """).collect().map { row in
            let (id, name, online, suspended, receptionOn) = try row.decode((UUID, String, Double, Double, Double).self)
            func ms(_ seconds: Double) -> Double { (seconds * 1000).rounded() / 1000 }
            return AgentDurations(agentId: EmployeeID(id), displayName: name, onlineSeconds: ms(online), suspendedSeconds: ms(suspended),
                                  receptionOnSeconds: ms(receptionOn))
        }
    }
}

/// The satisfaction distribution (满意度) of one agent's conversations, or of all of them.
struct SatisfactionFigures: Codable, Sendable {
    struct LabelCount: Codable, Sendable, Equatable {
        let label: String
        let count: Int
    }

    let agentId: EmployeeID?
    let displayName: String?
    let rated: Int
    /// Ratings per star level, "1" to "5".
    let stars: [String: Int]
    let averageStars: Double?
    let labels: [LabelCount]
    let solved: Int
    let unsolved: Int

    static let csvHeader = ["agent_id", "display_name", "rated", "stars_1", "stars_2", "stars_3", "stars_4", "stars_5", "average_stars",
                            "labels", "solved", "unsolved"]
    var csvRow: [String] {
        [agentId?.description ?? "", displayName ?? "", String(rated)] + (1...5).map { String(stars[String($0)] ?? 0) }
            + [CSVNumber.text(averageStars), labels.map { "\($0.label):\($0.count)" }.joined(separator: ";"), String(solved), String(unsolved)]
    }
}

extension TenantTransaction {
    /// Ratings of conversations started in `period`, per credited agent in reach, and the totals.
    func satisfaction(_ period: Period, reach: [UUID]?, agent: UUID?) async throws -> (rows: [SatisfactionFigures], totals: SatisfactionFigures) {
        var stars: [UUID?: [String: Int]] = [:], solved: [UUID?: (Int, Int)] = [:], labels: [UUID?: [SatisfactionFigures.LabelCount]] = [:]
        let rows = try await query("""
            SELECT c.agent_id, c.rating_stars, count(*)::int, count(*) FILTER (WHERE c.rating_solved)::int,
                   count(*) FILTER (WHERE NOT c.rating_solved)::int
            FROM analytics.conversations c
            WHERE c.started_at >= \(period.from) AND c.started_at < \(period.to) AND c.agent_id IS NOT NULL AND c.rating_stars IS NOT NULL
              AND (\(reach == nil) OR c.agent_id = ANY(\(reach ?? [])::uuid[])) AND (\(agent)::uuid IS NULL OR c.agent_id = \(agent))
            GROUP BY c.agent_id, c.rating_stars
            """).collect()
        for row in rows {
            let (id, level, count, yes, no) = try row.decode((UUID, Int, Int, Int, Int).self)
            for key in [id, nil] as [UUID?] {
                stars[key, default: [:]][String(level), default: 0] += count
                let before = solved[key] ?? (0, 0)
                solved[key] = (before.0 + yes, before.1 + no)
            }
        }
        let labelRows = try await query("""
            SELECT c.agent_id, l.label, count(*)::int
            FROM analytics.conversations c CROSS JOIN LATERAL unnest(c.rating_labels) AS l(label)
            WHERE c.started_at >= \(period.from) AND c.started_at < \(period.to) AND c.agent_id IS NOT NULL AND c.rating_stars IS NOT NULL
              AND (\(reach == nil) OR c.agent_id = ANY(\(reach ?? [])::uuid[])) AND (\(agent)::uuid IS NULL OR c.agent_id = \(agent))
            GROUP BY c.agent_id, l.label
            ORDER BY c.agent_id, count(*) DESC, l.label
            """).collect()
        var totalLabels: [String: Int] = [:]
        for row in labelRows {
            let (id, label, count) = try row.decode((UUID, String, Int).self)
            labels[id, default: []].append(.init(label: label, count: count))
            totalLabels[label, default: 0] += count
        }
        labels[nil] = totalLabels.map { SatisfactionFigures.LabelCount(label: $0.key, count: $0.value) }
            .sorted { ($0.count, $1.label) > ($1.count, $0.label) }
        var names: [UUID: String] = [:]
        for row in try await query("SELECT employee_id, display_name FROM analytics.agents WHERE employee_id = ANY(\(stars.keys.compactMap { $0 }))").collect() {
            let (id, name) = try row.decode((UUID, String).self)
            names[id] = name
        }
        func figures(_ key: UUID?) -> SatisfactionFigures {
            let counts = stars[key] ?? [:]
            let rated = counts.values.reduce(0, +)
            let sum = counts.reduce(0) { $0 + (Int($1.key) ?? 0) * $1.value }
            return SatisfactionFigures(
                agentId: key.map(EmployeeID.init), displayName: key.map { names[$0] ?? "" }, rated: rated,
                stars: Dictionary(uniqueKeysWithValues: (1...5).map { (String($0), counts[String($0)] ?? 0) }),
                averageStars: rated == 0 ? nil : Ratio.round4(Double(sum) / Double(rated)), labels: labels[key] ?? [],
                solved: solved[key]?.0 ?? 0, unsolved: solved[key]?.1 ?? 0
            )
        }
        let agents = stars.keys.compactMap { $0 }.sorted { $0.uuidString < $1.uuidString }
        return (agents.map(figures), figures(nil))
    }
}
