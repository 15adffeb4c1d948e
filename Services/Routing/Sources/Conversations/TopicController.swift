import Foundation
import Hummingbird
import KefuCore
import KefuModels

/// `PATCH /v1/conversations/{id}` `{topic, resolved}`: the holding agent classifies the
/// conversation while it is open (DOMAIN.md §3); both are locked once it ends (409
/// `conversation_ended`).
struct TopicController {
    let routing: Routing

    func addRoutes(to router: Router<KefuRequestContext>) {
        router.patch("/v1/conversations/{id}", use: update)
    }

    /// A field left out is kept.
    struct UpdateRequest: Decodable {
        let topic: String?
        let resolved: Bool?
    }

    @Sendable func update(request: Request, context: KefuRequestContext) async throws -> ConversationView {
        let (principal, agent) = try AgentsController.employee(context)
        try context.requirePermission(.clientLogin)
        let id = try context.parameters.uuid(what: "conversation")
        let input = try await request.decode(as: UpdateRequest.self, context: context)
        let snapshot = try await routing.reception.snapshot(for: principal.tenantID)
        let conversations = ConversationsController(routing: routing)
        return try await routing.database.withTenant(principal.tenantID) { tx in
            let view = try await conversations.visible(id, principal: principal, tx: tx, withTrace: false)
            var v = Validation()
            if input.topic == nil, input.resolved == nil { v.add("topic", "send topic, resolved or both", code: "required") }
            // Reception's list is the vocabulary analytics groups by: no free text.
            if let topic = input.topic {
                v.check(snapshot.conversation.topics.contains(topic), "topic", "is not one of reception's conversation topics", code: "not_found")
            }
            try v.throwIfInvalid()
            guard view.status != .ended else { throw ConversationPlacer.ended }
            try await conversations.held(id, by: agent, principal: principal, tx: tx)
            // Conditional on the row as it is now: a concurrent end or transfer wins cleanly.
            let updated = try await tx.query("""
                UPDATE routing.conversations SET topic = coalesce(\(input.topic), topic), resolved = coalesce(\(input.resolved), resolved)
                WHERE id = \(id) AND status = 'open' AND agent_id = \(agent) RETURNING topic, resolved
                """).collect().first.map { try $0.decode((String?, Bool?).self) }
            guard let (topic, resolved) = updated else { throw ConversationPlacer.changed }
            try await tx.publish(ConversationUpdated(
                conversationId: ConversationID(id), topic: topic, resolved: resolved, by: EmployeeID(agent), updatedAt: Date()
            ))
            tx.notifyRealtime(.conversation(id, .updated))
            return try await conversations.visible(id, principal: principal, tx: tx)
        }
    }
}
