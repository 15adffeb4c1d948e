import Foundation
import KefuCore
import KefuModels

/// "Leave a message" (引导留言): a conversation no agent could take rests in `awaiting_message`
/// (or `with_bot`) with the group it was meant for. Agents of that group — any agent when it was
/// meant for no group — see it (`GET /v1/conversations?view=waiting`) and one of them picks it
/// up, taking one of their seats.
extension ConversationPlacer {
    static let waitingStatuses: [String] = [ConversationStatus.awaitingMessage.rawValue, ConversationStatus.withBot.rawValue]

    /// The groups whose waiting conversations `agent` may pick up (besides those of no group).
    func pickUpGroups(of agent: UUID) -> [UUID] { locks.groups(of: agent).map(\.id) }

    /// `agent` takes the waiting conversation: under their seat locks (before any row, as every
    /// seat change), the conversation row is locked and re-read, so of two agents picking it up
    /// at once one gets it and the other a 409. The pick-up takes a seat like any assignment:
    /// never past their limit.
    func pickUp(_ conversation: UUID, by agent: UUID, in tx: TenantTransaction) async throws {
        try await SeatLocks.lock(locks.keys(forAgent: agent), in: tx)
        let row = try await tx.query("SELECT status, group_id FROM routing.conversations WHERE id = \(conversation) FOR UPDATE")
            .collect().first.map { try $0.decode((String, UUID?).self) }
        guard let (status, group) = row, group.map(pickUpGroups(of: agent).contains) ?? true else {
            throw Problem.notFound("conversation")
        }
        guard Self.waitingStatuses.contains(status) else {
            throw Problem.conflict(code: "not_waiting", detail: "This conversation is no longer waiting for an agent (it is \(status)).")
        }
        let claimed = try await tx.query("""
            UPDATE routing.agents SET open_count = open_count + 1, last_assigned_at = clock_timestamp()
            WHERE employee_id = \(agent) AND open_count < \(limit(of: agent)) RETURNING 1
            """).collect().count == 1
        guard claimed else {
            throw Problem.conflict(code: "at_limit", detail: "You already hold as many conversations as your limit allows; end one first.")
        }
        try await tx.assign(conversation, to: agent, group: group, reason: .pickedUp, previous: nil, note: nil, by: agent)
        try await tx.appendTrace(conversation, [TraceStep(step: "picked_up", detail: "by agent \(agent.uuidString.lowercased())")])
    }
}
