import Foundation
import Hummingbird
import KefuCore
import KefuModels

/// `GET /v1/audit-log`: read-only by design; no route changes or deletes an entry (and the
/// serving role has no UPDATE or DELETE on the table).
struct AuditLogController {
    let accounts: Accounts

    func addRoutes(to router: Router<KefuRequestContext>) {
        router.get("/v1/audit-log", use: list)
    }

    struct Entry: ResponseEncodable, Codable, Sendable {
        let id: Int64
        let at: Date
        let actorType: String
        @LowercaseUUID var actorId: UUID?
        let action: String
        let targetType: String?
        let targetId: String?
        let before: JSONValue?
        let after: JSONValue?
        let ip: String?
        let requestId: String?
    }

    /// Newest first. Filters: action, actor_id, target_type, target_id, from, to (RFC 3339).
    @Sendable func list(request: Request, context: KefuRequestContext) async throws -> Page<Entry> {
        let principal = try context.requirePermission(.enterpriseAuditLog)
        let page = try PageRequest(request: request)
        let before = try page.cursor(as: Int64.self) ?? Int64.max
        let query = request.uri.queryParameters
        var v = Validation()
        let actor = query["actor_id"].map { UUID(uuidString: String($0)) }
        v.check(actor != .some(nil), "actor_id", "must be a UUID")
        func date(_ name: String) -> Date? {
            guard let raw = query[Substring(name)] else { return nil }
            let date = RFC3339.date(from: String(raw))
            v.check(date != nil, name, "must be an RFC 3339 date-time")
            return date
        }
        let (from, to) = (date("from"), date("to"))
        try v.throwIfInvalid()
        let action = query["action"].map(String.init)
        let targetType = query["target_type"].map(String.init)
        let targetID = query["target_id"].map(String.init)
        return try await accounts.database.withTenant(principal.tenantID) { tx in
            let rows = try await tx.query("""
                SELECT id, at, actor_type, actor_id, action, target_type, target_id, before::text, after::text, ip, request_id
                FROM accounts.audit_log
                WHERE id < \(before)
                  AND (\(action)::text IS NULL OR action = \(action)) AND (\(actor ?? nil)::uuid IS NULL OR actor_id = \(actor ?? nil))
                  AND (\(targetType)::text IS NULL OR target_type = \(targetType)) AND (\(targetID)::text IS NULL OR target_id = \(targetID))
                  AND (\(from)::timestamptz IS NULL OR at >= \(from)) AND (\(to)::timestamptz IS NULL OR at < \(to))
                ORDER BY id DESC LIMIT \(page.limit + 1)
                """)
            var entries: [Entry] = []
            for try await r in rows.decode((Int64, Date, String, UUID?, String, String?, String?, String?, String?, String?, String?).self) {
                entries.append(Entry(
                    id: r.0, at: r.1, actorType: r.2, actorId: r.3, action: r.4, targetType: r.5, targetId: r.6,
                    before: r.7.flatMap(JSONValue.init(json:)), after: r.8.flatMap(JSONValue.init(json:)), ip: r.9, requestId: r.10
                ))
            }
            return try page.page(from: entries) { $0.id }
        }
    }
}
