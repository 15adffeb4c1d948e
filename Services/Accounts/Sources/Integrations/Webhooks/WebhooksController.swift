import Foundation
import Hummingbird
import KefuCore
import KefuModels

/// `/v1/webhooks`: subscriptions (endpoint, event types, signing secret, enabled). Delivery
/// (`WebhookDispatcher`) and its log (`WebhookDeliveriesController`) follow these rows.
struct WebhooksController {
    let accounts: Accounts

    func addRoutes(to router: Router<KefuRequestContext>) {
        router.get("/v1/webhook-event-types", use: eventTypes)
        router.get("/v1/webhooks", use: list)
        router.post("/v1/webhooks", use: create)
        router.get("/v1/webhooks/{id}", use: show)
        router.patch("/v1/webhooks/{id}", use: update)
        router.delete("/v1/webhooks/{id}", use: delete)
        router.post("/v1/webhooks/{id}/rotate-secret", use: rotateSecret)
    }

    struct WebhookView: ResponseEncodable, Codable, Sendable {
        @LowercaseUUID var id: UUID
        let url: String
        let eventTypes: [String]
        let enabled: Bool
        let description: String?
        /// Why Kefu disabled it (`gone`: it answered 410; `failing`: every attempt failed for
        /// days); null when enabled or disabled by an admin.
        let disabledReason: String?
        let createdAt: Date
        let updatedAt: Date
        /// `whsec_…`: in the answers to create and rotate-secret only (Standard Webhooks format).
        var secret: String?
    }

    struct EventTypes: ResponseEncodable {
        let data: [String]
    }

    @Sendable func eventTypes(request: Request, context: KefuRequestContext) async throws -> EventTypes {
        try context.requirePermission(.enterpriseWebhooks)
        return EventTypes(data: WebhookEventCatalogue.all)
    }

    struct WebhookRequest: Decodable, Sendable {
        let url: String?
        let eventTypes: [String]?
        let enabled: Bool?
        let description: PatchField<String>

        enum CodingKeys: String, CodingKey { case url, eventTypes, enabled, description }

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            url = try c.decodeIfPresent(String.self, forKey: .url)
            eventTypes = try c.decodeIfPresent([String].self, forKey: .eventTypes)
            enabled = try c.decodeIfPresent(Bool.self, forKey: .enabled)
            description = try c.decodePatch(String.self, forKey: .description)
        }
    }

    func validate(_ body: WebhookRequest, creating: Bool) throws -> (url: String?, description: String?) {
        var v = Validation()
        let url = v.text(body.url, "url", length: 10...2048, optional: !creating)
        if let url { v.url(url, "url") }
        if let types = body.eventTypes {
            v.check(!types.isEmpty, "event_types", "must list at least one event type")
            for (index, type) in types.enumerated() where !WebhookEventCatalogue.all.contains(type) {
                v.add("event_types[\(index)]", "is not an event type of /v1/webhook-event-types", code: "unknown_event_type")
            }
        } else if creating {
            v.add("event_types", "is required", code: "required")
        }
        let description = v.text(body.description.value, "description", length: 1...200, optional: true)
        try v.throwIfInvalid()
        return (url, description)
    }

    /// Standard Webhooks: `whsec_` + base64 of 32 random bytes (the HMAC key is those bytes).
    static func newSecret() -> String { WebhookSecret.generate().text }

    /// Refuses, as a 422 on `url`, an endpoint on a private, loopback or link-local address
    /// (or a name resolving to one) unless the deployment allows them.
    func checkAddress(_ url: String?) async throws {
        guard let url else { return }
        do {
            try await OutboundAddressGuard(allowPrivate: accounts.settings.webhooks.allowPrivateAddresses).check(url)
        } catch let refusal as OutboundAddressGuard.Refusal {
            throw Problem.invalid("url", refusal.description, code: "address_not_allowed")
        }
    }

    @Sendable func create(request: Request, context: KefuRequestContext) async throws -> EditedResponse<WebhookView> {
        let principal = try context.requirePermission(.enterpriseWebhooks)
        let body = try await request.decode(as: WebhookRequest.self, context: context)
        let (url, description) = try validate(body, creating: true)
        try await checkAddress(url)
        let actor = AuditActor(context: context)
        let secret = Self.newSecret()
        let sealed = try accounts.secrets.seal(secret)
        var view = try await accounts.database.withTenant(principal.tenantID) { tx in
            let id = UUID()
            try await tx.query("""
                INSERT INTO accounts.webhooks (tenant_id, id, url, event_types, sealed_secret, enabled, description)
                VALUES (\(tx.tenantID.uuid), \(id), \(url!), \(Array(Set(body.eventTypes!)).sorted()), \(sealed), \(body.enabled ?? true), \(description))
                """)
            let view = try await tx.webhooks(id: id)[0]
            try await tx.publish(WebhookChanged(webhookId: id, action: .created))
            try await tx.audit(actor, action: "webhook.created", targetType: "webhook", targetID: id.uuidString.lowercased(), after: view)
            return view
        }
        view.secret = secret
        return EditedResponse(status: .created, headers: [.kefuSecretOnce: "true"], response: view)
    }

    @Sendable func list(request: Request, context: KefuRequestContext) async throws -> Page<WebhookView> {
        let principal = try context.requirePermission(.enterpriseWebhooks)
        let page = try PageRequest(request: request)
        let after = try page.cursor(as: Date.self) ?? .distantPast
        return try await accounts.database.withTenant(principal.tenantID) { tx in
            try page.page(from: try await tx.webhooks(createdAfter: after, limit: page.limit + 1)) { $0.createdAt }
        }
    }

    @Sendable func show(request: Request, context: KefuRequestContext) async throws -> WebhookView {
        let principal = try context.requirePermission(.enterpriseWebhooks)
        let id = try context.parameters.uuid(what: "webhook")
        return try await accounts.database.withTenant(principal.tenantID) { tx in
            guard let view = try await tx.webhooks(id: id).first else { throw Problem.notFound("webhook") }
            return view
        }
    }

    @Sendable func update(request: Request, context: KefuRequestContext) async throws -> WebhookView {
        let principal = try context.requirePermission(.enterpriseWebhooks)
        let id = try context.parameters.uuid(what: "webhook")
        let body = try await request.decode(as: WebhookRequest.self, context: context)
        let (url, description) = try validate(body, creating: false)
        try await checkAddress(url)
        let actor = AuditActor(context: context)
        return try await accounts.database.withTenant(principal.tenantID) { tx in
            guard let before = try await tx.webhooks(id: id).first else { throw Problem.notFound("webhook") }
            try await tx.query("""
                UPDATE accounts.webhooks SET url = \(url ?? before.url),
                    event_types = \(body.eventTypes.map { Array(Set($0)).sorted() } ?? before.eventTypes),
                    enabled = \(body.enabled ?? before.enabled),
                    description = \(body.description.isPresent ? description : before.description), updated_at = now(),
                    -- Enabling again starts a new run: Kefu's reason and the failure run are over.
                    disabled_reason = CASE WHEN \(body.enabled == true) THEN NULL ELSE disabled_reason END,
                    failing_since = CASE WHEN \(body.enabled == true) THEN NULL ELSE failing_since END
                WHERE id = \(id)
                """)
            let after = try await tx.webhooks(id: id)[0]
            try await tx.publish(WebhookChanged(webhookId: id, action: .updated))
            try await tx.audit(actor, action: "webhook.updated", targetType: "webhook", targetID: id.uuidString.lowercased(), before: before, after: after)
            return after
        }
    }

    @Sendable func delete(request: Request, context: KefuRequestContext) async throws -> HTTPResponse.Status {
        let principal = try context.requirePermission(.enterpriseWebhooks)
        let id = try context.parameters.uuid(what: "webhook")
        let actor = AuditActor(context: context)
        try await accounts.database.withTenant(principal.tenantID) { tx in
            guard let before = try await tx.webhooks(id: id).first else { throw Problem.notFound("webhook") }
            try await tx.query("DELETE FROM accounts.webhooks WHERE id = \(id)")
            try await tx.publish(WebhookChanged(webhookId: id, action: .deleted))
            try await tx.audit(actor, action: "webhook.deleted", targetType: "webhook", targetID: id.uuidString.lowercased(), before: before)
        }
        return .noContent
    }

    @Sendable func rotateSecret(request: Request, context: KefuRequestContext) async throws -> EditedResponse<WebhookView> {
        let principal = try context.requirePermission(.enterpriseWebhooks)
        let id = try context.parameters.uuid(what: "webhook")
        let actor = AuditActor(context: context)
        let secret = Self.newSecret()
        let sealed = try accounts.secrets.seal(secret)
        var view = try await accounts.database.withTenant(principal.tenantID) { tx in
            guard try await tx.webhooks(id: id).first != nil else { throw Problem.notFound("webhook") }
            // The old secret keeps signing beside the new one for 24 hours, so the receiver can
            // switch without refusing deliveries in between.
            try await tx.query("""
                UPDATE accounts.webhooks SET previous_sealed_secret = sealed_secret, previous_secret_until = now() + interval '24 hours',
                    sealed_secret = \(sealed), updated_at = now()
                WHERE id = \(id)
                """)
            try await tx.publish(WebhookChanged(webhookId: id, action: .secretRotated))
            try await tx.audit(actor, action: "webhook.secret_rotated", targetType: "webhook", targetID: id.uuidString.lowercased())
            return try await tx.webhooks(id: id)[0]
        }
        view.secret = secret
        return EditedResponse(status: .ok, headers: [.kefuSecretOnce: "true"], response: view)
    }
}

extension TenantTransaction {
    func webhooks(id: UUID? = nil, createdAfter: Date = .distantPast, limit: Int = 1000) async throws -> [WebhooksController.WebhookView] {
        let rows = try await query("""
            SELECT id, url, event_types, enabled, description, disabled_reason, created_at, updated_at FROM accounts.webhooks
            WHERE (\(id)::uuid IS NULL OR id = \(id)) AND created_at > \(createdAfter)
            ORDER BY created_at LIMIT \(limit)
            """)
        var views: [WebhooksController.WebhookView] = []
        for try await r in rows.decode((UUID, String, [String], Bool, String?, String?, Date, Date).self) {
            views.append(.init(
                id: r.0, url: r.1, eventTypes: r.2, enabled: r.3, description: r.4, disabledReason: r.5, createdAt: r.6, updatedAt: r.7
            ))
        }
        return views
    }
}
