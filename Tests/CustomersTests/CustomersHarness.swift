import Customers
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import KefuCore
import KefuModels
import KefuTestSupport
import NIOCore
import Reception
import Testing

/// The customers service under test the way it runs (real Postgres, its event consumers
/// running), beside reception as a real HTTP server (the library reads groups' members from its
/// snapshot). Employees and routing's visitors are made the way accounts and routing make them:
/// by publishing their events.
struct CustomersHarness: Sendable {
    let client: any TestClientProtocol
    let reception: any TestClientProtocol
    let database: Database

    static func run(_ body: @escaping @Sendable (CustomersHarness) async throws -> Void) async throws {
        let receptionConfig = try await TestEnvironment.config(for: .reception)
        let receptionApp = try await buildApplication(ReceptionService.self, config: receptionConfig, logger: TestEnvironment.logger)
        try await TestEnvironment.withDatabase { database in
            try await receptionApp.test(.live) { reception in
                var config = try await TestEnvironment.config(for: .customers)
                config.environment["KEFU_RECEPTION_URL"] = "http://127.0.0.1:\(reception.port!)"
                let app = try await buildApplication(CustomersService.self, config: config, logger: TestEnvironment.logger)
                try await app.test(.router) { client in
                    try await body(CustomersHarness(client: client, reception: reception, database: database))
                }
            }
        }
    }

    @discardableResult
    func call(_ method: HTTPRequest.Method, _ uri: String, token: String?, json: Any? = nil, headers: HTTPFields = [:]) async throws -> APIReply {
        try await client.call(method, uri, token: token, json: json, headers: headers)
    }

    /// Creates a customer through the API, requiring 201; returns its id.
    func customer(_ tenant: Tenant, token: String? = nil, _ json: [String: Any] = [:]) async throws -> String {
        var body = json
        if body["name"] == nil { body["name"] = "Customer " + UUID().uuidString.prefix(6) }
        let reply = try await call(.post, "/v1/customers", token: token ?? tenant.admin, json: body)
        try #require(reply.status == .created, "\(reply.status) \(reply.text)")
        return reply.id!
    }

    // MARK: Tenants, employees, events

    struct Tenant: Sendable {
        let id: TenantID
        /// Holds every customer permission, scope all customers.
        let admin: String
        let adminID: EmployeeID
    }

    static let allPermissions: Set<Permission> = [
        .customersView, .customersEdit, .customersImport, .customersExport, .customersPool, .customersDelete, .customersFields,
        .customersScoringRules, .customersEntryRules, .customersPrivateRemarks, .customersPortrait,
    ]

    func tenant() async throws -> Tenant {
        let id = TenantID()
        let admin = EmployeeID()
        return Tenant(id: id, admin: try await TestKeys.shared.token(tenant: id, employee: admin, permissions: Self.allPermissions), adminID: admin)
    }

    func token(
        _ tenant: Tenant, _ permissions: Set<Permission> = allPermissions, employee: EmployeeID = EmployeeID(),
        scopes: Set<CustomerDataScope> = [.all]
    ) async throws -> String {
        try await TestKeys.shared.token(
            tenant: tenant.id, employee: employee, permissions: permissions, scopes: DataScopes(customers: scopes, organisation: .company)
        )
    }

    /// A CSV file posted to the import (`POST /v1/customers/import`).
    func upload(_ csv: String, token: String) async throws -> APIReply {
        try await upload(bytes: Array(csv.utf8), token: token)
    }

    func upload(bytes: [UInt8], token: String) async throws -> APIReply {
        try await client.execute(
            uri: "/v1/customers/import", method: .post,
            headers: [.authorization: "Bearer \(token)", .contentType: "text/csv"], body: ByteBuffer(bytes: bytes)
        ) { APIReply(status: $0.status, headers: $0.headers, body: Data(buffer: $0.body)) }
    }

    func publish<E: KefuEvent>(_ event: E, in tenant: Tenant) async throws {
        try await database.withTenant(tenant.id) { tx in try await tx.publish(event) }
    }

    /// A new active employee of `tenant`, once the customer library (and reception, for groups)
    /// has projected it.
    func employee(in tenant: Tenant) async throws -> EmployeeID {
        let id = EmployeeID()
        try await publish(EmployeeCreated(employee: snapshot(id, status: "active")), in: tenant)
        try #require(try await eventually {
            let agents = try await TestEnvironment.ownerQuery(
                "SELECT count(*)::int FROM reception.agents WHERE tenant_id = \(tenant.id.uuid) AND employee_id = \(id.uuid)", as: Int.self)
            return try await employeeStatus(id, in: tenant) == "active" && agents == [1]
        }, "employee was not projected")
        return id
    }

    /// A reception group of `members`, once the customer library knows its members; its id.
    func group(in tenant: Tenant, members: [EmployeeID]) async throws -> UUID {
        let admin = try await TestKeys.shared.token(tenant: tenant.id, permissions: [.receptionGroups])
        let reply = try await reception.call(.post, "/v1/groups", token: admin, json: [
            "name": "G" + UUID().uuidString.prefix(6), "member_ids": members.map(\.description), "per_agent_limit": 3,
            "queue": ["enabled": true, "max_length": 10, "max_wait_seconds": 300],
        ])
        try #require(reply.status == .created, "\(reply.text)")
        let id = try #require(UUID(uuidString: reply.id ?? ""))
        try #require(try await eventually {
            try await TestEnvironment.ownerQuery(
                "SELECT count(*)::int FROM customers.group_members WHERE tenant_id = \(tenant.id.uuid) AND group_id = \(id)", as: Int.self
            ) == [members.count]
        }, "the group's members did not reach the customer library")
        return id
    }

    func snapshot(_ id: EmployeeID, status: String) -> EmployeeSnapshot {
        EmployeeSnapshot(employeeId: id, account: "a\(id.description.prefix(8))", displayName: "Agent", departmentId: nil, status: status)
    }

    func employeeStatus(_ id: EmployeeID, in tenant: Tenant) async throws -> String? {
        try await TestEnvironment.ownerQuery(
            "SELECT status FROM customers.employees WHERE tenant_id = \(tenant.id.uuid) AND employee_id = \(id.uuid)", as: String.self
        ).first
    }

    /// The payloads of `type` events published for `tenant`, oldest first.
    func events<E: KefuEvent>(_ type: E.Type, in tenant: Tenant) async throws -> [E] {
        try await TestEnvironment.ownerQuery(
            "SELECT payload::text FROM kefu.events WHERE tenant_id = \(tenant.id.uuid) AND type = \(E.eventType) ORDER BY id",
            as: String.self
        ).map { try KefuJSON.decoder().decode(E.self, from: Data($0.utf8)) }
    }

    /// Polls until `condition` holds (events travel through the outbox and NOTIFY).
    func eventually(_ condition: () async throws -> Bool) async throws -> Bool {
        // The contacts consumer builds a contact from every test's visitors, one transaction per
        // event: under the whole suite it runs well behind, so its effects get a longer budget.
        try await KefuTestSupport.eventually(within: .seconds(120), condition)
    }
}
