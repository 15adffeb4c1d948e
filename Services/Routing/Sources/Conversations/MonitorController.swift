import Foundation
import Hummingbird
import KefuCore
import KefuModels

/// `GET /v1/monitor/conversations` (live monitoring, `analytics.monitoring`): the ongoing —
/// open and queued — conversations the supervisor's organisation scope reaches, oldest first.
struct MonitorController {
    let routing: Routing

    func addRoutes(to router: Router<KefuRequestContext>) {
        router.get("/v1/monitor/conversations", use: list)
    }

    struct Ongoing: Codable, Sendable {
        @LowercaseUUID var id: UUID
        let visitorId: VisitorID
        let status: ConversationStatus
        let agent: ConversationView.Agent?
        @LowercaseUUID var groupId: UUID?
        let createdAt: Date
        let assignedAt: Date?
        let queuedAt: Date?
        /// Queued: seconds in the queue so far; open: seconds from its start until its current
        /// agent took it.
        let waitedSeconds: Int
        let lastMessageAt: Date?
        let lastSeq: Int64
    }

    @Sendable func list(request: Request, context: KefuRequestContext) async throws -> Page<Ongoing> {
        let principal = try context.requirePermission(.analyticsMonitoring)
        let page = try PageRequest(request: request)
        // By start time, which does not move while paging (last message times do).
        let after = try page.cursor(as: TimeCursor.self)
        let rows: [Ongoing] = try await routing.database.withTenant(principal.tenantID) { tx in
            // A department scope reaches the conversations its agents hold (queued ones have no agent).
            let departments = try await tx.reachableDepartments(of: principal)
            return try await tx.query("""
                SELECT c.id, c.visitor_id, c.status, c.agent_id, a.display_name, c.group_id, c.created_at, c.assigned_at, c.queued_at,
                       greatest(0, extract(epoch FROM CASE WHEN c.status = 'queued' THEN now() - c.queued_at
                                                          ELSE coalesce(c.assigned_at, c.created_at) - c.created_at END))::int,
                       c.last_message_at, c.last_seq
                FROM routing.conversations c
                LEFT JOIN routing.agents a ON a.tenant_id = c.tenant_id AND a.employee_id = c.agent_id
                WHERE c.status IN ('open', 'queued')
                  AND (\(departments == nil) OR a.department_id = ANY(\(departments ?? [])))
                  AND (\(after?.at)::int8 IS NULL OR ((extract(epoch FROM c.created_at) * 1000000)::int8, c.id) > (\(after?.at)::int8, \(after?.id)::uuid))
                ORDER BY c.created_at, c.id LIMIT \(page.limit + 1)
                """).collect().map { row in
                let (id, visitor, status, agent, name, group, created, assigned, queued, waited, last, seq) =
                    try row.decode((UUID, UUID, String, UUID?, String?, UUID?, Date, Date?, Date?, Int, Date?, Int64).self)
                return Ongoing(
                    id: id, visitorId: VisitorID(visitor), status: ConversationStatus(rawValue: status) ?? .open,
                    agent: agent.map { ConversationView.Agent(id: EmployeeID($0), displayName: name ?? "") }, groupId: group,
                    createdAt: created, assignedAt: assigned, queuedAt: queued, waitedSeconds: waited, lastMessageAt: last, lastSeq: seq
                )
            }
        }
        return try page.page(from: rows) { TimeCursor($0.createdAt, $0.id) }
    }
}
