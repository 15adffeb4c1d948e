import Foundation
import KefuModels

/// Who did something, from where: taken from the request for the audit log.
public struct AuditActor: Sendable {
    public let type: String
    public let id: UUID?
    public let ip: String?
    public let requestID: String?

    public init(type: String, id: UUID?, ip: String?, requestID: String?) {
        self.type = type
        self.id = id
        self.ip = ip
        self.requestID = requestID
    }

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
    /// Publishes an administrative change for the tenant's audit log (accounts records it from
    /// the event), in this transaction. `before` and `after` are API views, secrets never included.
    public func publishAudit(
        _ actor: AuditActor, action: String, targetType: String?, targetID: String?,
        before: (some Encodable & Sendable)? = nil as String?, after: (some Encodable & Sendable)? = nil as String?
    ) async throws {
        let encoder = KefuJSON.encoder()
        try await publish(AuditRecorded(
            actorType: actor.type, actorId: actor.id, ip: actor.ip, requestId: actor.requestID, action: action,
            targetType: targetType, targetId: targetID,
            before: try before.map { String(decoding: try encoder.encode($0), as: UTF8.self) },
            after: try after.map { String(decoding: try encoder.encode($0), as: UTF8.self) }
        ))
    }
}
