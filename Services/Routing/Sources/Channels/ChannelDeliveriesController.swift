import Foundation
import Hummingbird
import KefuCore
import KefuModels

/// `GET /v1/conversations/{id}/channel-deliveries`: how each outgoing message of a channel
/// conversation went — handed to webhook delivery (partner), sent or failed (WeChat, with its
/// error code and reason: 45015 outside the 48-hour window, 45047 over quota). The workbench
/// shows a failed message as such; `channel.message_failed` announces each failure.
/// Whoever may see the conversation may see this (else 404).
struct ChannelDeliveriesController {
    let routing: Routing

    func addRoutes(to router: Router<KefuRequestContext>) {
        router.get("/v1/conversations/{id}/channel-deliveries", use: list)
    }

    struct Delivery: Codable, Sendable {
        @LowercaseUUID var messageId: UUID
        let channelType: String
        let status: String
        let errorCode: Int?
        let reason: String?
        let updatedAt: Date
    }

    struct Page: ResponseEncodable {
        let data: [Delivery]
    }

    @Sendable func list(request: Request, context: KefuRequestContext) async throws -> Page {
        let principal = try context.requirePermission(.clientLogin)
        let id = try context.parameters.uuid(what: "conversation")
        return try await routing.database.withTenant(principal.tenantID) { tx in
            _ = try await ConversationsController(routing: routing).visible(id, principal: principal, tx: tx, withTrace: false)
            let rows = try await tx.query("""
                SELECT d.message_id, d.channel_type, d.status, d.error_code, d.reason, d.updated_at
                FROM routing.channel_deliveries d JOIN routing.messages m ON m.tenant_id = d.tenant_id AND m.conversation_id = d.conversation_id AND m.id = d.message_id
                WHERE d.conversation_id = \(id) ORDER BY m.seq LIMIT 1000
                """)
            var data: [Delivery] = []
            for try await (message, type, status, code, reason, at) in rows.decode((UUID, String, String, Int?, String?, Date).self) {
                data.append(Delivery(messageId: message, channelType: type, status: status, errorCode: code, reason: reason, updatedAt: at))
            }
            return Page(data: data)
        }
    }
}
