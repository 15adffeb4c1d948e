import Foundation
import Hummingbird
import KefuCore
import KefuModels
import PostgresNIO

/// Follow-up records (跟进记录: dated notes with their author) and the trail (客户轨迹: pages,
/// receptions, follow-ups and merges in time order). Reading needs `customers.view`, writing
/// `customers.edit`; both only for customers within the caller's scope.
struct FollowUpsController {
    let database: Database

    func addRoutes(to router: Router<KefuRequestContext>) {
        router.get("/v1/customers/{id}/follow-ups", use: list)
        router.post("/v1/customers/{id}/follow-ups", use: create)
        router.get("/v1/customers/{id}/trail", use: trail)
    }

    struct FollowUpView: ResponseEncodable, Codable, Sendable {
        @LowercaseUUID var id: UUID
        @LowercaseUUID var customerId: UUID
        @LowercaseUUID var authorId: UUID?
        let note: String
        let at: Date
        let createdAt: Date
    }

    struct FollowUpRequest: Decodable, Sendable {
        let note: String?
        let at: Date?
    }

    /// Newest first (by the note's date), keyset-paged.
    @Sendable func list(request: Request, context: KefuRequestContext) async throws -> Page<FollowUpView> {
        let principal = try context.requirePermission(.customersView)
        let id = try context.parameters.uuid(what: "customer")
        let page = try PageRequest(request: request)
        let after = try page.cursor(as: TimeCursor.self)
        let rows = try await database.withTenant(principal.tenantID) { tx in
            _ = try await tx.customer(id, reach: try await tx.reach(of: principal))
            return try await tx.followUps(of: id, after: after, limit: page.limit + 1)
        }
        return try page.page(from: rows) { TimeCursor($0.at, $0.id) }
    }

    @Sendable func create(request: Request, context: KefuRequestContext) async throws -> EditedResponse<FollowUpView> {
        let principal = try context.requirePermission(.customersEdit)
        let id = try context.parameters.uuid(what: "customer")
        let body = try await request.decode(as: FollowUpRequest.self, context: context)
        var v = Validation()
        let note = v.text(body.note, "note", length: 1...2000)
        if let at = body.at { v.check(at <= Date().addingTimeInterval(86_400 * 366), "at", "must be within a year from now", code: "out_of_range") }
        try v.throwIfInvalid()
        let followUp = UUID()
        let view = try await database.withTenant(principal.tenantID) { tx in
            let customer = try await tx.customer(id, reach: try await tx.reach(of: principal))
            guard customer.entered else { throw CustomersController.notEntered }
            let at = body.at ?? Date()
            try await tx.query("""
                INSERT INTO customers.follow_ups (tenant_id, id, customer_id, author_id, note, at)
                VALUES (\(tx.tenantID.uuid), \(followUp), \(id), \(principal.employeeID?.uuid), \(note!), \(at))
                """)
            try await tx.publish(CustomerFollowedUp(customerId: id, followUpId: followUp, authorId: principal.employeeID, at: at))
            return try await tx.followUps(of: id, only: followUp, limit: 1)[0]
        }
        return EditedResponse(status: .created, response: view)
    }

    struct TrailEntry: ResponseEncodable, Codable, Sendable {
        /// `page_viewed`, `menu_clicked`, `conversation`, `follow_up`, `merge`.
        let kind: String
        @LowercaseUUID var id: UUID
        let at: Date
        /// What the entry says, by kind: url/title/referrer; channel_id/key/name; channel/ended_at; note/author_id;
        /// merged_ids/reason.
        let details: [String: JSONValue]
    }

    /// Every interaction, newest first, keyset-paged on (time, id).
    @Sendable func trail(request: Request, context: KefuRequestContext) async throws -> Page<TrailEntry> {
        let principal = try context.requirePermission(.customersView)
        let id = try context.parameters.uuid(what: "customer")
        let page = try PageRequest(request: request)
        let after = try page.cursor(as: TimeCursor.self)
        let entries = try await database.withTenant(principal.tenantID) { tx in
            _ = try await tx.customer(id, reach: try await tx.reach(of: principal))
            let rows = try await tx.query("""
                SELECT kind, id, at, details::text FROM (
                    SELECT 'page_viewed' AS kind, id, viewed_at AS at,
                           jsonb_strip_nulls(jsonb_build_object('url', url, 'title', title, 'referrer', referrer)) AS details
                    FROM customers.page_views WHERE customer_id = \(id)
                    UNION ALL
                    SELECT 'menu_clicked', id, clicked_at,
                           jsonb_strip_nulls(jsonb_build_object('channel_id', channel_id, 'key', key, 'name', name))
                    FROM customers.menu_clicks WHERE customer_id = \(id)
                    UNION ALL
                    SELECT 'conversation', conversation_id, started_at,
                           jsonb_strip_nulls(jsonb_build_object('channel', channel, 'ended_at', ended_at))
                    FROM customers.receptions WHERE customer_id = \(id)
                    UNION ALL
                    SELECT 'follow_up', id, at, jsonb_strip_nulls(jsonb_build_object('note', note, 'author_id', author_id))
                    FROM customers.follow_ups WHERE customer_id = \(id)
                    UNION ALL
                    SELECT 'merge', id, at, jsonb_build_object('merged_ids', merged_ids, 'reason', reason)
                    FROM customers.merges
                    WHERE survivor_id = \(id) OR survivor_id IN (SELECT merged_id FROM customers.merged_ids WHERE survivor_id = \(id))
                ) t
                WHERE \(after?.at)::int8 IS NULL OR (t.at, t.id) < ('epoch'::timestamptz + \(after?.at)::int8 * interval '1 microsecond', \(after?.id)::uuid)
                ORDER BY t.at DESC, t.id DESC LIMIT \(page.limit + 1)
                """)
            var entries: [TrailEntry] = []
            for try await (kind, entry, at, details) in rows.decode((String, UUID, Date, String).self) {
                guard case .object(let object) = JSONValue(json: details) else { continue }
                entries.append(TrailEntry(kind: kind, id: entry, at: at, details: object))
            }
            return entries
        }
        return try page.page(from: entries) { TimeCursor($0.at, $0.id) }
    }
}

extension TenantTransaction {
    func followUps(of customer: UUID, after: TimeCursor? = nil, only: UUID? = nil, limit: Int) async throws -> [FollowUpsController.FollowUpView] {
        let rows = try await query("""
            SELECT id, customer_id, author_id, note, at, created_at FROM customers.follow_ups
            WHERE customer_id = \(customer) AND (\(only)::uuid IS NULL OR id = \(only))
              AND (\(after?.at)::int8 IS NULL OR (at, id) < ('epoch'::timestamptz + \(after?.at)::int8 * interval '1 microsecond', \(after?.id)::uuid))
            ORDER BY at DESC, id DESC LIMIT \(limit)
            """)
        var views: [FollowUpsController.FollowUpView] = []
        for try await r in rows.decode((UUID, UUID, UUID?, String, Date, Date).self) {
            views.append(.init(id: r.0, customerId: r.1, authorId: r.2, note: r.3, at: r.4, createdAt: r.5))
        }
        return views
    }
}
