import Foundation
import KefuCore
import KefuModels
import Logging
import ServiceLifecycle

/// Fires due timers, in every replica. Due timers are found across tenants through the event
/// reader's one door (`routing.due_timers`); each is then claimed inside its tenant with
/// `FOR UPDATE SKIP LOCKED` in the transaction that applies its effect and deletes it — so two
/// replicas never fire one twice, and a crash before the commit leaves it to fire later.
struct TimerWorker: Service {
    let routing: Routing
    let pollInterval: Duration

    var logger: Logger { routing.logger }

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                let fired = await fireDue()
                // Busy: go again at once; idle: wait a poll.
                if fired == 0 { try? await Task.sleep(for: pollInterval) }
            }
        }
    }

    /// Fires what is due now; returns how many were looked at.
    func fireDue() async -> Int {
        do {
            let due = try await routing.resources.eventReader.rows("SELECT tenant_id, id FROM routing.due_timers(100)")
                .map { try $0.decode((UUID, UUID).self) }
            for (tenant, id) in due {
                do {
                    try await fire(id, tenant: TenantID(tenant))
                } catch {
                    // Left in place: it fires again on the next poll.
                    logger.error("timer failed", metadata: ["timer": "\(id)", "error": "\(String(reflecting: error))"])
                }
            }
            return due.count
        } catch {
            logger.warning("looking for due timers failed", metadata: ["error": "\(String(reflecting: error))"])
            return 0
        }
    }

    func fire(_ id: UUID, tenant: TenantID) async throws {
        let snapshot = try await routing.reception.snapshot(for: tenant)
        try await routing.database.withTenant(tenant) { tx in
            let claimed = try await tx.query("""
                SELECT t.kind, t.conversation_id, t.agent_id, t.payload::text, c.status
                FROM routing.timers t LEFT JOIN routing.conversations c ON c.tenant_id = t.tenant_id AND c.id = t.conversation_id
                WHERE t.id = \(id) AND t.due_at <= now() FOR UPDATE OF t SKIP LOCKED
                """).collect().first.map { try $0.decode((String, UUID?, UUID?, String, String?).self) }
            // Another replica holds it, or it was moved or cancelled meanwhile.
            guard let (kind, subject, agent, payload, status) = claimed else { return }
            try await tx.query("DELETE FROM routing.timers WHERE id = \(id)")
            let placer = ConversationPlacer(snapshot: snapshot)
            if kind == "presence_grace", let agent {
                // A socket may have opened on a replica that has not cancelled this yet.
                guard try await tx.liveSockets(of: agent, staleAfter: routing.presence.staleSeconds) == 0 else { return }
                try await SeatLocks.lock(placer.locks.keys(forAgent: agent), in: tx)
                try await tx.setAgentState(agent, status: .offline, reception: nil)
                return
            }
            guard let conversation = subject, let status, status != ConversationStatus.ended.rawValue else { return }
            switch kind {
            case "guide_push":
                let push = try KefuJSON.decoder().decode(GuidePush.self, from: Data(payload.utf8))
                // The timer's id as the client id: applying it twice could not store two messages.
                _ = try await tx.append(NewMessage(
                    sender: .system, senderID: nil, clientMessageID: "timer:\(id.uuidString.lowercased())",
                    body: MessageBody(push.content), automatic: true
                ), to: conversation)
            case "conversation_timeout":
                try await placer.end(conversation, reason: .timeout, by: nil, in: tx)
            case "queue_wait":
                guard status == ConversationStatus.queued.rawValue else { return }
                try await placer.leaveQueueForMessage(conversation, in: tx)
            default:
                logger.error("unknown timer kind", metadata: ["kind": "\(kind)"])
            }
        }
    }
}

extension ConversationPlacer {
    /// The queue's maximum wait passed: the visitor is asked to leave a message instead.
    func leaveQueueForMessage(_ conversation: UUID, in tx: TenantTransaction) async throws {
        let group = try await tx.query("SELECT group_id FROM routing.conversations WHERE id = \(conversation) AND status = 'queued'")
            .collect().first.map { try $0.decode(UUID.self) }
        guard let group else { return }
        try await SeatLocks.lock([group], in: tx)
        try await tx.query("""
            UPDATE routing.conversations SET status = 'awaiting_message', queued_at = NULL WHERE id = \(conversation) AND status = 'queued'
            """)
        try await tx.appendTrace(conversation, [TraceStep(step: "queue", detail: "waited the maximum: asked to leave a message")])
        _ = try await tx.append(NewMessage(
            sender: .system, senderID: nil, clientMessageID: "queue-timeout", body: .text(snapshot.fallback.leaveMessagePrompt), automatic: true
        ), to: conversation)
    }
}
