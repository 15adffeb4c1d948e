import Foundation
import KefuCore
import KefuModels

extension TenantTransaction {
    /// Opens a new conversation for a visitor and places it: the one way every arrival starts one
    /// (a web visitor through a widget, a channel user through their channel). Writes the row
    /// (a visitor's second live conversation is refused by the unique index: 409), publishes
    /// `conversation.created`, schedules the timeout and the guide pushes, places it and writes
    /// the trace. The caller has checked that the visitor has no live conversation.
    func openConversation(
        visitor: VisitorID, start: ConversationStart, arrival: ConversationStart.Visitor, choice: UUID?, channelID: UUID? = nil
    ) async throws -> ConversationView {
        let snapshot = start.snapshot
        let (targets, initialTrace) = try start.targets(for: arrival, choice: choice)
        var trace = initialTrace
        let id = UUID()
        try await rejectingDuplicates(as: Problem.conflict(code: "conversation_exists", detail: "This visitor's conversation was just started; fetch it.")) {
            try await query("""
                INSERT INTO routing.conversations (tenant_id, id, visitor_id, widget_id, channel, channel_id, status)
                VALUES (\(tenantID.uuid), \(id), \(visitor.uuid), \(start.widget?.id), \(start.channel), \(channelID), 'awaiting_message')
                """)
        }
        try await publish(ConversationCreated(
            conversationId: ConversationID(id), visitorId: visitor, widgetId: start.widget?.id, channel: start.channel, createdAt: Date()
        ))
        try await scheduleTimeout(id, seconds: snapshot.conversation.timeoutMinutes * 60)
        // Guide pushes go out on their own schedule; they do not hold up the assignment.
        if let rule = start.guideRule(for: arrival) {
            try await scheduleGuidePushes(id, rule: rule)
            trace.append(.init(step: "guide_rule", detail: "rule \(rule.id.uuidString.lowercased()) (\(rule.document.name)): \(rule.document.messages.count) pushes"))
        }
        let placer = ConversationPlacer(snapshot: snapshot)
        _ = try await placer.place(id, targets: targets, fallback: start.fallback, trace: &trace, in: self)
        try await appendTrace(id, trace)
        return try await conversation(id, withTrace: false)!
    }
}
