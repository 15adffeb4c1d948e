import Foundation
import KefuCore
import KefuModels

/// A delivery a dispatcher holds the lease of, with what it needs to send it.
struct ClaimedDelivery: Sendable {
    let id: UUID
    let webhookID: UUID
    let leaseToken: UUID
    let body: String
    let attempt: Int
    let retryIndex: Int
    let url: String
    let sealedSecret: String
    /// The secret before the last rotation, while it still signs (24 hours).
    let previousSealedSecret: String?
    /// The database's clock, so that every replica stamps attempts alike.
    let now: Date
}

/// The delivery rows' SQL: creating, claiming and recording (the dispatcher's and the routes').
extension TenantTransaction {
    /// One delivery per enabled endpoint subscribed to each event's type, created after the
    /// endpoint was (a new endpoint is not sent the past). Idempotent per event and endpoint.
    /// One statement for the whole batch (the events as arrays).
    @discardableResult
    func createDeliveries(for events: [StoredEvent]) async throws -> Int {
        guard !events.isEmpty else { return 0 }
        let bodies = events.map { WebhookBody.make(type: $0.type, timestamp: $0.createdAt, data: $0.payload) }
        let rows = try await query("""
            INSERT INTO accounts.webhook_deliveries (tenant_id, id, webhook_id, event_id, event_type, body, next_attempt_at)
            SELECT w.tenant_id, gen_random_uuid(), w.id, e.id, e.type, e.body, now()
            FROM unnest(\(events.map(\.id))::bigint[], \(events.map(\.type))::text[], \(bodies)::text[], \(events.map(\.createdAt))::timestamptz[])
                AS e (id, type, body, created_at)
            JOIN accounts.webhooks w ON w.enabled AND e.type = ANY (w.event_types) AND w.created_at <= e.created_at
            ORDER BY e.id
            ON CONFLICT (tenant_id, webhook_id, event_id) DO NOTHING
            RETURNING 1
            """)
        var count = 0
        for try await _ in rows { count += 1 }
        return count
    }

    /// Takes the lease of a due delivery of an enabled endpoint; nil when another dispatcher
    /// has it, it is no longer due, or its endpoint was disabled. The conditional UPDATE is the
    /// claim: of two dispatchers, the second re-reads the row after the first commits and
    /// finds it leased.
    func claimDelivery(_ id: UUID, lease: TimeInterval) async throws -> ClaimedDelivery? {
        let token = UUID()
        try await commitWithoutWaitingForTheDisk()
        let rows = try await query("""
            UPDATE accounts.webhook_deliveries d SET lease_until = now() + make_interval(secs => \(lease)), lease_token = \(token)
            FROM accounts.webhooks w
            WHERE d.id = \(id) AND w.tenant_id = d.tenant_id AND w.id = d.webhook_id AND w.enabled
              AND d.next_attempt_at <= now() AND (d.lease_until IS NULL OR d.lease_until < now())
            RETURNING d.webhook_id, d.body, d.attempt_count + 1, d.retry_index, w.url, w.sealed_secret,
                      CASE WHEN w.previous_secret_until > now() THEN w.previous_sealed_secret END, now()
            """)
        for try await r in rows.decode((UUID, String, Int, Int, String, String, String?, Date).self) {
            return ClaimedDelivery(
                id: id, webhookID: r.0, leaseToken: token, body: r.1, attempt: r.2, retryIndex: r.3, url: r.4,
                sealedSecret: r.5, previousSealedSecret: r.6, now: r.7
            )
        }
        return nil
    }

    /// What recording an attempt did to the endpoint.
    enum EndpointChange { case none, disabled(reason: String) }

    /// Records the attempt and what follows from it, in one transaction: the delivery's next
    /// attempt (or its end), the endpoint's failure run, and disabling it (410, or failing for
    /// `disableAfter`), audited and published. Nothing when the lease was lost meanwhile
    /// (another dispatcher then owns the delivery and records its own attempt).
    func recordAttempt(
        _ claimed: ClaimedDelivery, at attemptedAt: Date, outcome: AttemptOutcome, settings: WebhookDeliverySettings
    ) async throws -> EndpointChange {
        try await commitWithoutWaitingForTheDisk()
        let nextIndex = claimed.retryIndex + 1
        let next: Date? = outcome.succeeded || outcome.gone ? nil : settings.delay(before: nextIndex).map { scheduled in
            let asked = min(outcome.retryAfter ?? 0, settings.maximumRetryAfter)
            return attemptedAt.addingTimeInterval(max(scheduled, asked))
        }
        let status = outcome.succeeded ? "succeeded" : next == nil ? "failed" : "pending"
        // One statement: the delivery moves on only while this dispatcher still holds its
        // lease, and the attempt is recorded only if it did.
        let recorded = try await query("""
            WITH d AS (
                UPDATE accounts.webhook_deliveries SET status = \(status), attempt_count = \(claimed.attempt),
                    retry_index = \(outcome.succeeded ? claimed.retryIndex : nextIndex), next_attempt_at = \(next),
                    lease_until = NULL, lease_token = NULL
                WHERE id = \(claimed.id) AND lease_token = \(claimed.leaseToken)
                RETURNING tenant_id, id
            )
            INSERT INTO accounts.webhook_attempts
                (tenant_id, delivery_id, attempt, attempted_at, status_code, succeeded, latency_ms, error, response_excerpt)
            SELECT d.tenant_id, d.id, \(claimed.attempt), \(attemptedAt), \(outcome.statusCode), \(outcome.succeeded),
                   \(outcome.latencyMs), \(outcome.error), \(outcome.responseExcerpt)
            FROM d
            RETURNING 1
            """).collect()
        guard !recorded.isEmpty else { return .none }
        if outcome.succeeded {
            // Writes nothing (no row) unless a run of failures ends here.
            try await query("UPDATE accounts.webhooks SET failing_since = NULL WHERE id = \(claimed.webhookID) AND failing_since IS NOT NULL")
            return .none
        }
        let failingSince = try await query("""
            UPDATE accounts.webhooks SET failing_since = coalesce(failing_since, \(attemptedAt)) WHERE id = \(claimed.webhookID)
            RETURNING failing_since
            """).collect().first?.decode(Date.self)
        if outcome.gone {
            try await disableWebhook(claimed.webhookID, reason: "gone")
            return .disabled(reason: "gone")
        }
        if let failingSince, attemptedAt.timeIntervalSince(failingSince) >= settings.disableAfter {
            try await disableWebhook(claimed.webhookID, reason: "failing")
            return .disabled(reason: "failing")
        }
        return .none
    }

    /// Claims and attempt records commit without waiting for the WAL to reach the disk: a
    /// Postgres crash may forget the last fraction of a second of them, which only means those
    /// attempts are made again (same webhook-id), as after a crash mid-attempt. The deliveries
    /// themselves are created durably (the fan-out), so none is ever lost. One flush per
    /// attempt was most of an attempt's cost.
    func commitWithoutWaitingForTheDisk() async throws {
        try await query("SELECT set_config('synchronous_commit', 'off', true)")
    }

    /// Kefu disables an endpoint: audited as the system and announced (`webhook.disabled`).
    /// Its pending deliveries stay pending: re-enabling it resumes them.
    func disableWebhook(_ id: UUID, reason: String) async throws {
        let before = try await webhooks(id: id).first
        guard let before, before.enabled else { return }
        try await query("""
            UPDATE accounts.webhooks SET enabled = false, disabled_reason = \(reason), updated_at = now() WHERE id = \(id)
            """)
        let after = try await webhooks(id: id).first
        try await publish(WebhookDisabled(webhookId: id, reason: reason))
        try await audit(
            AuditActor(type: "system", id: nil, ip: nil, requestID: nil), action: "webhook.disabled", targetType: "webhook",
            targetID: id.uuidString.lowercased(), before: before, after: after
        )
    }
}

/// The Standard Webhooks payload: `{"type", "timestamp", "data"}`, data being the event's own
/// payload (ids and the changed fields, never whole documents).
enum WebhookBody {
    static func make(type: String, timestamp: Date, data: String) -> String {
        let encoder = KefuJSON.encoder()
        let typeJSON = String(decoding: (try? encoder.encode(type)) ?? Data("\"\"".utf8), as: UTF8.self)
        let timeJSON = String(decoding: (try? encoder.encode(timestamp)) ?? Data("null".utf8), as: UTF8.self)
        return #"{"type":\#(typeJSON),"timestamp":\#(timeJSON),"data":\#(data)}"#
    }
}
