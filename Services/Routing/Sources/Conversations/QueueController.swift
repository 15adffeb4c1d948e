import Foundation
import Hummingbird
import KefuCore
import KefuModels

/// `/v1/queue`: who waits where (queue management or monitoring), and removing a waiting visitor
/// (queue management).
struct QueueController {
    let routing: Routing

    func addRoutes(to router: Router<KefuRequestContext>) {
        router.get("/v1/queue", use: list)
        router.delete("/v1/queue/{conversation_id}", use: remove)
    }

    struct GroupQueue: Codable, Sendable {
        struct Waiting: Codable, Sendable {
            @LowercaseUUID var conversationId: UUID
            let visitorId: VisitorID
            let position: Int
            let queuedAt: Date
            let waitedSeconds: Int
        }
        @LowercaseUUID var groupId: UUID
        let name: String
        let waiting: [Waiting]
    }

    struct Queues: ResponseEncodable {
        let data: [GroupQueue]
    }

    @Sendable func list(request: Request, context: KefuRequestContext) async throws -> Queues {
        let principal = try context.requireAuthentication()
        guard principal.has(.receptionQueue) || principal.has(.analyticsMonitoring) else {
            throw Problem.forbidden(missing: Permission.receptionQueue.rawValue)
        }
        let rows = try await routing.database.withTenant(principal.tenantID) { tx in
            try await tx.query("""
                SELECT group_id, id, visitor_id, queued_at, extract(epoch FROM now() - queued_at)::int,
                       row_number() OVER (PARTITION BY group_id ORDER BY queued_at, id)::int
                FROM routing.conversations WHERE status = 'queued' ORDER BY group_id, queued_at, id
                """).collect().map { try $0.decode((UUID, UUID, UUID, Date, Int, Int).self) }
        }
        let byGroup = Dictionary(grouping: rows, by: \.0)
        // A visitor queued by another replica may wait in a group made a moment ago, which this
        // replica's copy of the configuration does not hold yet: then it reads reception's.
        let snapshot = try await routing.reception.snapshot(for: principal.tenantID) { snapshot in
            byGroup.keys.allSatisfy { group in snapshot.groups.contains { $0.id == group } }
        }
        return Queues(data: snapshot.groups.map { group in
            GroupQueue(groupId: group.id, name: group.document.name, waiting: (byGroup[group.id] ?? []).map {
                GroupQueue.Waiting(conversationId: $0.1, visitorId: VisitorID($0.2), position: $0.5, queuedAt: $0.3, waitedSeconds: $0.4)
            })
        })
    }

    /// Takes a visitor out of the queue: their conversation ends (`dequeued`), positions close up.
    @Sendable func remove(request: Request, context: KefuRequestContext) async throws -> HTTPResponse.Status {
        let principal = try context.requirePermission(.receptionQueue)
        let id = try context.parameters.uuid("conversation_id", what: "conversation")
        let snapshot = try await routing.reception.snapshot(for: principal.tenantID)
        try await routing.database.withTenant(principal.tenantID) { tx in
            let status = try await tx.query("SELECT status FROM routing.conversations WHERE id = \(id)").collect().first.map { try $0.decode(String.self) }
            guard status == ConversationStatus.queued.rawValue else { throw Problem.notFound("queued conversation") }
            try await ConversationPlacer(snapshot: snapshot).end(id, reason: .dequeued, by: principal.employeeID?.uuid, in: tx)
        }
        return .noContent
    }
}
