import Foundation
import KefuCore
import KefuModels
import Logging
import ServiceLifecycle
import Synchronization

/// Sends due webhook deliveries, in every accounts replica.
///
/// Due deliveries are found across tenants through the event reader's one door
/// (`accounts.due_webhook_deliveries`, at most a few per endpoint); each is then claimed inside
/// its tenant by taking its lease (`claimDelivery`), sent with no transaction open, and its
/// attempt recorded in a second transaction that checks the lease is still held. Two replicas
/// never send one attempt; a crash mid-attempt leaves the lease to expire and the attempt to be
/// made again (same `webhook-id`, so receivers can tell).
///
/// Each endpoint has at most `concurrencyPerEndpoint` attempts in flight, each in its own task:
/// a slow or hanging endpoint occupies its own slots and never those of another endpoint or
/// tenant.
final class WebhookDispatcher: Service, Sendable {
    let database: Database
    let reader: Database
    let secrets: SecretBox
    let settings: WebhookDeliverySettings
    let logger: Logger
    /// Attempts in flight in this process, by endpoint, and the deliveries they are for.
    private let inFlight = Mutex<(byEndpoint: [UUID: Int], deliveries: Set<UUID>)>(([:], []))
    /// Whether the last look for due deliveries failed (it was logged).
    private let failing = Atomic<Bool>(false)
    private let wakeUps: AsyncStream<Void>
    private let wakeContinuation: AsyncStream<Void>.Continuation
    static let maximumInFlight = 256

    init(database: Database, reader: Database, secrets: SecretBox, settings: WebhookDeliverySettings, logger: Logger) {
        self.database = database
        self.reader = reader
        self.secrets = secrets
        self.settings = settings
        var logger = logger
        logger[metadataKey: "worker"] = "webhooks"
        self.logger = logger
        (wakeUps, wakeContinuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Look for due deliveries now (new ones were just created, or a slot freed up).
    func wake() { wakeContinuation.yield() }

    /// Until graceful shutdown (SIGTERM): then it claims nothing more but lets the attempts in
    /// flight finish and be recorded (each within the timeout), so a deploy re-sends nothing.
    /// Cancelled outright, in-flight attempts stop unrecorded and are sent again when their
    /// lease ends.
    func run() async throws {
        // Made here, so that it is shut down by the run that made it.
        let sender = WebhookSender(settings: settings)
        let stopping = StopFlag()
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { attempts in
                // Wake-ups, or the poll interval when none comes.
                attempts.addTask {
                    while !stopping.isSet, !Task.isCancelled {
                        try? await Task.sleep(for: self.settings.pollInterval)
                        self.wake()
                    }
                }
                for await _ in self.wakeUps {
                    if stopping.isSet || Task.isCancelled { break }
                    for (tenant, delivery, endpoint) in await self.due() where self.reserve(delivery, endpoint) {
                        attempts.addTask {
                            await self.attempt(delivery, tenant: tenant, sender: sender)
                            self.release(delivery, endpoint)
                            self.wake()
                        }
                    }
                }
            }
        } onGracefulShutdown: {
            stopping.set()
            self.wake()
        }
        await sender.shutdown()
    }

    private func due() async -> [(TenantID, UUID, UUID)] {
        do {
            let rows = try await reader.rows("""
                SELECT tenant_id, id, webhook_id FROM accounts.due_webhook_deliveries(\(settings.concurrencyPerEndpoint)::integer, 200)
                """)
            failing.store(false, ordering: .releasing)
            return try rows.map { row in
                let (tenant, id, webhook) = try row.decode((UUID, UUID, UUID).self)
                return (TenantID(tenant), id, webhook)
            }
        } catch {
            // Polled every few hundred milliseconds (and failing while the migrations that start
            // with the service run): one warning per run of failures, not one per poll.
            if !Task.isCancelled {
                logger.log(
                    level: failing.exchange(true, ordering: .acquiringAndReleasing) ? .debug : .warning,
                    "looking for due webhook deliveries failed", metadata: ["error": "\(String(reflecting: error))"]
                )
            }
            return []
        }
    }

    /// Takes a slot for the delivery's endpoint, unless it is full or the delivery is already
    /// in flight here.
    private func reserve(_ delivery: UUID, _ endpoint: UUID) -> Bool {
        inFlight.withLock { state in
            let total = state.deliveries.count
            guard !state.deliveries.contains(delivery), total < Self.maximumInFlight,
                  state.byEndpoint[endpoint, default: 0] < settings.concurrencyPerEndpoint else { return false }
            state.deliveries.insert(delivery)
            state.byEndpoint[endpoint, default: 0] += 1
            return true
        }
    }

    private func release(_ delivery: UUID, _ endpoint: UUID) {
        inFlight.withLock { state in
            state.deliveries.remove(delivery)
            let left = state.byEndpoint[endpoint, default: 1] - 1
            state.byEndpoint[endpoint] = left > 0 ? left : nil
        }
    }

    /// One attempt of one delivery, if it can be claimed. Errors are logged: the delivery stays
    /// due (or leased until its lease ends) and is tried again.
    func attempt(_ id: UUID, tenant: TenantID, sender: WebhookSender) async {
        do {
            guard let claimed = try await database.withTenant(tenant, { tx in
                try await tx.claimDelivery(id, lease: self.settings.lease)
            }) else { return }
            var signing = [try secret(claimed.sealedSecret)]
            if let previous = claimed.previousSealedSecret { signing.append(try secret(previous)) }
            let attemptedAt = claimed.now
            let headers = WebhookSignedHeaders(
                id: claimed.id.uuidString.lowercased(), timestamp: Int(attemptedAt.timeIntervalSince1970),
                body: Data(claimed.body.utf8), secrets: signing
            )
            let outcome = await sender.send(url: claimed.url, body: claimed.body, headers: headers)
            // Stopped outright mid-attempt (see run): the attempt was ours, not the endpoint's
            // failure; left unrecorded, it is made again when the lease ends.
            guard !Task.isCancelled else { return }
            let settings = self.settings
            let change = try await database.withTenant(tenant) { tx in
                try await tx.recordAttempt(claimed, at: attemptedAt, outcome: outcome, settings: settings)
            }
            if case .disabled(let reason) = change {
                logger.notice("webhook endpoint disabled", metadata: ["webhook": "\(claimed.webhookID)", "reason": "\(reason)"])
            }
        } catch {
            if !Task.isCancelled {
                logger.error("webhook attempt failed", metadata: ["delivery": "\(id)", "error": "\(String(reflecting: error))"])
            }
        }
    }

    private func secret(_ sealed: String) throws -> WebhookSecret {
        let text = try secrets.open(sealed)
        guard let secret = WebhookSecret(text) else { throw WebhookSecretUnreadable() }
        return secret
    }
}

/// A stored secret that is not `whsec_` + base64 of 24–64 bytes. Kefu never made one (those
/// made before signing existed are base64 of 43 bytes of text: valid keys, which partners'
/// libraries decode the same way), so this is a damaged row; rotating the secret mends it.
struct WebhookSecretUnreadable: Error {}
