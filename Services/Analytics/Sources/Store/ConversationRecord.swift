import Foundation
import Hummingbird
import KefuCore
import KefuModels
import PostgresNIO

/// One conversation record (会话记录) as listed and exported.
struct ConversationRecord: ResponseEncodable, Codable, Sendable {
    struct Rating: Codable, Sendable {
        let stars: Int
        let labels: [String]
        let solved: Bool?
    }

    @LowercaseUUID var id: UUID
    /// The agent the conversation is credited to: the first responder, else the last assigned.
    let agentId: EmployeeID?
    let agentName: String?
    /// Every agent assigned to it or replying in it (a transfer before the reply shows both).
    let agentIds: [EmployeeID]
    @LowercaseUUID var customerId: UUID?
    let visitorId: VisitorID?
    /// The visitor's id on the channel it wrote on (the web visitor id for web chat).
    let socialAccountId: String?
    let channel: String?
    @LowercaseUUID var widgetId: UUID?
    @LowercaseUUID var groupId: UUID?
    let startedAt: Date
    let endedAt: Date?
    let endReason: String?
    let quality: String
    let firstResponseSeconds: Double?
    let firstResponseAgentId: EmployeeID?
    let durationSeconds: Double?
    let visitorMessages: Int
    let agentMessages: Int
    let rating: Rating?
    let resolved: Bool?
    let topic: String?

    /// The columns `decode` reads, for `FROM analytics.conversations c` joined with `hq`, the
    /// agents as `a` and the customers' visitors as `cv`.
    static let columns = """
        c.id, c.agent_id, a.display_name, c.agent_ids, cv.customer_id, c.visitor_id, c.channel, c.widget_id, c.group_id,
        c.started_at, c.ended_at, c.end_reason, \(Quality.sql), c.first_response_ms, c.first_response_agent_id,
        extract(epoch FROM c.ended_at - c.started_at)::float8, c.visitor_messages, c.agent_messages,
        c.rating_stars, c.rating_labels, c.rating_solved, c.resolved, c.topic
        """

    static func decode(_ row: PostgresRow) throws -> ConversationRecord {
        var cells = row.makeIterator()
        func next<T: PostgresDecodable>(_: T.Type) throws -> T { try cells.next()!.decode(T.self, context: .default) }
        let id = try next(UUID.self), agent = try next(UUID?.self), name = try next(String?.self), agents = try next([UUID].self)
        let customer = try next(UUID?.self), visitor = try next(UUID?.self), channel = try next(String?.self)
        let widget = try next(UUID?.self), group = try next(UUID?.self), started = try next(Date.self), ended = try next(Date?.self)
        let reason = try next(String?.self), quality = try next(String.self), firstMs = try next(Int64?.self)
        let firstAgent = try next(UUID?.self), duration = try next(Double?.self)
        let visitors = try next(Int.self), humans = try next(Int.self)
        let stars = try next(Int?.self), labels = try next([String].self), solved = try next(Bool?.self)
        let resolved = try next(Bool?.self), topic = try next(String?.self)
        return ConversationRecord(
            id: id, agentId: agent.map(EmployeeID.init), agentName: agent == nil ? nil : (name ?? ""), agentIds: agents.map(EmployeeID.init),
            customerId: customer, visitorId: visitor.map(VisitorID.init), socialAccountId: visitor?.uuidString.lowercased(),
            channel: channel, widgetId: widget, groupId: group, startedAt: started, endedAt: ended, endReason: reason, quality: quality,
            firstResponseSeconds: firstMs.map { Double($0) / 1000 }, firstResponseAgentId: firstAgent.map(EmployeeID.init),
            durationSeconds: duration.map { ($0 * 1000).rounded() / 1000 }, visitorMessages: visitors, agentMessages: humans,
            rating: stars.map { Rating(stars: $0, labels: labels, solved: solved) }, resolved: resolved, topic: topic
        )
    }

    static let csvHeader = [
        "id", "agent_id", "agent_name", "agent_ids", "customer_id", "visitor_id", "social_account_id", "channel", "widget_id", "group_id",
        "started_at", "ended_at", "end_reason", "quality", "first_response_seconds", "first_response_agent_id", "duration_seconds",
        "visitor_messages", "agent_messages", "rating_stars", "rating_labels", "rating_solved", "resolved", "topic",
    ]

    var csvRow: [String] {
        func id(_ uuid: UUID?) -> String { uuid?.uuidString.lowercased() ?? "" }
        func time(_ date: Date?) -> String { date.map(RFC3339.string(from:)) ?? "" }
        return [
            id(self.id), agentId?.description ?? "", agentName ?? "", agentIds.map(\.description).joined(separator: ";"), id(customerId),
            visitorId?.description ?? "", socialAccountId ?? "", channel ?? "", id(widgetId), id(groupId), time(startedAt), time(endedAt),
            endReason ?? "", quality, CSVNumber.text(firstResponseSeconds), firstResponseAgentId?.description ?? "",
            CSVNumber.text(durationSeconds), String(visitorMessages), String(agentMessages), rating.map { String($0.stars) } ?? "",
            rating?.labels.joined(separator: ";") ?? "", rating?.solved.map { $0 ? "true" : "false" } ?? "",
            resolved.map { $0 ? "true" : "false" } ?? "", topic ?? "",
        ]
    }
}

/// Numbers in CSV cells as JSON writes them (`10.5`, `3`), so the two agree cell for cell.
enum CSVNumber {
    static func text(_ value: Double?) -> String {
        guard let value else { return "" }
        return String(decoding: try! KefuJSON.encoder().encode(value), as: UTF8.self)
    }

    static func text(_ value: Int?) -> String { value.map(String.init) ?? "" }
}
