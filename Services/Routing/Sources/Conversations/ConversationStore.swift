import Foundation
import KefuCore
import KefuModels
import PostgresNIO

/// The writes every conversation path shares, each with its event in the same transaction.
extension TenantTransaction {
    /// Hands `conversation` to `agent` (whose seat the caller already claimed) and records it.
    /// Callers hold seat locks that serialise a group's placements, so this is one statement —
    /// the conversation, its queue wait, its history row and the realtime notice — and the outbox
    /// row: the locks are held for as few round trips as possible.
    func assign(
        _ conversation: UUID, to agent: UUID, group: UUID?, reason: AssignmentReason, previous: UUID?, note: String?, by: UUID?
    ) async throws {
        let notice = RealtimeNotice.conversation(conversation, [.transfer, .forcedTransfer].contains(reason) ? .transferred : .assigned)
        try await query("""
            WITH moved AS (
                UPDATE routing.conversations SET status = 'open', agent_id = \(agent), group_id = coalesce(\(group)::uuid, group_id),
                    assigned_at = now(), queued_at = NULL
                WHERE id = \(conversation) RETURNING id
            ), waited AS (
                DELETE FROM routing.timers WHERE conversation_id = \(conversation) AND kind = 'queue_wait'
            )
            INSERT INTO routing.assignments (tenant_id, conversation_id, agent_id, group_id, reason, previous_agent_id, note, by_employee)
            SELECT \(tenantID.uuid), moved.id, \(agent), \(group), \(reason.rawValue), \(previous), \(note), \(by) FROM moved
            """)
        notifyRealtime(notice)
        try await publish(ConversationAssigned(
            conversationId: ConversationID(conversation), agentId: EmployeeID(agent), groupId: group, reason: reason,
            previousAgentId: previous.map(EmployeeID.init), assignedAt: Date()
        ))
    }

    /// Gives back one of `agent`'s seats (the caller holds their seat locks).
    func releaseSeat(of agent: UUID) async throws {
        try await query("UPDATE routing.agents SET open_count = open_count - 1 WHERE employee_id = \(agent) AND open_count > 0")
    }

    func queueLength(group: UUID) async throws -> Int {
        try await query("SELECT count(*)::int FROM routing.conversations WHERE status = 'queued' AND group_id = \(group)")
            .decode(Int.self).reduce(0, +)
    }

    /// Puts `conversation` in `group`'s queue; returns its position (1 = next).
    func enqueue(_ conversation: UUID, group: UUID, front: Bool) async throws -> Int {
        try await query("""
            UPDATE routing.conversations SET status = 'queued', agent_id = NULL, group_id = \(group),
                queued_at = CASE WHEN \(front) THEN created_at ELSE clock_timestamp() END
            WHERE id = \(conversation)
            """)
        let position = try await queuePosition(conversation) ?? 1
        try await publish(ConversationQueued(conversationId: ConversationID(conversation), groupId: group, position: position, queuedAt: Date()))
        notifyRealtime(.conversation(conversation, .queued))
        return position
    }

    /// 1 for the next in line; nil when not queued.
    func queuePosition(_ conversation: UUID) async throws -> Int? {
        try await query("""
            SELECT (SELECT count(*)::int FROM routing.conversations q
                    WHERE q.status = 'queued' AND q.group_id = c.group_id AND (q.queued_at, q.id) <= (c.queued_at, c.id))
            FROM routing.conversations c WHERE c.id = \(conversation) AND c.status = 'queued'
            """).collect().first.map { try $0.decode(Int.self) }
    }

    func appendTrace(_ conversation: UUID, _ steps: [ConversationPlacer.TraceStep]) async throws {
        let json = String(decoding: try KefuJSON.encoder().encode(steps), as: UTF8.self)
        try await query("UPDATE routing.conversations SET routing_trace = routing_trace || \(json)::jsonb WHERE id = \(conversation)")
    }
}
