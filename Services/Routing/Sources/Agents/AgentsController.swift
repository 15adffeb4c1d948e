import Foundation
import Hummingbird
import KefuCore
import KefuModels

/// `/v1/agents/me/state` (any employee: their own state) and `/v1/agents` (supervisors).
struct AgentsController {
    let routing: Routing

    func addRoutes(to router: Router<KefuRequestContext>) {
        router.get("/v1/agents/me/state", use: myState)
        router.put("/v1/agents/me/state", use: setMyState)
        router.get("/v1/agents", use: list)
    }

    static func employee(_ context: KefuRequestContext) throws -> (Principal, UUID) {
        let principal = try context.requireAuthentication()
        guard let employee = principal.employeeID else {
            throw Problem(.forbidden, code: "employees_only", detail: "Only an employee has a reception state.")
        }
        return (principal, employee.uuid)
    }

    @Sendable func myState(request: Request, context: KefuRequestContext) async throws -> AgentStateView {
        let (principal, employee) = try Self.employee(context)
        let snapshot = try await routing.reception.snapshot(for: principal.tenantID)
        return try await routing.database.withTenant(principal.tenantID) { tx in
            var state = try await tx.agentStates(ids: [employee], includingInactive: true).first ?? AgentStateView(
                agentId: EmployeeID(employee), displayName: "", status: .offline, reception: .on, statusSince: Date(), openConversations: 0
            )
            state.limit = ConversationPlacer(snapshot: snapshot).limit(of: employee)
            return state
        }
    }

    struct StateRequest: Decodable {
        let status: AgentStatus?
        let reception: ReceptionSwitch?
        /// The automatic reply while suspended; "" removes it.
        let suspendedReply: String?

        /// The reply to store (nil: leave it; .some(nil): remove it).
        func reply() throws -> String?? {
            guard let text = suspendedReply?.trimmingCharacters(in: .whitespacesAndNewlines) else { return nil }
            guard text.count <= 500 else { throw Problem.invalid("suspended_reply", "is at most 500 characters") }
            return .some(text.isEmpty ? nil : text)
        }
    }

    /// Becoming available (online with reception on) fills the agent's free seats from their
    /// groups' queues at once, longest waiting first.
    @Sendable func setMyState(request: Request, context: KefuRequestContext) async throws -> AgentStateView {
        let (principal, employee) = try Self.employee(context)
        try context.requirePermission(.clientLogin)
        let body = try await request.decode(as: StateRequest.self, context: context)
        guard body.status != nil || body.reception != nil || body.suspendedReply != nil else {
            throw Problem.validation([FieldError(field: "status", code: "required", message: "send status, reception, suspended_reply or several")])
        }
        let reply = try body.reply()
        let snapshot = try await routing.reception.snapshot(for: principal.tenantID)
        let placer = ConversationPlacer(snapshot: snapshot)
        return try await routing.database.withTenant(principal.tenantID) { tx in
            try await SeatLocks.lock(placer.locks.keys(forAgent: employee), in: tx)
            var (_, after) = try await tx.setAgentState(employee, status: body.status, reception: body.reception)
            if let reply {
                try await tx.query("UPDATE routing.agents SET suspended_reply = \(reply) WHERE employee_id = \(employee)")
                after.suspendedReply = reply
            }
            if after.isAvailable, !(try await placer.fillSeats(of: employee, in: tx)).isEmpty {
                after = try await tx.agentStates(ids: [employee], includingInactive: true)[0]
            }
            after.limit = placer.limit(of: employee)
            return after
        }
    }

    /// Every agent's state, time in it, open conversations and limit (live monitoring).
    @Sendable func list(request: Request, context: KefuRequestContext) async throws -> Page<AgentStateView> {
        let principal = try context.requirePermission(.analyticsMonitoring)
        let snapshot = try await routing.reception.snapshot(for: principal.tenantID)
        let placer = ConversationPlacer(snapshot: snapshot)
        let agents = try await routing.database.withTenant(principal.tenantID) { tx in
            try await tx.agentStates(departments: try await tx.reachableDepartments(of: principal))
        }
        // A tenant's agents fit one page (seats are bounded by the plan).
        return Page(data: agents.map { var agent = $0; agent.limit = placer.limit(of: $0.agentId.uuid); return agent }, nextCursor: nil)
    }
}
