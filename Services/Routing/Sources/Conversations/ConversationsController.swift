import Foundation
import Hummingbird
import KefuCore
import KefuModels

/// `/v1/conversations…`: the workbench. An agent sees the conversations they hold or held;
/// supervisors (`analytics.monitoring`) see those of the agents their organisation scope reaches.
struct ConversationsController {
    let routing: Routing

    func addRoutes(to router: Router<KefuRequestContext>) {
        router.get("/v1/conversations", use: list)
        router.get("/v1/conversations/{id}", use: show)
        router.get("/v1/conversations/{id}/messages", use: messages)
        router.post("/v1/conversations/{id}/messages", use: send)
        router.post("/v1/conversations/{id}/end", use: end)
        router.post("/v1/conversations/{id}/pick-up", use: pickUp)
    }


    /// Recent contacts: `view=active` (default) what the agent holds now, `view=all` every
    /// conversation they held, `view=waiting` the left messages they may pick up;
    /// `sort=last_message` (default, newest activity first) or `sort=entry` (newest conversation
    /// first).
    @Sendable func list(request: Request, context: KefuRequestContext) async throws -> Page<ConversationView> {
        let (principal, agent) = try AgentsController.employee(context)
        try context.requirePermission(.clientLogin)
        let page = try PageRequest(request: request)
        let view = request.uri.queryParameters["view"].map(String.init) ?? "active"
        guard ["active", "all", "waiting"].contains(view) else { throw Problem.invalid("view", "must be active, all or waiting") }
        let sort = request.uri.queryParameters["sort"].map(String.init) ?? "last_message"
        guard ["last_message", "entry"].contains(sort) else { throw Problem.invalid("sort", "must be last_message or entry") }
        let byEntry = sort == "entry"
        let after = try page.cursor(as: TimeCursor.self)
        let pickable = view == "waiting" ? ConversationPlacer(snapshot: try await routing.reception.snapshot(for: principal.tenantID)).pickUpGroups(of: agent) : []
        let conversations = try await routing.database.withTenant(principal.tenantID) { tx in
            try await tx.conversations(where: """
                (\(view == "all") AND EXISTS (SELECT 1 FROM routing.assignments h WHERE h.tenant_id = c.tenant_id AND h.conversation_id = c.id AND h.agent_id = \(agent))
                 OR \(view == "waiting") AND c.status = ANY(\(ConversationPlacer.waitingStatuses)) AND (c.group_id IS NULL OR c.group_id = ANY(\(pickable)))
                 OR \(view != "waiting") AND c.agent_id = \(agent) AND c.status = 'open')
                AND (\(after?.at)::int8 IS NULL
                     OR ((extract(epoch FROM CASE WHEN \(byEntry) THEN c.created_at ELSE coalesce(c.last_message_at, c.created_at) END) * 1000000)::int8, c.id)
                        < (\(after?.at)::int8, \(after?.id)::uuid))
                """, orderedBy: byEntry ? .entry : .lastMessage, limit: page.limit + 1, withTrace: false)
        }
        return try page.page(from: conversations) { TimeCursor(byEntry ? $0.createdAt : $0.lastMessageAt ?? $0.createdAt, $0.id) }
    }

    /// The conversation if the caller may see it (else 404): they hold or held it, may pick it up
    /// (a left message for their groups), or supervise (monitoring) within their organisation
    /// scope.
    func visible(_ id: UUID, principal: Principal, tx: TenantTransaction, withTrace: Bool = true) async throws -> ConversationView {
        guard let view = try await tx.conversation(id, withTrace: withTrace) else { throw Problem.notFound("conversation") }
        let me = principal.employeeID?.uuid
        if let me, view.agent?.id.uuid == me { return view }
        if let me, ConversationPlacer.waitingStatuses.contains(view.status.rawValue) {
            if view.groupId == nil { return view }
            let snapshot = try await routing.reception.snapshot(for: principal.tenantID)
            if let group = view.groupId, ConversationPlacer(snapshot: snapshot).pickUpGroups(of: me).contains(group) { return view }
        }
        if let me, try await tx.query("""
            SELECT 1 FROM routing.assignments WHERE conversation_id = \(id) AND agent_id = \(me) LIMIT 1
            """).collect().count == 1 { return view }
        if principal.has(.analyticsMonitoring) {
            guard let departments = try await tx.reachableDepartments(of: principal) else { return view }
            if let agent = view.agent?.id.uuid, try await tx.query("""
                SELECT 1 FROM routing.agents WHERE employee_id = \(agent) AND department_id = ANY(\(departments))
                """).collect().count == 1 { return view }
        }
        throw Problem.notFound("conversation")
    }

    @Sendable func show(request: Request, context: KefuRequestContext) async throws -> ConversationView {
        let principal = try context.requirePermission(.clientLogin)
        let id = try context.parameters.uuid(what: "conversation")
        return try await routing.database.withTenant(principal.tenantID) { try await visible(id, principal: principal, tx: $0) }
    }

    @Sendable func messages(request: Request, context: KefuRequestContext) async throws -> MessagePage {
        let principal = try context.requirePermission(.clientLogin)
        let id = try context.parameters.uuid(what: "conversation")
        let (after, limit) = try MessagePage.parse(request)
        return try await routing.database.withTenant(principal.tenantID) { tx in
            _ = try await visible(id, principal: principal, tx: tx, withTrace: false)
            return try await MessagePage.read(id, after: after, limit: limit, in: tx)
        }
    }

    /// Only the agent holding the conversation writes in it.
    func held(_ id: UUID, by agent: UUID, principal: Principal, tx: TenantTransaction) async throws {
        let view = try await visible(id, principal: principal, tx: tx, withTrace: false)
        guard view.status == .open, view.agent?.id.uuid == agent else {
            throw Problem.conflict(code: "not_your_conversation", detail: "Only the agent holding this open conversation can do this.")
        }
    }

    /// A message of the agent's: a `body`, or a quick reply by reference (`quick_reply_id`: an
    /// enterprise one, or the agent's own personal one), sent as its text.
    struct AgentSendRequest: Decodable {
        let clientMessageId: String?
        let body: MessageBody?
        let quickReplyId: UUID?
    }

    @Sendable func send(request: Request, context: KefuRequestContext) async throws -> EditedResponse<MessageView> {
        let (principal, agent) = try AgentsController.employee(context)
        try context.requirePermission(.clientLogin)
        let id = try context.parameters.uuid(what: "conversation")
        let input = try await request.decode(as: AgentSendRequest.self, context: context)
        let body: MessageBody
        switch (input.body, input.quickReplyId) {
        case (let given?, nil):
            body = try given.validated()
        case (nil, let reply?):
            guard let quick = try await routing.reception.quickReply(reply, tenant: principal.tenantID, employee: agent) else {
                throw Problem.invalid("quick_reply_id", "is neither an enterprise quick reply nor one of yours", code: "not_found")
            }
            body = .text(quick.text)
        default:
            throw Problem.invalid("body", "send a body or a quick_reply_id, one of the two", code: input.body == nil ? "required" : "not_allowed")
        }
        let message = NewMessage(sender: .agent, senderID: agent, clientMessageID: try MessagePage.clientID(input.clientMessageId), body: body)
        let (view, created) = try await routing.database.withTenant(principal.tenantID) { tx in
            try await held(id, by: agent, principal: principal, tx: tx)
            return try await tx.append(message, to: id)
        }
        return EditedResponse(status: created ? .created : .ok, response: view)
    }

    @Sendable func end(request: Request, context: KefuRequestContext) async throws -> ConversationView {
        let (principal, agent) = try AgentsController.employee(context)
        try context.requirePermission(.clientLogin)
        let id = try context.parameters.uuid(what: "conversation")
        let snapshot = try await routing.reception.snapshot(for: principal.tenantID)
        return try await routing.database.withTenant(principal.tenantID) { tx in
            try await held(id, by: agent, principal: principal, tx: tx)
            try await ConversationPlacer(snapshot: snapshot).end(id, reason: .agent, by: agent, in: tx)
            return try await visible(id, principal: principal, tx: tx)
        }
    }

    /// Picks up a left message (`view=waiting`): the caller holds it from now on.
    @Sendable func pickUp(request: Request, context: KefuRequestContext) async throws -> ConversationView {
        let (principal, agent) = try AgentsController.employee(context)
        try context.requirePermission(.clientLogin)
        let id = try context.parameters.uuid(what: "conversation")
        let snapshot = try await routing.reception.snapshot(for: principal.tenantID)
        return try await routing.database.withTenant(principal.tenantID) { tx in
            try await ConversationPlacer(snapshot: snapshot).pickUp(id, by: agent, in: tx)
            return try await visible(id, principal: principal, tx: tx)
        }
    }
}
