import Foundation
import KefuCore
import KefuModels

extension TenantTransaction {
    /// Appends to the tenant's audit log in this transaction: recorded exactly when the change is.
    /// `before` and `after` are the resource's API views (secrets never included).
    public func audit(
        _ actor: AuditActor, action: String, targetType: String? = nil, targetID: String? = nil,
        before: (some Encodable & Sendable)? = nil as String?, after: (some Encodable & Sendable)? = nil as String?
    ) async throws {
        let encoder = KefuJSON.encoder()
        try await insertAudit(
            actor, action: action, targetType: targetType, targetID: targetID,
            beforeJSON: try before.map { String(decoding: try encoder.encode($0), as: UTF8.self) },
            afterJSON: try after.map { String(decoding: try encoder.encode($0), as: UTF8.self) }
        )
    }

    /// The one INSERT into the audit log. `sourceEvent` is the outbox id of an `audit.recorded`
    /// event from another service: recording it twice (at-least-once delivery) keeps one row.
    /// Target ids are cut at 128 characters: some come from anonymous callers.
    func insertAudit(
        _ actor: AuditActor, action: String, targetType: String?, targetID: String?,
        beforeJSON: String?, afterJSON: String?, sourceEvent: Int64? = nil
    ) async throws {
        let targetID = targetID.map { String($0.prefix(128)) }
        try await query("""
            INSERT INTO accounts.audit_log (tenant_id, actor_type, actor_id, action, target_type, target_id, before, after, ip, request_id, source_event)
            VALUES (\(tenantID.uuid), \(actor.type), \(actor.id), \(action), \(targetType), \(targetID),
                    \(beforeJSON)::jsonb, \(afterJSON)::jsonb, \(actor.ip), \(actor.requestID), \(sourceEvent))
            ON CONFLICT (tenant_id, source_event) WHERE source_event IS NOT NULL DO NOTHING
            """)
    }
}
