import Foundation
import KefuCore
import KefuModels

/// Records other services' administrative changes (`audit.recorded`) in the tenant's audit log,
/// so admins read one log whatever service they changed. Durable: nothing is missed while
/// accounts is down.
struct AuditFeed {
    let database: Database

    static let eventTypes: Set<String> = [AuditRecorded.eventType]

    func handle(_ event: StoredEvent) async throws {
        let record = try event.decode(AuditRecorded.self)
        try await database.withTenant(event.tenantID) { tx in
            try await tx.insertAudit(
                AuditActor(type: record.actorType, id: record.actorId, ip: record.ip, requestID: record.requestId),
                action: record.action, targetType: record.targetType, targetID: record.targetId,
                beforeJSON: record.before, afterJSON: record.after, sourceEvent: event.id
            )
        }
    }
}
