import Foundation
import KefuCore
import KefuModels
import PostgresNIO

/// One stage of the customer funnel in a report row (docs/ANALYTICS.md, "Customer funnel").
struct FunnelStageFigures: Codable, Sendable, Equatable {
    let stage: String
    /// Its place in the tenant's funnel (0 first), as the latest change into it said.
    let position: Int?
    /// Customers whose stage at the end of the period is this one.
    let customers: Int
    /// Customers that reached this stage or a later one by the end of the period.
    let reached: Int?
    /// reached(next stage) / reached(this stage); none for the last stage.
    let conversion: Double?
}

/// The customer funnel of one agent (or one agent and channel, or the totals) for a period.
struct FunnelFigures: Codable, Sendable {
    let agentId: EmployeeID?
    let displayName: String?
    /// Only with `by=channel`: the customers' channel ("" for none).
    let channel: String?
    /// Customers whose stage changed in the period.
    let customers: Int
    /// Of them, the ones that reached the closed stage in the period, and deals / customers.
    let deals: Int
    let dealRate: Double?
    /// From a customer's first stage to its deal, averaged over the deals.
    let averageCloseSeconds: Double?
    let stages: [FunnelStageFigures]

    static let csvHeader = [
        "agent_id", "display_name", "channel", "customers", "deals", "deal_rate", "average_close_seconds", "stage", "position",
        "stage_customers", "reached", "conversion",
    ]

    /// One line per stage (the row's own figures repeated), one line without a stage when none.
    var csvRows: [[String]] {
        let head = [agentId?.description ?? "", displayName ?? "", channel ?? "", String(customers), String(deals), CSVNumber.text(dealRate),
                    CSVNumber.text(averageCloseSeconds)]
        guard !stages.isEmpty else { return [head + ["", "", "", "", ""]] }
        return stages.map { head + [$0.stage, CSVNumber.text($0.position), String($0.customers), CSVNumber.text($0.reached), CSVNumber.text($0.conversion)] }
    }
}

/// One group of the cohort as the query gives it: customers of one owner (and channel) at one
/// stage with one highest position reached.
private struct FunnelCell {
    let owner: UUID
    let channel: String
    let stage: String?
    let position: Int?
    let reached: Int?
    let customers: Int
    let deals: Int
    let closeSeconds: Double
}

extension TenantTransaction {
    /// The funnel for `period`: the customers whose stage changed in it (merged-away and deleted
    /// ones left out), each credited to the owner named by its last change before the period's
    /// end and cut by that change's channel; rows per agent (or agent and channel), agents
    /// limited to `reach`, and the totals over the same customers.
    func customerFunnel(_ period: Period, reach: [UUID]?, agent: UUID?, byChannel: Bool) async throws -> (rows: [FunnelFigures], totals: FunnelFigures) {
        let cells = try await query("""
            WITH cohort AS (
                SELECT DISTINCT s.customer_id FROM analytics.stage_changes s
                WHERE s.changed_at >= \(period.from) AND s.changed_at < \(period.to)
                  AND NOT EXISTS (SELECT 1 FROM analytics.customers_gone g WHERE g.tenant_id = s.tenant_id AND g.customer_id = s.customer_id)
            ), per AS (
                SELECT last.owner_id, coalesce(last.channel, '') AS channel, last.stage_after AS stage, last.position_after AS position,
                       h.reached, h.first_at, h.won_at
                FROM cohort c
                CROSS JOIN LATERAL (
                    SELECT s.owner_id, s.channel, s.stage_after, s.position_after FROM analytics.stage_changes s
                    WHERE s.customer_id = c.customer_id AND s.changed_at < \(period.to) ORDER BY s.changed_at DESC LIMIT 1
                ) last
                CROSS JOIN LATERAL (
                    SELECT max(s.position_after) AS reached, min(s.changed_at) AS first_at,
                           min(s.changed_at) FILTER (WHERE s.won AND s.changed_at >= \(period.from)) AS won_at
                    FROM analytics.stage_changes s WHERE s.customer_id = c.customer_id AND s.changed_at < \(period.to)
                ) h
                WHERE last.owner_id IS NOT NULL
                  AND (\(reach == nil) OR last.owner_id = ANY(\(reach ?? [])::uuid[])) AND (\(agent)::uuid IS NULL OR last.owner_id = \(agent))
            )
            SELECT owner_id, channel, stage, position, reached, count(*)::int, count(won_at)::int,
                   coalesce(sum(extract(epoch FROM won_at - first_at)), 0)::float8
            FROM per GROUP BY owner_id, channel, stage, position, reached
            """).collect().map { row in
            let (owner, channel, stage, position, reached, customers, deals, close) =
                try row.decode((UUID, String, String?, Int?, Int?, Int, Int, Double).self)
            return FunnelCell(owner: owner, channel: channel, stage: stage, position: position, reached: reached, customers: customers,
                              deals: deals, closeSeconds: close)
        }
        var names: [UUID: String] = [:]
        let agents = try await query("""
            SELECT employee_id, display_name FROM analytics.agents WHERE employee_id = ANY(\(Array(Set(cells.map(\.owner))))::uuid[])
            """)
        for try await (id, name) in agents.decode((UUID, String).self) { names[id] = name }
        // Every row lists the same stages: those any customer of the report is at or reached, in funnel order.
        var positions: [String: Int?] = [:]
        for cell in cells {
            guard let stage = cell.stage else { continue }
            positions[stage] = [positions[stage] ?? nil, cell.position].compactMap { $0 }.max()
        }
        let stages = positions.sorted { ($0.value ?? .max, $0.key) < ($1.value ?? .max, $1.key) }.map { ($0.key, $0.value) }

        func figures(_ cells: [FunnelCell], agent: UUID?, channel: String?) -> FunnelFigures {
            let customers = cells.reduce(0) { $0 + $1.customers }, deals = cells.reduce(0) { $0 + $1.deals }
            let close = cells.reduce(0.0) { $0 + $1.closeSeconds }
            func reached(_ position: Int?) -> Int? {
                position.map { p in cells.filter { ($0.reached ?? -1) >= p }.reduce(0) { $0 + $1.customers } }
            }
            let listed = stages.enumerated().map { index, stage in
                let next = stages.dropFirst(index + 1).first { $0.1 != nil }?.1
                let here = reached(stage.1)
                return FunnelStageFigures(
                    stage: stage.0, position: stage.1, customers: cells.filter { $0.stage == stage.0 }.reduce(0) { $0 + $1.customers },
                    reached: here, conversion: next.flatMap { n in here.flatMap { Ratio.of(reached(n) ?? 0, $0) } }
                )
            }
            return FunnelFigures(
                agentId: agent.map(EmployeeID.init), displayName: agent.map { names[$0] ?? "" }, channel: channel, customers: customers,
                deals: deals, dealRate: Ratio.of(deals, customers), averageCloseSeconds: deals == 0 ? nil : (close / Double(deals) * 1000).rounded() / 1000,
                stages: listed
            )
        }
        struct Key: Hashable { let owner: UUID; let channel: String? }
        let groups = Dictionary(grouping: cells) { Key(owner: $0.owner, channel: byChannel ? $0.channel : nil) }
        let rows = groups.map { figures($0.value, agent: $0.key.owner, channel: $0.key.channel) }
            .sorted { ($1.customers, $0.agentId?.description ?? "", $0.channel ?? "") < ($0.customers, $1.agentId?.description ?? "", $1.channel ?? "") }
        return (rows, figures(cells, agent: nil, channel: nil))
    }
}
