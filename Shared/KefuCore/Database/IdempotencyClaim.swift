import Foundation
import KefuModels
import PostgresNIO
import Synchronization

/// The `Idempotency-Key` of the request the current task serves. `IdempotencyMiddleware` sets it;
/// the request's first `tx.publish` claims the key in that transaction (every write publishes an
/// event), so the key is taken exactly when the write commits and freed when it rolls back.
public final class IdempotencyClaim: Sendable {
    @TaskLocal public static var current: IdempotencyClaim?

    enum State { case unclaimed, claimedInOpenTransaction, committed }

    let tenant: TenantID
    let service: String
    let subject: String
    let key: String
    let fingerprint: [UInt8]
    /// This request, as recorded with the key it holds.
    let id = UUID()
    private let state = Mutex(State.unclaimed)

    init(tenant: TenantID, service: String, subject: String, key: String, fingerprint: [UInt8]) {
        self.tenant = tenant
        self.service = service
        self.subject = subject
        self.key = key
        self.fingerprint = fingerprint
    }

    /// Whether a write of this request committed holding the key.
    var isCommitted: Bool { state.withLock { $0 == .committed } }

    /// Claims the key in `tx` unless this request already holds it. A key an earlier request holds
    /// (or holds in a transaction still open: the insert waits for it) throws `IdempotencyKeyTaken`,
    /// which rolls the write back; the middleware then answers with the earlier response.
    func claim(in tx: TenantTransaction) async throws {
        guard tx.tenantID == tenant, state.withLock({ $0 == .unclaimed }) else { return }
        // An expired key (24 hours) is reused as if new.
        let rows = try await tx.query("""
            INSERT INTO kefu.idempotency_keys (tenant_id, service, subject, key, claim_id, fingerprint)
            VALUES (\(tenant.uuid), \(service), \(subject), \(key), \(id), \(ByteBuffer(bytes: fingerprint)))
            ON CONFLICT (tenant_id, service, subject, key) DO UPDATE
                SET claim_id = excluded.claim_id, fingerprint = excluded.fingerprint, status = NULL, headers = NULL,
                    body = NULL, created_at = now()
                WHERE kefu.idempotency_keys.created_at < now() - interval '24 hours'
            RETURNING 1
            """)
        guard try await rows.collect().count == 1 else { throw IdempotencyKeyTaken() }
        state.withLock { $0 = .claimedInOpenTransaction }
    }

    /// The transaction that may have claimed the key ended.
    func transactionEnded(committed: Bool) {
        state.withLock { state in
            if state == .claimedInOpenTransaction { state = committed ? .committed : .unclaimed }
        }
    }
}

/// Another request holds this request's `Idempotency-Key`.
struct IdempotencyKeyTaken: Error {}
