import Analytics
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import KefuCore
import KefuModels
import KefuTestSupport
import Reception
import Testing

/// The analytics service under test the way it runs (real Postgres, its `analytics.facts`
/// consumer running), beside reception as a real HTTP server (time zone, high-quality definition,
/// widget keys). Routing's, accounts' and the customer library's events are made the way those
/// services make them: published to the outbox in the tenant's transaction.
struct AnalyticsHarness: Sendable {
    let client: any TestClientProtocol
    let reception: any TestClientProtocol
    let database: Database

    static func run(environment: [String: String] = [:], _ body: @escaping @Sendable (AnalyticsHarness) async throws -> Void) async throws {
        let receptionConfig = try await TestEnvironment.config(for: .reception)
        let receptionApp = try await buildApplication(ReceptionService.self, config: receptionConfig, logger: TestEnvironment.logger)
        try await TestEnvironment.withDatabase { database in
            try await receptionApp.test(.live) { reception in
                var config = try await TestEnvironment.config(for: .analytics)
                config.environment["KEFU_RECEPTION_URL"] = "http://127.0.0.1:\(reception.port!)"
                for (key, value) in environment { config.environment[key] = value }
                let app = try await buildApplication(AnalyticsService.self, config: config, logger: TestEnvironment.logger)
                try await app.test(.router) { client in
                    try await body(AnalyticsHarness(client: client, reception: reception, database: database))
                }
            }
        }
    }

    @discardableResult
    func call(_ method: HTTPRequest.Method, _ uri: String, token: String?, json: Any? = nil, headers: HTTPFields = [:]) async throws -> APIReply {
        try await client.call(method, uri, token: token, json: json, headers: headers)
    }

    /// A GET that must answer 200.
    func get(_ uri: String, token: String) async throws -> APIReply {
        let reply = try await call(.get, uri, token: token)
        try #require(reply.status == .ok, "\(uri): \(reply.status) \(reply.text)")
        return reply
    }

    // MARK: Tenants and tokens

    struct Tenant: Sendable {
        let id: TenantID
        /// Every analytics permission, the whole company.
        let admin: String
    }

    static let allPermissions: Set<Permission> = [
        .analyticsSessions, .analyticsRecords, .analyticsAgents, .analyticsMonitoring, .analyticsExport,
    ]

    func tenant(timeZone: String? = nil) async throws -> Tenant {
        let id = TenantID()
        let tenant = Tenant(id: id, admin: try await TestKeys.shared.token(tenant: id, permissions: Self.allPermissions))
        if let timeZone {
            let admin = try await TestKeys.shared.token(tenant: id, permissions: [.receptionSettings])
            let current = try await reception.call(.get, "/v1/reception/conversation-settings", token: admin).json
            let saved = try await reception.call(.put, "/v1/reception/conversation-settings", token: admin,
                                                 json: current.merging(["time_zone": timeZone]) { $1 })
            try #require(saved.status == .ok, "\(saved.text)")
        }
        return tenant
    }

    func token(_ tenant: Tenant, _ permissions: Set<Permission> = allPermissions, department: UUID? = nil, employee: EmployeeID = EmployeeID()) async throws -> String {
        try await TestKeys.shared.token(
            tenant: tenant.id, employee: employee, permissions: permissions,
            scopes: DataScopes(customers: [.all], organisation: department == nil ? .company : .myDepartment), department: department
        )
    }

    // MARK: Events

    func publish<E: KefuEvent>(_ event: E, in tenant: Tenant) async throws {
        try await database.withTenant(tenant.id) { tx in try await tx.publish(event) }
    }

    func publish(_ events: [any KefuEvent], in tenant: Tenant) async throws {
        try await database.withTenant(tenant.id) { tx in
            for event in events { try await tx.publish(event) }
        }
    }

    /// Waits until the `analytics.facts` consumer has passed every event published for `tenant`.
    func settled(_ tenant: Tenant) async throws {
        let done = try await eventually {
            try await TestEnvironment.ownerQuery("""
                SELECT coalesce((SELECT (c.last_txid, c.last_id) >= (e.txid, e.id) FROM kefu.event_cursors c WHERE c.consumer = 'analytics.facts'), false)
                FROM (SELECT txid, id FROM kefu.events WHERE tenant_id = \(tenant.id.uuid) ORDER BY txid DESC, id DESC LIMIT 1) e
                """, as: Bool.self) == [true]
        }
        try #require(done, "analytics did not apply the tenant's events")
    }

    /// An active employee in `department`, as accounts announces one.
    func agent(_ tenant: Tenant, name: String = "Agent", department: UUID? = nil) async throws -> EmployeeID {
        let id = EmployeeID()
        try await publish(EmployeeCreated(employee: EmployeeSnapshot(
            employeeId: id, account: "a\(id.description.prefix(8))", displayName: name, departmentId: department, status: "active"
        )), in: tenant)
        return id
    }

    /// Polls until `condition` holds (events travel through the outbox and NOTIFY).
    func eventually(_ condition: () async throws -> Bool) async throws -> Bool {
        try await KefuTestSupport.eventually(condition)
    }
}

/// Builds one conversation's events as routing publishes them, at chosen times.
struct ConversationScript {
    let id = ConversationID()
    let visitor: VisitorID
    let widget: UUID?
    let start: Date
    var events: [any KefuEvent] = []
    private var seq: Int64 = 0

    init(visitor: VisitorID = VisitorID(), widget: UUID? = nil, channel: String = "web", at start: Date) {
        self.visitor = visitor
        self.widget = widget
        self.start = start
        events.append(ConversationCreated(conversationId: id, visitorId: visitor, widgetId: widget, channel: channel, createdAt: start))
    }

    func at(_ seconds: Double) -> Date { start.addingTimeInterval(seconds) }

    mutating func assign(_ agent: EmployeeID, at seconds: Double, group: UUID? = nil, reason: AssignmentReason = .widget, previous: EmployeeID? = nil) {
        events.append(ConversationAssigned(conversationId: id, agentId: agent, groupId: group, reason: reason, previousAgentId: previous, assignedAt: at(seconds)))
    }

    mutating func queue(_ group: UUID, at seconds: Double) {
        events.append(ConversationQueued(conversationId: id, groupId: group, position: 1, queuedAt: at(seconds)))
    }

    mutating func say(_ sender: MessageSender, _ text: String, at seconds: Double, agent: EmployeeID? = nil, automatic: Bool = false) {
        seq += 1
        events.append(MessageCreated(conversationId: id, messageId: UUID(), seq: seq, sender: sender, senderId: agent, body: .text(text),
                                     automatic: automatic, createdAt: at(seconds)))
    }

    mutating func end(at seconds: Double, agent: EmployeeID? = nil) {
        events.append(ConversationEnded(conversationId: id, reason: .agent, agentId: agent, by: agent, endedAt: at(seconds)))
    }

    mutating func rate(_ stars: Int, labels: [String] = [], solved: Bool? = nil, at seconds: Double, agent: EmployeeID? = nil) {
        events.append(SatisfactionRated(conversationId: id, agentId: agent, stars: stars, labels: labels, solved: solved, comment: nil, ratedAt: at(seconds)))
    }

    mutating func resolve(_ resolved: Bool, by agent: EmployeeID, at seconds: Double) {
        events.append(ConversationUpdated(conversationId: id, topic: nil, resolved: resolved, by: agent, updatedAt: at(seconds)))
    }
}

extension APIReply {
    /// The CSV body's rows (without the byte-order mark), parsed.
    var csvRows: [[String]] {
        let text = self.text.hasPrefix("\u{FEFF}") ? String(self.text.dropFirst()) : self.text
        return ((try? CSV.parse(text)) ?? []).map(\.fields)
    }
}
