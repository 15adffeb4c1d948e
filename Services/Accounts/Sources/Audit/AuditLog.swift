import Foundation
import KefuCore
import KefuModels

/// Who did something, from where: taken from the request for the audit log.
public struct AuditActor: Sendable {
    public let type: String
    public let id: UUID?
    public let ip: String?
    public let requestID: String?

    public init(context: KefuRequestContext) {
        if let principal = context.principal {
            switch principal.subject {
            case .employee(let id): (type, self.id) = ("employee", id.uuid)
            case .apiKey(let id): (type, self.id) = ("api_key", id.uuid)
            }
        } else if context.isPlatformOperator {
            (type, id) = ("platform", nil)
        } else {
            (type, id) = ("anonymous", nil)
        }
        ip = context.remoteAddress
        requestID = context.requestID
    }
}

extension TenantTransaction {
    /// Appends to the tenant's audit log in this transaction: recorded exactly when the change is.
    /// `before` and `after` are the resource's API views (secrets never included).
    public func audit(
        _ actor: AuditActor, action: String, targetType: String? = nil, targetID: String? = nil,
        before: (some Encodable & Sendable)? = nil as String?, after: (some Encodable & Sendable)? = nil as String?
    ) async throws {
        let encoder = KefuJSON.encoder()
        let beforeJSON = try before.map { String(decoding: try encoder.encode($0), as: UTF8.self) }
        let afterJSON = try after.map { String(decoding: try encoder.encode($0), as: UTF8.self) }
        try await query("""
            INSERT INTO accounts.audit_log (tenant_id, actor_type, actor_id, action, target_type, target_id, before, after, ip, request_id)
            VALUES (\(tenantID.uuid), \(actor.type), \(actor.id), \(action), \(targetType), \(targetID),
                    \(beforeJSON)::jsonb, \(afterJSON)::jsonb, \(actor.ip), \(actor.requestID))
            """)
    }
}
