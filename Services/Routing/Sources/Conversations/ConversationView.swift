import Foundation
import Hummingbird
import KefuCore
import KefuModels
import PostgresNIO

/// A conversation as the API shows it. Visitors get it without the routing trace.
struct ConversationView: ResponseEncodable, Codable, Sendable {
    struct Agent: Codable, Sendable {
        let id: EmployeeID
        let displayName: String
    }
    struct Queue: Codable, Sendable {
        let position: Int
        @LowercaseUUID var groupId: UUID
        let queuedAt: Date
    }

    @LowercaseUUID var id: UUID
    let visitorId: VisitorID
    @LowercaseUUID var widgetId: UUID?
    let channel: String
    let status: ConversationStatus
    /// Who holds it while open (and, once ended, who held it last).
    let agent: Agent?
    @LowercaseUUID var groupId: UUID?
    var queue: Queue?
    let lastSeq: Int64
    let lastMessageAt: Date?
    let topic: String?
    let resolved: Bool?
    let endReason: EndReason?
    let createdAt: Date
    let assignedAt: Date?
    let endedAt: Date?
    var routingTrace: [ConversationPlacer.TraceStep]?
    /// The satisfaction survey: when it was asked for and the visitor's answer.
    var rating: ConversationRating? = nil
}

extension TenantTransaction {
    static let conversationColumns = """
        c.id, c.visitor_id, c.widget_id, c.channel, c.status, c.agent_id, a.display_name, c.group_id, c.queued_at,
        c.last_seq, c.last_message_at, c.topic, c.resolved, c.end_reason, c.created_at, c.assigned_at, c.ended_at,
        c.routing_trace::text, c.rating::text
        """

    enum ConversationOrder { case lastMessage, entry }

    /// Conversations matching `filter` (SQL over `c`, the conversation), newest first: by last
    /// activity or by entry (creation).
    func conversations(
        where filter: PostgresQuery, orderedBy order: ConversationOrder = .lastMessage, limit: Int = 1, withTrace: Bool = true
    ) async throws -> [ConversationView] {
        var query = PostgresQuery(unsafeSQL: """
            SELECT \(Self.conversationColumns) FROM routing.conversations c
            LEFT JOIN routing.agents a ON a.tenant_id = c.tenant_id AND a.employee_id = c.agent_id
            WHERE
            """)
        let key = order == .entry ? "c.created_at" : "coalesce(c.last_message_at, c.created_at)"
        query.sql += " " + filter.sql + " ORDER BY \(key) DESC, c.id DESC LIMIT \(limit)"
        query.binds = filter.binds
        var views: [ConversationView] = []
        for try await row in try await self.query(query) {
            var cells = row.makeIterator()
            func next<T: PostgresDecodable>(_: T.Type) throws -> T { try cells.next()!.decode(T.self, context: .default) }
            let id = try next(UUID.self), visitor = try next(UUID.self), widget = try next(UUID?.self), channel = try next(String.self)
            let status = ConversationStatus(rawValue: try next(String.self)) ?? .ended
            let agentID = try next(UUID?.self), agentName = try next(String?.self), group = try next(UUID?.self)
            let queuedAt = try next(Date?.self), lastSeq = try next(Int64.self), lastMessageAt = try next(Date?.self)
            let topic = try next(String?.self), resolved = try next(Bool?.self), endReason = try next(String?.self).flatMap(EndReason.init(rawValue:))
            let createdAt = try next(Date.self), assignedAt = try next(Date?.self), endedAt = try next(Date?.self)
            let trace = try next(String.self), rating = try next(String?.self)
            views.append(ConversationView(
                id: id, visitorId: VisitorID(visitor), widgetId: widget, channel: channel, status: status,
                agent: agentID.map { ConversationView.Agent(id: EmployeeID($0), displayName: agentName ?? "") }, groupId: group,
                queue: nil, lastSeq: lastSeq, lastMessageAt: lastMessageAt, topic: topic, resolved: resolved, endReason: endReason,
                createdAt: createdAt, assignedAt: assignedAt, endedAt: endedAt,
                routingTrace: withTrace ? try KefuJSON.decoder().decode([ConversationPlacer.TraceStep].self, from: Data(trace.utf8)) : nil,
                rating: try rating.map { try KefuJSON.decoder().decode(ConversationRating.self, from: Data($0.utf8)) }
            ))
            if status == .queued, let group, let queuedAt {
                views[views.count - 1].queue = ConversationView.Queue(position: 0, groupId: group, queuedAt: queuedAt)
            }
        }
        for index in views.indices where views[index].queue != nil {
            views[index].queue = ConversationView.Queue(
                position: try await queuePosition(views[index].id) ?? 0, groupId: views[index].queue!.groupId, queuedAt: views[index].queue!.queuedAt
            )
        }
        return views
    }

    func conversation(_ id: UUID, withTrace: Bool = true) async throws -> ConversationView? {
        try await conversations(where: "c.id = \(id)", withTrace: withTrace).first
    }
}
