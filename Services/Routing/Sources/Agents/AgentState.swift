import Foundation
import Hummingbird
import KefuCore
import KefuModels
import PostgresNIO

/// An agent as routing sees them: state, time in it, load.
struct AgentStateView: ResponseEncodable, Codable, Sendable {
    let agentId: EmployeeID
    let displayName: String
    let status: AgentStatus
    let reception: ReceptionSwitch
    let statusSince: Date
    let openConversations: Int
    /// Sent, while they are suspended, to a new customer meant for them (nil: nothing is sent).
    var suspendedReply: String? = nil
    /// The most conversations they take at once (the largest per-agent limit of their groups).
    var limit: Int?

    /// Online, reception on: new customers may be assigned (when under the limit).
    var isAvailable: Bool { status == .online && reception == .on }
}

extension TenantTransaction {
    /// Active agents (all when `ids` is nil), by name; `departments` limits them to those
    /// departments (a "my department" organisation scope).
    func agentStates(ids: [UUID]? = nil, includingInactive: Bool = false, departments: [UUID]? = nil) async throws -> [AgentStateView] {
        let rows = try await query("""
            SELECT employee_id, display_name, status, reception, status_since, open_count, suspended_reply FROM routing.agents
            WHERE (active OR \(includingInactive)) AND (\(ids == nil) OR employee_id = ANY(\(ids ?? [])))
              AND (\(departments == nil) OR department_id = ANY(\(departments ?? [])))
            ORDER BY display_name, employee_id
            """)
        var views: [AgentStateView] = []
        for try await (id, name, status, reception, since, open, reply) in rows.decode((UUID, String, String, String, Date, Int, String?).self) {
            views.append(AgentStateView(
                agentId: EmployeeID(id), displayName: name, status: AgentStatus(rawValue: status) ?? .offline,
                reception: ReceptionSwitch(rawValue: reception) ?? .off, statusSince: since, openConversations: open, suspendedReply: reply
            ))
        }
        return views
    }

    /// Sets what is given; publishes `agent.state_changed` when anything changed. The row is made
    /// if accounts' event has not arrived yet (the display name follows with it).
    @discardableResult
    func setAgentState(_ agent: UUID, status: AgentStatus?, reception: ReceptionSwitch?) async throws -> (before: AgentStateView, after: AgentStateView) {
        try await query("""
            INSERT INTO routing.agents (tenant_id, employee_id, display_name) VALUES (\(tenantID.uuid), \(agent), '')
            ON CONFLICT (tenant_id, employee_id) DO NOTHING
            """)
        try await query("SELECT 1 FROM routing.agents WHERE employee_id = \(agent) FOR UPDATE")
        let before = try await agentStates(ids: [agent], includingInactive: true)[0]
        let (newStatus, newReception) = (status ?? before.status, reception ?? before.reception)
        guard newStatus != before.status || newReception != before.reception else { return (before, before) }
        try await query("""
            UPDATE routing.agents SET status = \(newStatus.rawValue), reception = \(newReception.rawValue), status_since = now()
            WHERE employee_id = \(agent)
            """)
        try await publish(AgentStateChanged(
            agentId: EmployeeID(agent), status: newStatus, reception: newReception, previousStatus: before.status,
            previousReception: before.reception, changedAt: Date()
        ))
        notifyRealtime(.agentState(agent))
        return (before, try await agentStates(ids: [agent], includingInactive: true)[0])
    }

    /// The departments a principal's organisation scope reaches: nil for the whole company, else
    /// their department and every one below it.
    func reachableDepartments(of principal: Principal) async throws -> [UUID]? {
        guard principal.dataScopes.organisation == .myDepartment else { return nil }
        guard let root = principal.departmentID else { return [] }
        return try await query("""
            WITH RECURSIVE tree AS (
                SELECT \(root)::uuid AS id
                UNION SELECT d.id FROM routing.departments d JOIN tree ON d.parent_id = tree.id
            ) SELECT id FROM tree
            """).decode(UUID.self).reduce(into: []) { $0.append($1) }
    }
}
