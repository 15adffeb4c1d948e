import Foundation
import Hummingbird
import KefuCore
import KefuModels

/// Moving a conversation: the holding agent transfers it (`…/transfer`); a supervisor
/// (`analytics.forced_transfer`) forces a transfer of any live conversation in their organisation
/// scope (`…/forced-transfer`) or interrupts it (`…/interrupt`, ends it with reason
/// `interrupted`).
struct TransferController {
    let routing: Routing

    func addRoutes(to router: Router<KefuRequestContext>) {
        router.post("/v1/conversations/{id}/transfer", use: transfer)
        router.post("/v1/conversations/{id}/forced-transfer", use: forcedTransfer)
        router.post("/v1/conversations/{id}/interrupt", use: interrupt)
    }

    struct TransferRequest: Decodable {
        let toAgentId: UUID?
        let toGroupId: UUID?
        let note: String?
        /// Forced only: the agent the supervisor saw holding it (else: whoever held it when the
        /// request was read). Another holder under the lock is 409 `conversation_changed`.
        let expectedAgentId: UUID?
        /// Forced only: a target agent at their limit takes it anyway.
        let overLimit: Bool?

        /// The configuration, fresh from reception when this process's copy lacks the target
        /// group (one created a moment ago, its event not here yet).
        func snapshot(_ routing: Routing, _ tenant: TenantID) async throws -> ReceptionSnapshot {
            try await routing.reception.snapshot(for: tenant) { snapshot in
                toGroupId.map { group in snapshot.groups.contains { $0.id == group } } ?? true
            }
        }
    }

    struct InterruptRequest: Decodable {
        let note: String?
    }

    /// Exactly one of the targets, a note of at most 500 characters, the target known (422 naming
    /// the field otherwise). A target agent must be an active agent the caller's scope reaches.
    func target(
        of input: TransferRequest, snapshot: ReceptionSnapshot, principal: Principal, tx: TenantTransaction
    ) async throws -> (ConversationPlacer.TransferTarget, String?) {
        var v = Validation()
        let note = v.text(input.note, "note", length: 1...500, optional: true)
        v.check(input.toAgentId == nil || input.toGroupId == nil, "to_group_id", "send to_agent_id or to_group_id, not both")
        if input.toAgentId == nil, input.toGroupId == nil { v.add("to_agent_id", "send to_agent_id or to_group_id", code: "required") }
        try v.throwIfInvalid()
        if let group = input.toGroupId {
            guard snapshot.groups.contains(where: { $0.id == group }) else { throw Problem.invalid("to_group_id", "does not exist", code: "not_found") }
            return (.group(group), note)
        }
        let agent = input.toAgentId!
        let departments = try await tx.reachableDepartments(of: principal)
        guard try await tx.query("""
            SELECT 1 FROM routing.agents
            WHERE employee_id = \(agent) AND active AND (\(departments == nil) OR department_id = ANY(\(departments ?? [])))
            """).collect().count == 1
        else { throw Problem.invalid("to_agent_id", "does not exist", code: "not_found") }
        return (.agent(agent), note)
    }

    /// The holder hands it on (reason `transfer`); a full target agent is 409 `agent_unavailable`.
    @Sendable func transfer(request: Request, context: KefuRequestContext) async throws -> ConversationView {
        let (principal, agent) = try AgentsController.employee(context)
        try context.requirePermission(.clientLogin)
        let id = try context.parameters.uuid(what: "conversation")
        let input = try await request.decode(as: TransferRequest.self, context: context)
        let snapshot = try await input.snapshot(routing, principal.tenantID)
        let conversations = ConversationsController(routing: routing)
        return try await routing.database.withTenant(principal.tenantID) { tx in
            try await conversations.held(id, by: agent, principal: principal, tx: tx)
            let (target, note) = try await self.target(of: input, snapshot: snapshot, principal: principal, tx: tx)
            _ = try await ConversationPlacer(snapshot: snapshot).transfer(.init(
                conversation: id, target: target, note: note, by: agent, forced: false, overLimit: false, expectedHolder: agent
            ), in: tx)
            return try await conversations.visible(id, principal: principal, tx: tx)
        }
    }

    /// A supervisor moves any live conversation of their scope (reason `forced_transfer`).
    @Sendable func forcedTransfer(request: Request, context: KefuRequestContext) async throws -> ConversationView {
        let principal = try context.requirePermission(.analyticsForcedTransfer)
        guard let supervisor = principal.employeeID?.uuid else {
            throw Problem(.forbidden, code: "employees_only", detail: "Only an employee transfers conversations.")
        }
        let id = try context.parameters.uuid(what: "conversation")
        let input = try await request.decode(as: TransferRequest.self, context: context)
        let snapshot = try await input.snapshot(routing, principal.tenantID)
        return try await routing.database.withTenant(principal.tenantID) { tx in
            let view = try await Self.supervised(id, principal: principal, tx: tx)
            let (target, note) = try await self.target(of: input, snapshot: snapshot, principal: principal, tx: tx)
            let holder = view.status == .open ? view.agent?.id.uuid : nil
            _ = try await ConversationPlacer(snapshot: snapshot).transfer(.init(
                conversation: id, target: target, note: note, by: supervisor, forced: true, overLimit: input.overLimit ?? false,
                expectedHolder: input.expectedAgentId ?? holder
            ), in: tx)
            return try await tx.conversation(id)!
        }
    }

    /// Ends a live conversation of the supervisor's scope (reason `interrupted`); the note goes to
    /// the routing trace (the visitor never reads it).
    @Sendable func interrupt(request: Request, context: KefuRequestContext) async throws -> ConversationView {
        let principal = try context.requirePermission(.analyticsForcedTransfer)
        let id = try context.parameters.uuid(what: "conversation")
        let input = try await request.decode(as: InterruptRequest.self, context: context)
        var v = Validation()
        let note = v.text(input.note, "note", length: 1...500, optional: true)
        try v.throwIfInvalid()
        let snapshot = try await routing.reception.snapshot(for: principal.tenantID)
        let by = principal.employeeID?.uuid
        return try await routing.database.withTenant(principal.tenantID) { tx in
            _ = try await Self.supervised(id, principal: principal, tx: tx)
            guard try await ConversationPlacer(snapshot: snapshot).end(id, reason: .interrupted, by: by, in: tx) else {
                throw ConversationPlacer.ended
            }
            try await tx.appendTrace(id, [.init(
                step: "interrupted", detail: "by \(by.map { $0.uuidString.lowercased() } ?? "an API key")" + (note.map { ": \($0)" } ?? "")
            )])
            return try await tx.conversation(id)!
        }
    }

    /// A conversation a supervisor's organisation scope reaches (else 404): the whole company, or
    /// one held (or last held) by an agent of their department or below. Waiting conversations
    /// belong to no department, so only a whole-company scope reaches them.
    static func supervised(_ id: UUID, principal: Principal, tx: TenantTransaction) async throws -> ConversationView {
        guard let view = try await tx.conversation(id) else { throw Problem.notFound("conversation") }
        guard let departments = try await tx.reachableDepartments(of: principal) else { return view }
        guard let agent = view.agent?.id.uuid, try await tx.query("""
            SELECT 1 FROM routing.agents WHERE employee_id = \(agent) AND department_id = ANY(\(departments))
            """).collect().count == 1
        else { throw Problem.notFound("conversation") }
        return view
    }
}
