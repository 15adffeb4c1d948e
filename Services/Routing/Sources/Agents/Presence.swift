import Foundation
import KefuCore
import KefuModels
import Logging
import ServiceLifecycle

/// "An agent whose last socket closed is offline after a grace period" (DOMAIN.md §3), across
/// replicas. Each replica writes its count of an agent's sockets to `routing.agent_sockets`
/// (refreshed every `heartbeat`: a replica that died leaves only stale rows); when an agent's
/// last socket on a replica closes and no other replica holds a fresh one, a `presence_grace`
/// timer is set. A socket opening anywhere cancels it; when it fires with no fresh socket left,
/// the agent goes offline (`agent.state_changed`).
struct Presence: Service {
    let routing: Routing
    /// This process, among the replicas.
    let replica = UUID()
    let grace: Int
    static let heartbeat: Duration = .seconds(20)
    /// A replica's rows older than this are a dead replica's.
    static let staleSeconds = 60

    var logger: Logger { routing.logger }

    func run() async throws {
        // One at a time, in the order they happened: an open and a close of one agent never swap.
        let (changes, continuation) = AsyncStream.makeStream(of: SocketHub.AgentSockets.self)
        routing.sockets.observeAgentSockets { continuation.yield($0) }
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await change in changes { await record(change) }
                }
                group.addTask {
                    while !Task.isCancelled {
                        try? await Task.sleep(for: Self.heartbeat)
                        await beat()
                    }
                }
                await group.next()
                group.cancelAll()
            }
        }
        continuation.finish()
    }

    func record(_ change: SocketHub.AgentSockets) async {
        do {
            try await routing.database.withTenant(change.tenant) { tx in
                if change.open > 0 {
                    try await tx.query("""
                        INSERT INTO routing.agent_sockets (tenant_id, employee_id, replica, sockets)
                        VALUES (\(tx.tenantID.uuid), \(change.agent.uuid), \(replica), \(change.open))
                        ON CONFLICT (tenant_id, employee_id, replica) DO UPDATE SET sockets = excluded.sockets, seen_at = now()
                        """)
                    try await tx.query("DELETE FROM routing.timers WHERE agent_id = \(change.agent.uuid) AND kind = 'presence_grace'")
                    return
                }
                try await tx.query("DELETE FROM routing.agent_sockets WHERE employee_id = \(change.agent.uuid) AND replica = \(replica)")
                guard try await tx.liveSockets(of: change.agent.uuid) == 0 else { return }
                try await tx.query("""
                    INSERT INTO routing.timers (tenant_id, id, kind, agent_id, due_at)
                    VALUES (\(tx.tenantID.uuid), \(UUID()), 'presence_grace', \(change.agent.uuid), now() + make_interval(secs => \(grace)))
                    ON CONFLICT (tenant_id, agent_id) WHERE kind = 'presence_grace' DO UPDATE SET due_at = excluded.due_at
                    """)
            }
        } catch {
            logger.error("recording an agent's sockets failed", metadata: ["agent": "\(change.agent)", "error": "\(String(reflecting: error))"])
        }
    }

    /// Keeps this replica's rows fresh, tenant by tenant.
    func beat() async {
        for tenant in routing.sockets.tenantsWithAgents() {
            do {
                try await routing.database.withTenant(tenant) { tx in
                    try await tx.query("UPDATE routing.agent_sockets SET seen_at = now() WHERE replica = \(replica)")
                }
            } catch {
                logger.warning("presence heartbeat failed", metadata: ["error": "\(String(reflecting: error))"])
            }
        }
    }
}

extension TenantTransaction {
    /// The agent's sockets on replicas that are alive.
    func liveSockets(of agent: UUID) async throws -> Int {
        try await query("""
            SELECT coalesce(sum(sockets), 0)::int FROM routing.agent_sockets
            WHERE employee_id = \(agent) AND seen_at > now() - make_interval(secs => \(Presence.staleSeconds))
            """).collect().first?.decode(Int.self) ?? 0
    }
}
