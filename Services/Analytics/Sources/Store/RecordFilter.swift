import Foundation
import Hummingbird
import KefuCore
import KefuModels
import PostgresNIO

/// What `GET /v1/analytics/conversations` filters by, read and validated from the query.
struct RecordFilter: Sendable {
    var period: Period
    var id: UUID?
    var customerId: UUID?
    var agentId: UUID?
    var groupId: UUID?
    var widgetId: UUID?
    var channel: String?
    var quality: Quality?
    var socialAccountId: String?
    /// Message text (substring, case-insensitive), over the last `searchDays` days.
    var text: String?

    /// Message text is searched over this many days (DOMAIN §5).
    static let searchDays = 90
    /// At most this many conversations match a text search (then the other filters apply).
    static let searchMaxConversations = 10_000
    /// One- and two-character texts (no trigram) are looked for in this many newest messages.
    static let shortSearchRecentMessages = 200_000

    init(request: Request, timeZone: String) throws {
        period = try Period(request: request, timeZone: timeZone)
        id = try request.uuidParameter("id")
        customerId = try request.uuidParameter("customer_id")
        agentId = try request.uuidParameter("agent_id")
        groupId = try request.uuidParameter("group_id")
        widgetId = try request.uuidParameter("widget_id")
        channel = request.stringParameter("channel")
        if let raw = request.stringParameter("quality") {
            guard let quality = Quality(rawValue: raw) else {
                throw Problem.invalid("quality", "must be one of \(Quality.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            self.quality = quality
        }
        socialAccountId = request.stringParameter("social_account_id")
        if let q = request.stringParameter("q") {
            guard q.count <= 100 else { throw Problem.invalid("q", "must be at most 100 characters") }
            text = q
        }
    }
}

extension TenantTransaction {
    /// Records matching `filter` that `reach` reaches (nil: every agent), newest first, after `after`.
    func records(
        _ filter: RecordFilter, definition: HighQualityDefinition, reach: [UUID]?, after: TimeCursor?, limit: Int
    ) async throws -> [ConversationRecord] {
        let hq = Quality.bounds(definition)
        let socialVisitor = filter.socialAccountId.map { UUID(uuidString: $0) ?? UUID.zero }
        let searchSince = max(filter.period.from, Date().addingTimeInterval(-Double(RecordFilter.searchDays) * 86_400))
        return try await query("""
            SELECT \(unescaped: ConversationRecord.columns)
            FROM analytics.conversations c
            CROSS JOIN (SELECT \(hq.minVisitor)::int AS min_visitor, \(hq.minAgent)::int AS min_agent,
                               \(hq.maxFirstMs)::int8 AS max_first_ms, \(hq.minStars)::int AS min_stars) hq
            LEFT JOIN analytics.agents a ON a.tenant_id = c.tenant_id AND a.employee_id = c.agent_id
            LEFT JOIN analytics.customer_visitors cv ON cv.tenant_id = c.tenant_id AND cv.visitor_id = c.visitor_id
            WHERE c.started_at >= \(filter.period.from) AND c.started_at < \(filter.period.to)
              AND (\(filter.id)::uuid IS NULL OR c.id = \(filter.id))
              AND (\(filter.agentId)::uuid IS NULL OR c.agent_ids @> ARRAY[\(filter.agentId)::uuid])
              AND (\(filter.groupId)::uuid IS NULL OR c.group_id = \(filter.groupId))
              AND (\(filter.widgetId)::uuid IS NULL OR c.widget_id = \(filter.widgetId))
              AND (\(filter.channel)::text IS NULL OR c.channel = \(filter.channel))
              AND (\(socialVisitor)::uuid IS NULL OR c.visitor_id = \(socialVisitor))
              AND (\(filter.customerId)::uuid IS NULL OR cv.customer_id = \(filter.customerId))
              AND (\(filter.quality?.rawValue)::text IS NULL OR \(unescaped: Quality.sql) = \(filter.quality?.rawValue))
              AND (\(filter.text)::text IS NULL OR c.id IN (
                    SELECT analytics.search_conversations(\(filter.text)::text, \(searchSince), \(RecordFilter.searchMaxConversations)::int,
                                                          \(RecordFilter.shortSearchRecentMessages)::int)))
              AND (\(reach == nil) OR c.agent_ids && \(reach ?? [])::uuid[])
              AND (\(after?.at)::int8 IS NULL
                   OR (c.started_at, c.id) < ('epoch'::timestamptz + \(after?.at ?? 0) * interval '1 microsecond', \(after?.id ?? UUID.zero)))
            ORDER BY c.started_at DESC, c.id DESC
            LIMIT \(limit)
            """).collect().map(ConversationRecord.decode)
    }

    /// One record, when the tenant has it and `reach` reaches it.
    func record(_ id: UUID, definition: HighQualityDefinition, reach: [UUID]?) async throws -> ConversationRecord? {
        let hq = Quality.bounds(definition)
        return try await query("""
            SELECT \(unescaped: ConversationRecord.columns)
            FROM analytics.conversations c
            CROSS JOIN (SELECT \(hq.minVisitor)::int AS min_visitor, \(hq.minAgent)::int AS min_agent,
                               \(hq.maxFirstMs)::int8 AS max_first_ms, \(hq.minStars)::int AS min_stars) hq
            LEFT JOIN analytics.agents a ON a.tenant_id = c.tenant_id AND a.employee_id = c.agent_id
            LEFT JOIN analytics.customer_visitors cv ON cv.tenant_id = c.tenant_id AND cv.visitor_id = c.visitor_id
            WHERE c.id = \(id) AND c.started_at IS NOT NULL AND (\(reach == nil) OR c.agent_ids && \(reach ?? [])::uuid[])
            """).collect().map(ConversationRecord.decode).first
    }
}

extension UUID {
    /// A placeholder bound where a parameter is unused (its condition is switched off by another).
    static let zero = UUID(uuidString: "00000000-0000-0000-0000-000000000000")!
}
