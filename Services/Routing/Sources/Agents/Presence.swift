import Foundation
import KefuCore
import KefuModels
import Logging
import ServiceLifecycle

/// How long presence waits (`KEFU_PRESENCE_GRACE_SECONDS`, `KEFU_PRESENCE_HEARTBEAT_SECONDS`).
struct PresenceTiming: Sendable {
    /// An agent whose last socket closed is offline this long after.
    let grace: Int
    /// How often a replica refreshes its rows and sweeps dead replicas' rows.
    let heartbeat: Int
    /// A replica's rows older than this are a dead replica's: three missed heartbeats.
    var staleSeconds: Int { heartbeat * 3 }
}

/// "An agent whose last socket closed is offline after a grace period" (DOMAIN.md §3), across
/// replicas. Each replica writes its count of an agent's sockets to `routing.agent_sockets`
/// (refreshed every heartbeat: a replica that died leaves only stale rows); when an agent's
/// last socket on a replica closes and no other replica holds a fresh one, a `presence_grace`
/// timer is set. A socket opening anywhere cancels it; when it fires with no fresh socket left,
/// the agent goes offline (`agent.state_changed`). A replica that dies closes nothing cleanly:
/// every live replica's heartbeat also sweeps stale rows and sets the grace timers they owe.
struct Presence: Service {
    let routing: Routing
    /// This process, among the replicas.
    let replica = UUID()

    var logger: Logger { routing.logger }
    var timing: PresenceTiming { routing.presence }

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
                        try? await Task.sleep(for: .seconds(timing.heartbeat))
                        await beat()
                        await sweep()
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
                guard try await tx.liveSockets(of: change.agent.uuid, staleAfter: timing.staleSeconds) == 0 else { return }
                try await tx.query("""
                    INSERT INTO routing.timers (tenant_id, id, kind, agent_id, due_at)
                    VALUES (\(tx.tenantID.uuid), \(UUID()), 'presence_grace', \(change.agent.uuid), now() + make_interval(secs => \(timing.grace)))
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

    /// Dead replicas' rows: removed, and each agent they leave without a live socket gets the
    /// grace timer a clean close would have set — due a grace after they were last seen, so an
    /// agent is not kept online longer for their replica having died. Every replica may sweep
    /// the same rows at once: the deletes and the timer's upsert make that harmless.
    func sweep() async {
        do {
            let stale = try await routing.resources.eventReader
                .rows("SELECT tenant_id, employee_id FROM routing.stale_agent_sockets(\(timing.staleSeconds)::int, 500)")
                .map { try $0.decode((UUID, UUID).self) }
            for (tenant, agent) in stale {
                try await routing.database.withTenant(TenantID(tenant)) { tx in
                    let lastSeen = try await tx.query("""
                        DELETE FROM routing.agent_sockets
                        WHERE employee_id = \(agent) AND seen_at <= now() - make_interval(secs => \(timing.staleSeconds))
                        RETURNING seen_at
                        """).collect().map { try $0.decode(Date.self) }.max()
                    guard let lastSeen, try await tx.liveSockets(of: agent, staleAfter: timing.staleSeconds) == 0 else { return }
                    try await tx.query("""
                        INSERT INTO routing.timers (tenant_id, id, kind, agent_id, due_at)
                        VALUES (\(tx.tenantID.uuid), \(UUID()), 'presence_grace', \(agent), \(lastSeen) + make_interval(secs => \(timing.grace)))
                        ON CONFLICT (tenant_id, agent_id) WHERE kind = 'presence_grace' DO NOTHING
                        """)
                }
            }
        } catch {
            logger.warning("sweeping dead replicas' sockets failed", metadata: ["error": "\(String(reflecting: error))"])
        }
    }
}

extension TenantTransaction {
    /// The agent's sockets on replicas that are alive.
    func liveSockets(of agent: UUID, staleAfter staleSeconds: Int) async throws -> Int {
        try await query("""
            SELECT coalesce(sum(sockets), 0)::int FROM routing.agent_sockets
            WHERE employee_id = \(agent) AND seen_at > now() - make_interval(secs => \(staleSeconds))
            """).collect().first?.decode(Int.self) ?? 0
    }
}
