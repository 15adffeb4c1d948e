import Foundation
import Hummingbird
import KefuCore
import KefuModels

/// A webhook's delivery log and the admin's levers on it: redeliver one message, send a test
/// message, replay a time range (after re-enabling an endpoint, say). All under the webhooks
/// permission; another tenant's webhook or delivery is a 404.
struct WebhookDeliveriesController {
    let accounts: Accounts

    func addRoutes(to router: Router<KefuRequestContext>) {
        router.get("/v1/webhooks/{id}/deliveries", use: list)
        router.get("/v1/webhooks/{id}/deliveries/{delivery_id}", use: show)
        router.post("/v1/webhooks/{id}/deliveries/{delivery_id}/redeliver", use: redeliver)
        router.post("/v1/webhooks/{id}/test", use: test)
        router.post("/v1/webhooks/{id}/replay", use: replay)
    }

    /// At most this many events are scheduled by one replay.
    static let replayLimit = 10_000
    static let testEventType = "webhook.test"

    struct DeliveryView: ResponseEncodable, Codable, Sendable {
        /// Also the `webhook-id` header of every attempt.
        @LowercaseUUID var id: UUID
        @LowercaseUUID var webhookId: UUID
        let eventType: String
        let status: String
        let attemptCount: Int
        let nextAttemptAt: Date?
        let createdAt: Date
        var payload: JSONValue?
        var attempts: [AttemptView]?
    }

    struct AttemptView: Codable, Sendable {
        let attempt: Int
        let attemptedAt: Date
        let statusCode: Int?
        let succeeded: Bool
        let latencyMs: Int
        let error: String?
        let responseExcerpt: String?
    }

    @Sendable func list(request: Request, context: KefuRequestContext) async throws -> Page<DeliveryView> {
        let principal = try context.requirePermission(.enterpriseWebhooks)
        let webhook = try context.parameters.uuid(what: "webhook")
        let page = try PageRequest(request: request)
        let before = try page.cursor(as: Int64.self) ?? .max
        return try await accounts.database.withTenant(principal.tenantID) { tx in
            try await tx.requireWebhook(webhook)
            let rows = try await tx.query("""
                SELECT seq, id, webhook_id, event_type, status, attempt_count, next_attempt_at, created_at
                FROM accounts.webhook_deliveries WHERE webhook_id = \(webhook) AND seq < \(before)
                ORDER BY seq DESC LIMIT \(page.limit + 1)
                """)
            var found: [(Int64, DeliveryView)] = []
            for try await r in rows.decode((Int64, UUID, UUID, String, String, Int, Date?, Date).self) {
                found.append((r.0, DeliveryView(
                    id: r.1, webhookId: r.2, eventType: r.3, status: r.4, attemptCount: r.5, nextAttemptAt: r.6, createdAt: r.7
                )))
            }
            let seqs = Dictionary(uniqueKeysWithValues: found.map { ($0.1.id, $0.0) })
            return try page.page(from: found.map(\.1)) { seqs[$0.id]! }
        }
    }

    @Sendable func show(request: Request, context: KefuRequestContext) async throws -> DeliveryView {
        let principal = try context.requirePermission(.enterpriseWebhooks)
        let webhook = try context.parameters.uuid(what: "webhook")
        let delivery = try context.parameters.uuid("delivery_id", what: "delivery")
        return try await accounts.database.withTenant(principal.tenantID) { tx in
            try await tx.delivery(delivery, of: webhook, withAttempts: true)
        }
    }

    @Sendable func redeliver(request: Request, context: KefuRequestContext) async throws -> EditedResponse<DeliveryView> {
        let principal = try context.requirePermission(.enterpriseWebhooks)
        let webhook = try context.parameters.uuid(what: "webhook")
        let delivery = try context.parameters.uuid("delivery_id", what: "delivery")
        let actor = AuditActor(context: context)
        let view = try await accounts.database.withTenant(principal.tenantID) { tx in
            _ = try await tx.delivery(delivery, of: webhook)
            // The same row, so the same webhook-id and body; the schedule starts again.
            try await tx.query("""
                UPDATE accounts.webhook_deliveries SET status = 'pending', retry_index = 0, next_attempt_at = now()
                WHERE id = \(delivery) AND webhook_id = \(webhook)
                """)
            try await tx.publish(WebhookChanged(webhookId: webhook, action: .deliveryScheduled))
            try await tx.audit(actor, action: "webhook.redelivered", targetType: "webhook_delivery", targetID: delivery.uuidString.lowercased())
            return try await tx.delivery(delivery, of: webhook)
        }
        accounts.webhookDispatcher.wake()
        return EditedResponse(status: .accepted, response: view)
    }

    @Sendable func test(request: Request, context: KefuRequestContext) async throws -> EditedResponse<DeliveryView> {
        let principal = try context.requirePermission(.enterpriseWebhooks)
        let webhook = try context.parameters.uuid(what: "webhook")
        let actor = AuditActor(context: context)
        let view = try await accounts.database.withTenant(principal.tenantID) { tx in
            try await tx.requireWebhook(webhook)
            let id = UUID()
            let body = WebhookBody.make(
                type: Self.testEventType, timestamp: Date(), data: #"{"webhook_id":"\#(webhook.uuidString.lowercased())"}"#
            )
            try await tx.query("""
                INSERT INTO accounts.webhook_deliveries (tenant_id, id, webhook_id, event_type, body, next_attempt_at)
                VALUES (\(tx.tenantID.uuid), \(id), \(webhook), \(Self.testEventType), \(body), now())
                """)
            try await tx.publish(WebhookChanged(webhookId: webhook, action: .deliveryScheduled))
            try await tx.audit(actor, action: "webhook.tested", targetType: "webhook", targetID: webhook.uuidString.lowercased())
            return try await tx.delivery(id, of: webhook)
        }
        accounts.webhookDispatcher.wake()
        return EditedResponse(status: .accepted, response: view)
    }

    struct ReplayRequest: Decodable, Sendable {
        let since: Date
        let until: Date
    }

    struct ReplayResult: ResponseEncodable, Codable, Sendable {
        /// Deliveries created or scheduled again (events the endpoint had not received).
        let scheduled: Int
    }

    /// Delivers again every event of `[since, until)` the endpoint is subscribed to and has not
    /// received: deliveries that failed start again (same webhook-id), events it never got
    /// (it was disabled) get one. Delivered ones are left alone.
    @Sendable func replay(request: Request, context: KefuRequestContext) async throws -> EditedResponse<ReplayResult> {
        let principal = try context.requirePermission(.enterpriseWebhooks)
        let webhook = try context.parameters.uuid(what: "webhook")
        let body = try await request.decode(as: ReplayRequest.self, context: context)
        guard body.since < body.until else { throw Problem.invalid("until", "must be after since", code: "invalid_range") }
        let actor = AuditActor(context: context)
        let scheduled = try await accounts.database.withTenant(principal.tenantID) { tx in
            try await tx.requireWebhook(webhook)
            let types = try await tx.query("SELECT event_types FROM accounts.webhooks WHERE id = \(webhook)")
                .collect().first!.decode([String].self).filter { WebhookFanOut.deliverable.contains($0) }
            let rows = try await tx.query("""
                SELECT id, txid::text, type, payload::text, created_at FROM kefu.events
                WHERE created_at >= \(body.since) AND created_at < \(body.until) AND type = ANY (\(types))
                ORDER BY created_at, id LIMIT \(Self.replayLimit + 1)
                """)
            var events: [StoredEvent] = []
            for try await r in rows.decode((Int64, String, String, String, Date).self) {
                events.append(StoredEvent(
                    position: EventPosition(transactionID: UInt64(r.1) ?? 0, id: r.0), tenantID: tx.tenantID, type: r.2, payload: r.3, createdAt: r.4
                ))
            }
            guard events.count <= Self.replayLimit else {
                throw Problem.invalid("until", "the range holds more than \(Self.replayLimit) events: replay a shorter one", code: "range_too_large")
            }
            var scheduled = 0
            for event in events {
                scheduled += try await tx.replayDelivery(of: event, to: webhook)
            }
            try await tx.publish(WebhookChanged(webhookId: webhook, action: .deliveryScheduled))
            try await tx.audit(
                actor, action: "webhook.replayed", targetType: "webhook", targetID: webhook.uuidString.lowercased(),
                after: ReplayAudit(since: body.since, until: body.until, scheduled: scheduled)
            )
            return scheduled
        }
        accounts.webhookDispatcher.wake()
        return EditedResponse(status: .accepted, response: ReplayResult(scheduled: scheduled))
    }

    struct ReplayAudit: Encodable, Sendable {
        let since: Date
        let until: Date
        let scheduled: Int
    }
}

extension TenantTransaction {
    func requireWebhook(_ id: UUID) async throws {
        guard try await !query("SELECT 1 FROM accounts.webhooks WHERE id = \(id)").collect().isEmpty else {
            throw Problem.notFound("webhook")
        }
    }

    func delivery(_ id: UUID, of webhook: UUID, withAttempts: Bool = false) async throws -> WebhookDeliveriesController.DeliveryView {
        let rows = try await query("""
            SELECT id, webhook_id, event_type, status, attempt_count, next_attempt_at, created_at, body
            FROM accounts.webhook_deliveries WHERE id = \(id) AND webhook_id = \(webhook)
            """)
        var found: WebhooksDeliveryRow?
        for try await r in rows.decode((UUID, UUID, String, String, Int, Date?, Date, String).self) { found = r }
        guard let r = found else { throw Problem.notFound("delivery") }
        var view = WebhookDeliveriesController.DeliveryView(
            id: r.0, webhookId: r.1, eventType: r.2, status: r.3, attemptCount: r.4, nextAttemptAt: r.5, createdAt: r.6,
            payload: JSONValue(json: r.7)
        )
        if withAttempts {
            var attempts: [WebhookDeliveriesController.AttemptView] = []
            let rows = try await query("""
                SELECT attempt, attempted_at, status_code, succeeded, latency_ms, error, response_excerpt
                FROM accounts.webhook_attempts WHERE delivery_id = \(id) ORDER BY attempt
                """)
            for try await a in rows.decode((Int, Date, Int?, Bool, Int, String?, String?).self) {
                attempts.append(.init(
                    attempt: a.0, attemptedAt: a.1, statusCode: a.2, succeeded: a.3, latencyMs: a.4, error: a.5, responseExcerpt: a.6
                ))
            }
            view.attempts = attempts
        }
        return view
    }

    /// A replayed event: a new delivery, or a failed one started again; nothing when delivered
    /// or still pending.
    func replayDelivery(of event: StoredEvent, to webhook: UUID) async throws -> Int {
        let body = WebhookBody.make(type: event.type, timestamp: event.createdAt, data: event.payload)
        let rows = try await query("""
            INSERT INTO accounts.webhook_deliveries AS d (tenant_id, id, webhook_id, event_id, event_type, body, next_attempt_at)
            VALUES (\(tenantID.uuid), gen_random_uuid(), \(webhook), \(event.id), \(event.type), \(body), now())
            ON CONFLICT (tenant_id, webhook_id, event_id) DO UPDATE SET status = 'pending', retry_index = 0, next_attempt_at = now()
            WHERE d.status = 'failed'
            RETURNING 1
            """)
        var count = 0
        for try await _ in rows { count += 1 }
        return count
    }
}

typealias WebhooksDeliveryRow = (UUID, UUID, String, String, Int, Date?, Date, String)
