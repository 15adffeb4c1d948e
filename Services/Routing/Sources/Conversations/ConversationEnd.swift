import Foundation
import KefuCore
import KefuModels

extension ConversationPlacer {
    /// Ends a live conversation: an open one gives its agent's seat back, which takes the
    /// longest-waiting visitor of their groups at once; a queued one leaves the queue (positions
    /// behind it close up). Returns false when it had already ended.
    @discardableResult
    func end(_ conversation: UUID, reason: EndReason, by: UUID?, in tx: TenantTransaction) async throws -> Bool {
        let current = try await tx.query("SELECT status, agent_id FROM routing.conversations WHERE id = \(conversation)")
            .collect().first.map { try $0.decode((String, UUID?).self) }
        guard let (status, agent) = current, status != ConversationStatus.ended.rawValue else { return false }
        let holder = status == ConversationStatus.open.rawValue ? agent : nil
        if let holder { try await SeatLocks.lock(locks.keys(forAgent: holder), in: tx) }
        // Re-read under the locks: a transfer may have moved it meanwhile.
        let ended = try await tx.query("""
            UPDATE routing.conversations SET status = 'ended', ended_at = now(), end_reason = \(reason.rawValue), queued_at = NULL
            WHERE id = \(conversation) AND status <> 'ended' AND agent_id IS NOT DISTINCT FROM \(agent)
            RETURNING 1
            """).collect().count == 1
        guard ended else { return try await end(conversation, reason: reason, by: by, in: tx) }
        try await tx.publish(ConversationEnded(
            conversationId: ConversationID(conversation), reason: reason, agentId: agent.map(EmployeeID.init),
            by: by.map(EmployeeID.init), endedAt: Date()
        ))
        try await tx.notifyRealtime(.conversation(conversation, .ended))
        if let holder {
            try await tx.releaseSeat(of: holder)
            _ = try await fillSeats(of: holder, in: tx)
        }
        return true
    }
}
