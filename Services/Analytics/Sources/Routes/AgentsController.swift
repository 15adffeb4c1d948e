import Foundation
import Hummingbird
import KefuCore
import KefuModels

/// Agent analysis (客服分析, `analytics.agents`): per-agent figures for a period with the totals,
/// online and reception-on durations, the satisfaction distribution and the customer funnel. Each is also CSV
/// (`analytics.export`). The organisation scope limits the agents (a department's supervisor
/// sees its agents).
struct AgentsController {
    let analytics: Analytics

    func addRoutes(to router: Router<KefuRequestContext>) {
        router.get("/v1/analytics/agents", use: figures)
        router.get("/v1/analytics/agents/durations", use: durations)
        router.get("/v1/analytics/agents/satisfaction", use: satisfaction)
        router.get("/v1/analytics/agents/funnel", use: funnel)
    }

    struct Report<Row: Codable & Sendable, Totals: Codable & Sendable>: ResponseEncodable, Sendable {
        let from: Date
        let to: Date
        let timeZone: String
        let data: [Row]
        let totals: Totals?
    }

    struct Asked {
        let principal: Principal
        let format: ReportFormat
        let period: Period
        let agent: UUID?
        let group: UUID?
    }

    func asked(_ request: Request, _ context: KefuRequestContext) async throws -> Asked {
        let principal = try context.requirePermission(.analyticsAgents)
        let format = try ReportFormat(request: request)
        if format == .csv { try context.requirePermission(.analyticsExport) }
        let zone = try await analytics.settings(of: principal.tenantID).timeZone
        return Asked(
            principal: principal, format: format, period: try Period(request: request, timeZone: zone),
            agent: try request.uuidParameter("agent_id"), group: try request.uuidParameter("group_id")
        )
    }

    @Sendable func figures(request: Request, context: KefuRequestContext) async throws -> Response {
        let asked = try await asked(request, context)
        let (rows, totals) = try await analytics.database.withTenant(asked.principal.tenantID) { tx in
            try await tx.agentFigures(asked.period, reach: try await tx.reachableAgents(of: asked.principal), agent: asked.agent, group: asked.group)
        }
        if asked.format == .csv {
            return CSVResponse.table(AgentFigures.csvHeader, rows.map(\.csvRow) + [totals.csvRow], filename: "agents.csv")
        }
        return try Report(from: asked.period.from, to: asked.period.to, timeZone: asked.period.timeZone, data: rows, totals: totals)
            .response(from: request, context: context)
    }

    @Sendable func durations(request: Request, context: KefuRequestContext) async throws -> Response {
        let asked = try await asked(request, context)
        let rows = try await analytics.database.withTenant(asked.principal.tenantID) { tx in
            try await tx.agentDurations(asked.period, reach: try await tx.reachableAgents(of: asked.principal), agent: asked.agent)
        }
        if asked.format == .csv { return CSVResponse.table(AgentDurations.csvHeader, rows.map(\.csvRow), filename: "agent-durations.csv") }
        return try Report<AgentDurations, AgentDurations>(
            from: asked.period.from, to: asked.period.to, timeZone: asked.period.timeZone, data: rows, totals: nil
        ).response(from: request, context: context)
    }

    @Sendable func satisfaction(request: Request, context: KefuRequestContext) async throws -> Response {
        let asked = try await asked(request, context)
        let (rows, totals) = try await analytics.database.withTenant(asked.principal.tenantID) { tx in
            try await tx.satisfaction(asked.period, reach: try await tx.reachableAgents(of: asked.principal), agent: asked.agent)
        }
        if asked.format == .csv {
            return CSVResponse.table(SatisfactionFigures.csvHeader, rows.map(\.csvRow) + [totals.csvRow], filename: "agent-satisfaction.csv")
        }
        return try Report(from: asked.period.from, to: asked.period.to, timeZone: asked.period.timeZone, data: rows, totals: totals)
            .response(from: request, context: context)
    }

    /// The customer funnel (`?by=agent`, the default, or `by=channel`: a row per agent and channel).
    @Sendable func funnel(request: Request, context: KefuRequestContext) async throws -> Response {
        let asked = try await asked(request, context)
        let byChannel: Bool
        switch request.uri.queryParameters["by"].map(String.init) {
        case nil, "agent": byChannel = false
        case "channel": byChannel = true
        default: throw Problem.invalid("by", "must be agent or channel", code: "invalid_choice")
        }
        let (rows, totals) = try await analytics.database.withTenant(asked.principal.tenantID) { tx in
            try await tx.customerFunnel(asked.period, reach: try await tx.reachableAgents(of: asked.principal), agent: asked.agent, byChannel: byChannel)
        }
        if asked.format == .csv {
            return CSVResponse.table(FunnelFigures.csvHeader, rows.flatMap(\.csvRows) + totals.csvRows, filename: "agent-funnel.csv")
        }
        return try Report(from: asked.period.from, to: asked.period.to, timeZone: asked.period.timeZone, data: rows, totals: totals)
            .response(from: request, context: context)
    }
}
