import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import KefuCore
import KefuModels
import KefuTestSupport
import Reception
import Testing

/// A reception service under test (real Postgres, its event consumers running) and helpers that
/// speak its API as a client would. Employees are made the way accounts makes them: by
/// publishing `employee.*` events, which reception projects.
struct ReceptionHarness: Sendable {
    let client: any TestClientProtocol
    let database: Database

    static func run(_ body: @escaping @Sendable (ReceptionHarness) async throws -> Void) async throws {
        let config = try await TestEnvironment.config(for: .reception)
        let app = try await buildApplication(ReceptionService.self, config: config, logger: TestEnvironment.logger)
        try await TestEnvironment.withDatabase { database in
            try await app.test(.router) { client in
                try await body(ReceptionHarness(client: client, database: database))
            }
        }
    }

    @discardableResult
    func call(_ method: HTTPRequest.Method, _ uri: String, token: String?, json: Any? = nil, headers: HTTPFields = [:]) async throws -> APIReply {
        try await client.call(method, uri, token: token, json: json, headers: headers)
    }

    /// Creates through the API, requiring 201; returns the new id.
    func create(_ path: String, token: String, _ json: [String: Any]) async throws -> String {
        let reply = try await call(.post, path, token: token, json: json)
        try #require(reply.status == .created, "\(path): \(reply.status) \(reply.text)")
        return reply.id!
    }

    // MARK: Tenants, employees, events

    struct Tenant: Sendable {
        let id: TenantID
        /// Holds every reception permission.
        let admin: String
        let adminID: EmployeeID
    }

    static let allPermissions: Set<Permission> = [
        .receptionChannels, .receptionWidgets, .receptionGroups, .receptionGuideRules, .receptionAssignmentRules,
        .receptionQuickReplies, .receptionSatisfaction, .receptionQueue, .receptionSettings,
    ]

    func tenant() async throws -> Tenant {
        let id = TenantID()
        let admin = EmployeeID()
        return Tenant(id: id, admin: try await TestKeys.shared.token(tenant: id, employee: admin, permissions: Self.allPermissions), adminID: admin)
    }

    func token(_ tenant: Tenant, _ permissions: Set<Permission>, employee: EmployeeID = EmployeeID()) async throws -> String {
        try await TestKeys.shared.token(tenant: tenant.id, employee: employee, permissions: permissions)
    }

    func publish<E: KefuEvent>(_ event: E, in tenant: Tenant) async throws {
        try await database.withTenant(tenant.id) { tx in try await tx.publish(event) }
    }

    /// A new active employee of `tenant`, once reception has projected it.
    func agent(in tenant: Tenant) async throws -> EmployeeID {
        let id = EmployeeID()
        try await publish(EmployeeCreated(employee: snapshot(id, status: "active")), in: tenant)
        try #require(try await eventually { try await agentStatus(id, in: tenant) == "active" }, "agent was not projected")
        return id
    }

    func snapshot(_ id: EmployeeID, status: String) -> EmployeeSnapshot {
        EmployeeSnapshot(employeeId: id, account: "a\(id.description.prefix(8))", displayName: "Agent", departmentId: nil, status: status)
    }

    func agentStatus(_ id: EmployeeID, in tenant: Tenant) async throws -> String? {
        try await database.withTenant(tenant.id) { tx in
            for try await status in try await tx.query("SELECT status FROM reception.agents WHERE employee_id = \(id.uuid)").decode(String.self) {
                return status
            }
            return nil
        }
    }

    /// The `reception.config_changed` events published for `tenant`, oldest first.
    func configEvents(_ tenant: Tenant) async throws -> [ReceptionConfigChanged] {
        try await TestEnvironment.ownerQuery(
            "SELECT payload::text FROM kefu.events WHERE tenant_id = \(tenant.id.uuid) AND type = 'reception.config_changed' ORDER BY id",
            as: String.self
        ).map { try KefuJSON.decoder().decode(ReceptionConfigChanged.self, from: Data($0.utf8)) }
    }

    /// Polls until `condition` holds (events travel through the outbox and NOTIFY; when several
    /// test servers run, the consumer's leader may be another one).
    func eventually(_ condition: () async throws -> Bool) async throws -> Bool {
        try await KefuTestSupport.eventually(condition)
    }
}

/// Bodies the tests reuse.
enum Bodies {
    static func webChannel(_ name: String = "Web " + UUID().uuidString.prefix(6)) -> [String: Any] {
        ["name": name, "type": "web", "enabled": true]
    }

    static let aesKey = String(repeating: "A", count: 42) + "E"

    static func officialAccount(_ name: String, secret: String = "s3cr3t-app-secret-value-0001") -> [String: Any] {
        ["name": name, "type": "wechat_official_account", "enabled": true, "credentials": [
            "app_id": "wx1234567890abcdef", "app_secret": secret, "token": "tok-abcdefghijkl", "encoding_aes_key": aesKey,
        ]]
    }

    static func group(_ name: String, members: [EmployeeID] = []) -> [String: Any] {
        ["name": name, "member_ids": members.map(\.description), "per_agent_limit": 5,
         "queue": ["enabled": true, "max_length": 20, "max_wait_seconds": 300]]
    }

    static func widget(_ name: String, mode: [String: Any] = ["mode": "rules"], mounts: [[String: Any]] = []) -> [String: Any] {
        ["name": name, "style": "icon", "colour": "#12AB34", "pre_assignment_messages": ["Hello!"], "guide_rules_enabled": true,
         "reception": mode, "mount_positions": mounts, "extra_entries": [[String: Any]]()]
    }

    static func conditions(_ conditions: [[String: Any]], join: String = "all") -> [String: Any] {
        ["join": join, "conditions": conditions]
    }

    static func guideRule(_ name: String, _ conditions: [[String: Any]] = []) -> [String: Any] {
        ["name": name, "enabled": true, "conditions": Self.conditions(conditions),
         "messages": [["interval_seconds": 2, "content": ["type": "text", "text": "Welcome"]]]]
    }

    static func assignmentRule(_ name: String, _ conditions: [[String: Any]] = [], targets: [[String: Any]] = [["type": "owner"]]) -> [String: Any] {
        ["name": name, "enabled": true, "conditions": Self.conditions(conditions), "targets": targets]
    }

    static func quickReply(_ text: String = "Thanks for waiting") -> [String: Any] {
        ["category": "Greetings", "title": "Wait", "text": text]
    }
}
