// kefu-bench routing: the routing benchmarks' load, through two running routing replicas (and
// the reception they read), as visitors and agents would send it.
import Foundation
import KefuCore
import KefuModels
import Logging
import PostgresNIO

/// Assignment: `agents` agents (one group, `limit` each) go online, then `visitors` visitors start
/// their conversations at once, `clients` at a time, alternating between the replicas. Prints how
/// long until every one was assigned or queued, then checks in SQL that no conversation was
/// assigned twice and no agent passed the limit (and fails the bench otherwise).
///
/// Then the socket latency (SocketLatencyBench.swift) over `latencyConversations` open
/// conversations at `latencyRate` messages a second, and prepares the message-ingest run: a wrk script posting visitor messages into
/// `ingestConversations` of those conversations (`lua`), and the pgbench script running the same
/// SQL transaction as one message store (`pgbench`), one conversation per client.
func routingBenchmark(
    routingURLs: [String], receptionURL: String, databaseURL: String, privateKeyFile: String, agentCount: Int, visitorCount: Int,
    limit: Int, clients: Int, ingestConversations: Int, luaFile: String, pgbenchFile: String, pgbenchClients: Int,
    latencyConversations: Int, latencyRate: Int, latencySeconds: Double
) async throws {
    let tenant = TenantID()
    var logger = Logger(label: "kefu-bench")
    logger.logLevel = .warning
    let database = Database(url: try DatabaseURL(databaseURL), poolSize: 2, applicationName: "kefu-bench", logger: logger)
    let agents = (0..<agentCount).map { _ in EmployeeID() }
    let signer = try await TokenSigner(privateKeyPEM: try String(contentsOfFile: privateKeyFile, encoding: .utf8))
    func token(_ employee: EmployeeID, _ permissions: Set<Permission>) async throws -> String {
        try await signer.sign(AccessTokenClaims(subject: .employee(employee), tenant: tenant, permissions: permissions, scopes: .unrestricted, lifetime: 4 * 3600))
    }

    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { await database.client.run() }
        defer { group.cancelAll() }
        try await publishAgents(agents, tenant: tenant, database: database)
        try await waitUntilProjected(agentCount, table: "reception.agents", where: "status = 'active'", tenant: tenant, database: database)
        try await waitUntilProjected(agentCount, table: "routing.agents", where: "active", tenant: tenant, database: database)

        let admin = BenchAPI(base: receptionURL, token: try await token(agents[0], [.receptionGroups, .receptionWidgets, .receptionQueue]))
        let groupID = try await admin.create("/v1/groups", ReceptionGroup(
            name: "Everyone", memberIds: agents.map(\.uuid), perAgentLimit: limit,
            queue: QueuePolicy(enabled: true, maxLength: 1000, maxWaitSeconds: 7200)
        ))
        _ = try await admin.send("PUT", "/v1/reception/fallback", body: try KefuJSON.encoder().encode(
            FallbackPolicy(mode: .queue, queue: QueuePolicy(enabled: true, maxLength: 1000, maxWaitSeconds: 7200))
        ), expect: 200)
        _ = try await admin.create("/v1/widgets", Widget(
            name: "bench", style: .icon, colour: "#1677ff", preAssignmentMessages: [], guideRulesEnabled: false,
            reception: WidgetReception(mode: .group, groupId: groupID), mountPositions: [], extraEntries: []
        ))
        let key = try await database.withTenant(tenant) { tx in
            // Anyone may read widget keys (anonymous visitors look them up): pick this tenant's.
            try await tx.query("SELECT public_key FROM reception.widget_keys WHERE tenant_id = \(tenant.uuid)").collect().first!.decode(String.self)
        }

        for (index, agent) in agents.enumerated() {
            let api = BenchAPI(base: routingURLs[index % routingURLs.count], token: try await token(agent, [.clientLogin]))
            _ = try await api.send("PUT", "/v1/agents/me/state", body: Data(#"{"status":"online","reception":"on"}"#.utf8), expect: 200)
        }
        var visitors: [String] = []
        for index in 0..<visitorCount {
            let api = BenchAPI(base: routingURLs[index % routingURLs.count], token: nil)
            let reply = try await api.send("POST", "/v1/public/widgets/\(key)/visitors", body: Data("{}".utf8), expect: 201)
            visitors.append(try KefuJSON.decoder().decode(VisitorStarted.self, from: reply).visitorToken)
        }

        // Timed: every visitor starts at once (`clients` in flight), on both replicas.
        let tokens = visitors
        let start = ContinuousClock.now
        let conversations = try await withThrowingTaskGroup(of: [(Int, UUID)].self) { workers in
            for worker in 0..<clients {
                workers.addTask {
                    var started: [(Int, UUID)] = []
                    for index in stride(from: worker, to: visitorCount, by: clients) {
                        let api = BenchAPI(base: routingURLs[index % routingURLs.count], token: tokens[index])
                        let reply = try await api.send("POST", "/v1/visitor/conversations", body: Data("{}".utf8), expect: 201)
                        started.append((index, try KefuJSON.decoder().decode(Started.self, from: reply).id))
                    }
                    return started
                }
            }
            return try await workers.reduce(into: [(Int, UUID)]()) { $0 += $1 }.sorted { $0.0 < $1.0 }
        }
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18

        let (open, queued, overLimit, miscounted, twice) = try await database.withTenant(tenant) { tx in
            try await tx.query("""
                SELECT (SELECT count(*)::int FROM routing.conversations WHERE status = 'open'),
                       (SELECT count(*)::int FROM routing.conversations WHERE status = 'queued'),
                       (SELECT count(*)::int FROM routing.agents a WHERE (SELECT count(*) FROM routing.conversations c
                            WHERE c.agent_id = a.employee_id AND c.status = 'open') > \(limit)),
                       (SELECT count(*)::int FROM routing.agents a WHERE a.open_count <> (SELECT count(*) FROM routing.conversations c
                            WHERE c.agent_id = a.employee_id AND c.status = 'open')),
                       (SELECT count(*)::int FROM (SELECT conversation_id FROM routing.assignments GROUP BY conversation_id HAVING count(*) > 1) t)
                """).collect()[0].decode((Int, Int, Int, Int, Int).self)
        }
        print(String(format: "routing_assign_seconds=%.3f", seconds))
        print(String(format: "routing_assign_per_second=%.1f", Double(visitorCount) / seconds))
        print("routing_assigned=\(open)")
        print("routing_queued=\(queued)")
        print("routing_double_assignments=\(twice)")
        print("routing_limit_breaches=\(overLimit)")
        print("routing_miscounted_agents=\(miscounted)")
        guard open == min(visitorCount, agentCount * limit), open + queued == visitorCount, overLimit == 0, miscounted == 0, twice == 0 else {
            throw BenchError("assignment was not exact: \(open) open, \(queued) queued, \(overLimit) agents over the limit, \(miscounted) miscounted, \(twice) assigned twice")
        }

        // Socket latency: visitors of open conversations write on the first replica, their
        // agents read on the second.
        let holders = try await database.withTenant(tenant) { tx in
            try await tx.query("SELECT id, agent_id FROM routing.conversations WHERE status = 'open'").decode((UUID, UUID).self)
                .reduce(into: [UUID: UUID]()) { $0[$1.0] = $1.1 }
        }
        var held: [HeldConversation] = []
        var agentTokens: [UUID: String] = [:]  // one socket per agent, as on the workbench
        for (index, id) in conversations where held.count < latencyConversations {
            guard let agent = holders[id] else { continue }
            if agentTokens[agent] == nil { agentTokens[agent] = try await token(EmployeeID(agent), [.clientLogin]) }
            held.append(HeldConversation(id: id, visitorToken: visitors[index], agentToken: agentTokens[agent]!))
        }
        let latency = try await socketLatency(
            postURL: routingURLs[0], socketURL: routingURLs[routingURLs.count - 1], conversations: held,
            rate: latencyRate, seconds: latencySeconds, logger: logger
        )
        print("routing_socket_latency_rate=\(latencyRate)")
        print("routing_socket_latency_conversations=\(held.count)")
        print("routing_socket_latency_sent=\(latency.sent)")
        print("routing_socket_latency_received=\(latency.received)")
        print(String(format: "routing_socket_latency_p50_ms=%.2f", latency.p50Milliseconds))
        print(String(format: "routing_socket_latency_p99_ms=%.2f", latency.p99Milliseconds))
        guard latency.received == latency.sent else {
            throw BenchError("\(latency.sent - latency.received) of \(latency.sent) messages never reached the agent's socket")
        }

        // Message ingest: wrk posts into the first conversations, pgbench runs the same
        // transaction on others (one per client, as wrk's requests mostly are).
        let ingest = conversations.prefix(ingestConversations).map { (visitors[$0.0], $0.1) }
        let entries = ingest.map { "{\"/v1/visitor/conversations/\($0.1.uuidString.lowercased())/messages\", \"Bearer \($0.0)\"}" }
        try """
            -- Generated by kefu-bench routing: each request is a visitor message into one of \(ingest.count) conversations.
            local targets = {\(entries.joined(separator: ",\n  "))}
            local counter = 0
            function setup(thread) thread:set("offset", math.random(#targets)) end
            function init(args) counter = tonumber(offset) or 0 end
            function request()
              counter = counter + 1
              local target = targets[(counter % #targets) + 1]
              return wrk.format("POST", target[1], {["Authorization"] = target[2], ["Content-Type"] = "application/json"},
                '{"body":{"type":"text","text":"Hello, is anyone there? I would like to ask about my order."}}')
            end
            """.write(toFile: luaFile, atomically: true, encoding: .utf8)
        let baseline = conversations.dropFirst(ingestConversations).prefix(pgbenchClients).map(\.1)
        let cases = baseline.enumerated().map { "WHEN \($0.offset) THEN '\($0.element.uuidString.lowercased())'::uuid" }.joined(separator: " ")
        try """
            -- Generated by kefu-bench routing: the statements routing runs to store one visitor message
            -- (MessageStore.append), one conversation per client, same roles, same round trips.
            -- The notices follow the commit, as KefuCore sends them (CommitNotices).
            -- (The notice's colons are chr(58): pgbench -M prepared takes ":m" in a literal for a variable.)
            BEGIN;
            SELECT set_config('kefu.tenant_id', '\(tenant)', true);
            SELECT status FROM routing.conversations WHERE id = (CASE :client_id::int \(cases) END) AND visitor_id IS NOT NULL FOR UPDATE;
            WITH seq AS (UPDATE routing.conversations SET last_seq = last_seq + 1, last_message_at = now() WHERE id = (CASE :client_id::int \(cases) END) RETURNING last_seq), timeout AS (UPDATE routing.timers SET due_at = now() + make_interval(secs => (payload->>'seconds')::int) WHERE conversation_id = (CASE :client_id::int \(cases) END) AND kind = 'conversation_timeout') INSERT INTO routing.messages (tenant_id, conversation_id, seq, id, sender, sender_id, client_message_id, body, automatic) SELECT '\(tenant)', (CASE :client_id::int \(cases) END), seq.last_seq, gen_random_uuid(), 'visitor', NULL, NULL, '{"type":"text","text":"Hello, is anyone there? I would like to ask about my order."}'::jsonb, false FROM seq RETURNING seq, created_at;
            INSERT INTO kefu.events (tenant_id, type, payload) VALUES ('\(tenant)', 'message.created', '{"seq": 1}'::jsonb) RETURNING id;
            COMMIT;
            SELECT count(pg_notify(n.channel, n.payload)) FROM unnest(ARRAY['kefu_routing', 'kefu_events'], ARRAY['\(tenant)' || chr(58) || 'm' || chr(58) || '1', 'message.created']) AS n(channel, payload);
            """.write(toFile: pgbenchFile, atomically: true, encoding: .utf8)
        print("routing_tenant=\(tenant)")
    }
}

private struct VisitorStarted: Decodable { let visitorToken: String }
private struct Started: Decodable { let id: UUID }

/// Publishes the agents as accounts' `employee.created` events would.
func publishAgents(_ agents: [EmployeeID], tenant: TenantID, database: Database) async throws {
    try await database.withTenant(tenant) { tx in
        for (index, agent) in agents.enumerated() {
            try await tx.publish(EmployeeCreated(employee: EmployeeSnapshot(
                employeeId: agent, account: "agent\(index + 1)", displayName: "Agent \(index + 1)", departmentId: nil, status: "active"
            )))
        }
    }
}

/// Waits until a service's durable consumer has projected `count` rows (at most two minutes).
func waitUntilProjected(_ count: Int, table: String, where filter: String, tenant: TenantID, database: Database) async throws {
    let deadline = ContinuousClock.now + .seconds(120)
    while true {
        let projected = try await database.withTenant(tenant) { tx in
            try await tx.query(PostgresQuery(unsafeSQL: "SELECT count(*)::integer FROM \(table) WHERE \(filter)")).collect().first?.decode(Int.self) ?? 0
        }
        if projected == count { return }
        guard ContinuousClock.now < deadline else {
            throw BenchError("\(table) holds \(projected) of \(count) agents after 120 s (is the service running on this database?)")
        }
        try await Task.sleep(for: .milliseconds(100))
    }
}
