import Foundation
import KefuCore
import KefuModels

/// Scheduling durable timers (`routing.timers`): each is written in the transaction of the change
/// that calls for it, so a timer exists exactly when its cause committed.
extension TenantTransaction {
    /// A guide rule's messages, each `interval` seconds after the previous (or the visitor's arrival).
    func scheduleGuidePushes(_ conversation: UUID, rule: ConfigItem<GuideRule>, from start: Date = Date()) async throws {
        var due = start
        for (index, message) in rule.document.messages.enumerated() {
            due = due.addingTimeInterval(TimeInterval(message.intervalSeconds))
            let payload = String(decoding: try KefuJSON.encoder().encode(GuidePush(ruleId: rule.id, index: index, content: message.content)), as: UTF8.self)
            try await query("""
                INSERT INTO routing.timers (tenant_id, id, kind, conversation_id, due_at, payload)
                VALUES (\(tenantID.uuid), \(UUID()), 'guide_push', \(conversation), \(due), \(payload)::jsonb)
                """)
        }
    }

    /// Ends the conversation after `seconds` without messages; each message pushes it back
    /// (in the statement that stores it, `append`).
    func scheduleTimeout(_ conversation: UUID, seconds: Int) async throws {
        try await query("""
            INSERT INTO routing.timers (tenant_id, id, kind, conversation_id, due_at, payload)
            VALUES (\(tenantID.uuid), \(UUID()), 'conversation_timeout', \(conversation), now() + make_interval(secs => \(seconds)),
                    jsonb_build_object('seconds', \(seconds)::int))
            ON CONFLICT (tenant_id, conversation_id, kind) WHERE kind <> 'guide_push'
            DO UPDATE SET due_at = excluded.due_at, payload = excluded.payload
            """)
    }

    /// A queued visitor waits at most `seconds`, then is asked to leave a message.
    func scheduleQueueWait(_ conversation: UUID, seconds: Int) async throws {
        try await query("""
            INSERT INTO routing.timers (tenant_id, id, kind, conversation_id, due_at)
            VALUES (\(tenantID.uuid), \(UUID()), 'queue_wait', \(conversation), now() + make_interval(secs => \(seconds)))
            ON CONFLICT (tenant_id, conversation_id, kind) WHERE kind <> 'guide_push' DO UPDATE SET due_at = excluded.due_at
            """)
    }

    /// An ended conversation has nothing left to time.
    func cancelTimers(_ conversation: UUID) async throws {
        try await query("DELETE FROM routing.timers WHERE conversation_id = \(conversation)")
    }
}

/// What a guide-push timer sends.
struct GuidePush: Codable, Sendable {
    @LowercaseUUID var ruleId: UUID
    let index: Int
    let content: MessageContent
}

extension MessageBody {
    /// Reception's push content as a conversation message.
    init(_ content: MessageContent) {
        switch content.type {
        case .text: self.init(type: .text, text: content.text)
        case .image: self.init(type: .image, url: content.imageUrl)
        case .material: self.init(type: .rich, materialId: content.materialId)
        case .rich: self.init(type: .rich, articles: content.articles)
        }
    }
}
