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
        let now = try await tx.query("SELECT status, agent_id FROM routing.conversations WHERE id = \(conversation) FOR UPDATE")
            .collect().first.map { try $0.decode((String, UUID?).self) }
        guard let now, now.0 != ConversationStatus.ended.rawValue, now.1 == agent else {
            return try await end(conversation, reason: reason, by: by, in: tx)
        }
        // The survey's "agent ends" trigger: the invitation is the conversation's last message.
        if reason == .agent, holder != nil, snapshot.satisfaction.enabled, snapshot.satisfaction.sendWhen.contains(.agentEnds) {
            try await RatingController.invite(conversation, in: tx)
        }
        try await tx.query("""
            UPDATE routing.conversations SET status = 'ended', ended_at = now(), end_reason = \(reason.rawValue), queued_at = NULL
            WHERE id = \(conversation)
            """)
        try await tx.cancelTimers(conversation)
        try await tx.publish(ConversationEnded(
            conversationId: ConversationID(conversation), reason: reason, agentId: agent.map(EmployeeID.init),
            by: by.map(EmployeeID.init), endedAt: Date()
        ))
        tx.notifyRealtime(.conversation(conversation, .ended))
        if let holder {
            try await tx.releaseSeat(of: holder)
            _ = try await fillSeats(of: holder, in: tx)
        }
        return true
    }
}
