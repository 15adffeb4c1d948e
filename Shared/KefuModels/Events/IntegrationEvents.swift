import Foundation

// Integration changes in accounts. Every write publishes (so `Idempotency-Key` covers it and
// caches can follow it); webhook delivery will follow `webhook.changed` for its subscriptions.

public struct ApiKeyCreated: KefuEvent {
    public static let eventType = "api_key.created"
    public let apiKeyId: ApiKeyID
    public let name: String
    public let permissions: [String]
    public let createdBy: EmployeeID
    public let expiresAt: Date?
    public init(apiKeyId: ApiKeyID, name: String, permissions: [String], createdBy: EmployeeID, expiresAt: Date?) {
        self.apiKeyId = apiKeyId
        self.name = name
        self.permissions = permissions
        self.createdBy = createdBy
        self.expiresAt = expiresAt
    }
}

/// A webhook subscription was created, updated, deleted or had its secret rotated, or an admin
/// scheduled deliveries to it (a test message, a redelivery, a replay).
public struct WebhookChanged: KefuEvent {
    public static let eventType = "webhook.changed"
    public enum Action: String, Codable, Sendable { case created, updated, deleted, secretRotated = "secret_rotated", deliveryScheduled = "delivery_scheduled" }
    @LowercaseUUID public var webhookId: UUID
    public let action: Action
    public init(webhookId: UUID, action: Action) {
        self.webhookId = webhookId
        self.action = action
    }
}

/// Kefu disabled a webhook endpoint: it answered 410 Gone (`gone`), or every attempt failed for
/// the configured period (`failing`, 5 days by default).
public struct WebhookDisabled: KefuEvent {
    public static let eventType = "webhook.disabled"
    @LowercaseUUID public var webhookId: UUID
    public let reason: String
    public init(webhookId: UUID, reason: String) {
        self.webhookId = webhookId
        self.reason = reason
    }
}
