import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import KefuCore
import KefuModels
import KefuTestSupport
import Reception
import Routing
import Testing

/// Routing under test the way it runs: reception as a real HTTP server (routing fetches its
/// snapshot over HTTP with the platform token), one or more routing replicas against the same
/// Postgres, and employees made as accounts makes them — by publishing `employee.*` events, which
/// both services project.
struct RoutingHarness: Sendable {
    let reception: any TestClientProtocol
    /// Replica 0 is `routing`; more when asked for (each its own application, pool and consumers).
    let replicas: [any TestClientProtocol]
    let database: Database
    var routing: any TestClientProtocol { replicas[0] }

    /// `live`: the replicas listen on real ports (sockets need them: `replicas[i].port`), else in-process routers.
    static func run(
        replicas count: Int = 1, live: Bool = false, environment: [String: String] = [:],
        _ body: @escaping @Sendable (RoutingHarness) async throws -> Void
    ) async throws {
        let receptionConfig = try await TestEnvironment.config(for: .reception)
        let receptionApp = try await buildApplication(ReceptionService.self, config: receptionConfig, logger: TestEnvironment.logger)
        try await TestEnvironment.withDatabase { database in
            try await receptionApp.test(.live) { reception in
                var config = try await TestEnvironment.config(for: .routing)
                config.environment["KEFU_RECEPTION_URL"] = "http://127.0.0.1:\(reception.port!)"
                config.environment["KEFU_TIMER_POLL_MS"] = "100"
                // Every test's visitors come from one address: limits are tested on their own.
                config.environment["KEFU_VISITOR_RATE_LIMIT_PER_ADDRESS"] = "1000000"
                // Any replica of any test may hold the channel outbound consumer: every one talks to
                // the same stand-in of WeChat's servers, and waits as long as a loaded machine needs.
                config.environment["KEFU_WECHAT_API_BASE_URL"] = try await WeChatStandIn.baseURL.value
                config.environment["KEFU_WECHAT_ANSWER_WITHIN_MS"] = "30000"
                config.environment.merge(environment) { $1 }
                try await withReplicas(count, config: config, live: live) { replicas in
                    try await body(RoutingHarness(reception: reception, replicas: replicas, database: database))
                }
            }
        }
    }

    static func withReplicas(
        _ count: Int, config: KefuConfig, live: Bool = false, started: [any TestClientProtocol] = [],
        _ body: @escaping @Sendable ([any TestClientProtocol]) async throws -> Void
    ) async throws {
        guard started.count < count else { return try await body(started) }
        let app = try await buildApplication(RoutingService.self, config: config, logger: TestEnvironment.logger)
        try await app.test(live ? .live : .router) { client in
            try await withReplicas(count, config: config, live: live, started: started + [client], body)
        }
    }

    // MARK: Tenants and employees

    struct Tenant: Sendable {
        let id: TenantID
        /// Every reception permission plus queue management, monitoring and forced transfer.
        let admin: String
    }

    static let adminPermissions: Set<Permission> = [
        .receptionChannels, .receptionWidgets, .receptionGroups, .receptionGuideRules, .receptionAssignmentRules,
        .receptionQuickReplies, .receptionSatisfaction, .receptionQueue, .receptionSettings, .analyticsMonitoring,
        .analyticsForcedTransfer, .clientLogin,
    ]

    func tenant() async throws -> Tenant {
        let id = TenantID()
        return Tenant(id: id, admin: try await TestKeys.shared.token(tenant: id, employee: EmployeeID(), permissions: Self.adminPermissions))
    }

    struct Agent: Sendable {
        let id: EmployeeID
        let token: String
    }

    /// A new active employee with the workbench permission, once reception and routing have
    /// projected them (a group may only hold active employees).
    func agent(in tenant: Tenant, name: String = "Agent") async throws -> Agent {
        let id = EmployeeID()
        try await database.withTenant(tenant.id) { tx in
            try await tx.publish(EmployeeCreated(employee: EmployeeSnapshot(
                employeeId: id, account: "a\(id.description.prefix(8))", displayName: name, departmentId: nil, status: "active"
            )))
        }
        try #require(try await eventually {
            try await TestEnvironment.ownerQuery("SELECT count(*)::int FROM reception.agents WHERE employee_id = \(id.uuid)", as: Int.self) == [1]
        }, "reception did not project the agent")
        // Routing too (its own consumer): a pick-up or a state change before it knows the agent fails.
        try #require(try await eventually {
            try await TestEnvironment.ownerQuery("SELECT count(*)::int FROM routing.agents WHERE employee_id = \(id.uuid)", as: Int.self) == [1]
        }, "routing did not project the agent")
        return Agent(id: id, token: try await TestKeys.shared.token(tenant: tenant.id, employee: id, permissions: [.clientLogin]))
    }

    /// A group of `members` (limit per agent) and a widget receiving into it; returns the group
    /// id and the widget's public key.
    func groupWidget(
        in tenant: Tenant, members: [Agent], limit: Int = 3, queueLength: Int = 50, guideRules: Bool = false
    ) async throws -> (group: String, key: String) {
        let group = try await reception.call(.post, "/v1/groups", token: tenant.admin, json: [
            "name": "G" + UUID().uuidString.prefix(6), "member_ids": members.map(\.id.description), "per_agent_limit": limit,
            "queue": ["enabled": true, "max_length": queueLength, "max_wait_seconds": 600],
        ])
        try #require(group.status == .created, "\(group.text)")
        let widget = try await reception.call(.post, "/v1/widgets", token: tenant.admin, json: [
            "name": "W" + UUID().uuidString.prefix(6), "style": "icon", "colour": "#12AB34", "pre_assignment_messages": [String](),
            "guide_rules_enabled": guideRules, "reception": ["mode": "group", "group_id": group.id!], "mount_positions": [[String: Any]](),
            "extra_entries": [[String: Any]](),
        ])
        try #require(widget.status == .created, "\(widget.text)")
        return (group.id!, widget.string("public_key")!)
    }

    /// Puts the agent online with reception on.
    @discardableResult
    func online(_ agent: Agent, on replica: Int = 0) async throws -> APIReply {
        let reply = try await replicas[replica].call(.put, "/v1/agents/me/state", token: agent.token, json: ["status": "online", "reception": "on"])
        try #require(reply.status == .ok, "\(reply.text)")
        return reply
    }

    struct Visitor: Sendable {
        let id: String
        let token: String
    }

    func visitor(_ key: String, on replica: Int = 0, attributes: [String: Any] = [:]) async throws -> Visitor {
        let reply = try await replicas[replica].call(.post, "/v1/public/widgets/\(key)/visitors", json: ["attributes": attributes])
        try #require(reply.status == .created, "\(reply.text)")
        return Visitor(id: reply.string("visitor_id")!, token: reply.string("visitor_token")!)
    }

    /// The visitor starts a conversation; returns its JSON.
    func start(_ visitor: Visitor, on replica: Int = 0) async throws -> APIReply {
        let reply = try await replicas[replica].call(.post, "/v1/visitor/conversations", token: visitor.token, json: [String: Any]())
        try #require([.created, .ok].contains(reply.status), "\(reply.text)")
        return reply
    }

    func eventually(_ condition: () async throws -> Bool) async throws -> Bool {
        try await KefuTestSupport.eventually(condition)
    }
}

extension APIReply {
    var agentID: String? { (json["agent"] as? [String: Any])?["id"] as? String }
    var queuePosition: Int? { (json["queue"] as? [String: Any])?["position"] as? Int }
}
