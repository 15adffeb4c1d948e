import Accounts
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import KefuCore
import KefuModels
import KefuTestSupport
import Testing

/// An accounts service under test (real Postgres, real SMS gateway over HTTP) and helpers that
/// speak its API the way a client would.
struct AccountsHarness: Sendable {
    let client: any TestClientProtocol
    let sms: SMSInbox

    /// `live`: over a real socket (requests then come from 127.0.0.1), for what depends on the
    /// client's address.
    static func run(
        environment: [String: String] = [:], live: Bool = false, _ body: @escaping @Sendable (AccountsHarness) async throws -> Void
    ) async throws {
        try await withSMSGateway { url, inbox in
            var config = try await TestEnvironment.config(for: .accounts)
            config.environment["KEFU_SMS_WEBHOOK_URL"] = url
            config.environment.merge(environment) { $1 }
            let app = try await buildApplication(AccountsService.self, config: config, logger: TestEnvironment.logger)
            try await app.test(live ? .live : .router) { client in
                try await body(AccountsHarness(client: client, sms: inbox))
            }
        }
    }

    // MARK: Requests

    @discardableResult
    func call(_ method: HTTPRequest.Method, _ uri: String, token: String? = nil, json: Any? = nil) async throws -> APIReply {
        try await client.call(method, uri, token: token, json: json)
    }

    // MARK: Tenants and sign-in

    struct Tenant: Sendable {
        let id: String
        let slug: String
        let adminID: String
        let adminAccount: String
        let adminPhone: String
        let adminToken: String
    }

    static let password = "Secret123"

    func createTenant(seats: Int = 20) async throws -> Tenant {
        let slug = "t-" + UUID().uuidString.prefix(12).lowercased()
        let phone = "138" + String(Int.random(in: 10_000_000...99_999_999))
        let created = try await call(.post, "/v1/platform/tenants", token: TestEnvironment.platformToken, json: [
            "slug": slug, "name": "Tenant \(slug)", "seat_limit": seats,
            "admin": ["account": "admin", "password": Self.password, "display_name": "Admin", "phone": phone],
        ])
        try #require(created.status == .created, "\(String(decoding: created.body, as: UTF8.self))")
        let tenant = created.json["tenant"] as! [String: Any]
        let admin = created.json["admin"] as! [String: Any]
        let token = try await signInWithSecondFactor(slug: slug, account: "admin", password: Self.password, phone: phone)
        return Tenant(
            id: tenant["id"] as! String, slug: slug, adminID: admin["id"] as! String, adminAccount: "admin",
            adminPhone: phone, adminToken: token.accessToken
        )
    }

    struct Tokens: Sendable {
        let accessToken: String
        let refreshToken: String
    }

    func signIn(slug: String, account: String, password: String = AccountsHarness.password) async throws -> APIReply {
        try await call(.post, "/v1/auth/login", json: ["tenant": slug, "account": account, "password": password])
    }

    func signInWithSecondFactor(slug: String, account: String, password: String, phone: String) async throws -> Tokens {
        let login = try await signIn(slug: slug, account: account, password: password)
        try #require(login.status == .ok && login.json["mfa_required"] as? Bool == true, "\(login.status) \(String(decoding: login.body, as: UTF8.self))")
        let code = try await sms.code(for: phone)
        let verified = try await call(.post, "/v1/auth/mfa", json: [
            "tenant": slug, "challenge_id": login.string("challenge_id")!, "code": code,
        ])
        try #require(verified.status == .ok, "\(verified.json)")
        return Tokens(accessToken: verified.string("access_token")!, refreshToken: verified.string("refresh_token")!)
    }

    /// An employee holding a new role with exactly `permissions` (none sensitive, so no second
    /// factor), signed in.
    func employee(
        in tenant: Tenant, permissions: [String], organisation: String = "company", departmentID: String? = nil,
        account: String? = nil, phone: String? = nil, hidePhone: Bool = false
    ) async throws -> (id: String, account: String, token: String, refreshToken: String) {
        let account = account ?? "e" + UUID().uuidString.prefix(8).lowercased()
        var roleIDs: [String] = []
        if !permissions.isEmpty {
            let role = try await call(.post, "/v1/roles", token: tenant.adminToken, json: [
                "name": String(account.prefix(10)), "permissions": permissions,
                "data_scopes": ["customers": ["mine"], "organisation": organisation],
            ])
            try #require(role.status == .created, "\(role.json)")
            roleIDs = [role.string("id")!]
        }
        var body: [String: Any] = [
            "account": account, "password": Self.password, "display_name": "Employee \(account)", "role_ids": roleIDs,
            "hide_phone": hidePhone,
        ]
        if let departmentID { body["department_id"] = departmentID }
        if let phone { body["phone"] = phone }
        let created = try await call(.post, "/v1/employees", token: tenant.adminToken, json: body)
        try #require(created.status == .created, "\(created.json)")
        let login = try await signIn(slug: tenant.slug, account: account)
        try #require(login.status == .ok && login.string("access_token") != nil, "\(login.json)")
        return (created.string("id")!, account, login.string("access_token")!, login.string("refresh_token")!)
    }

    struct Member: Sendable {
        let id: String
        let account: String
        let phone: String
        let roleID: String
        let tokens: Tokens
        var token: String { tokens.accessToken }
    }

    /// An employee holding a new role with `permissions` and these data scopes (sensitive ones
    /// allowed: it has a phone and signs in with the second factor).
    func member(
        in tenant: Tenant, permissions: [String], customers: [String] = ["all"], organisation: String = "company",
        departmentID: String? = nil
    ) async throws -> Member {
        let account = "m" + UUID().uuidString.prefix(8).lowercased()
        let phone = "139" + String(Int.random(in: 10_000_000...99_999_999))
        let role = try await call(.post, "/v1/roles", token: tenant.adminToken, json: [
            "name": String(account.prefix(10)), "permissions": permissions,
            "data_scopes": ["customers": customers, "organisation": organisation],
        ])
        try #require(role.status == .created, "\(role.json)")
        var body: [String: Any] = [
            "account": account, "password": Self.password, "display_name": "Member \(account)", "role_ids": [role.string("id")!],
            "phone": phone,
        ]
        if let departmentID { body["department_id"] = departmentID }
        let created = try await call(.post, "/v1/employees", token: tenant.adminToken, json: body)
        try #require(created.status == .created, "\(created.json)")
        let needsCode = permissions.contains { Permission(rawValue: $0).isSensitive }
        let tokens: Tokens
        if needsCode {
            tokens = try await signInWithSecondFactor(slug: tenant.slug, account: account, password: Self.password, phone: phone)
        } else {
            let login = try await signIn(slug: tenant.slug, account: account)
            tokens = Tokens(accessToken: login.string("access_token")!, refreshToken: login.string("refresh_token")!)
        }
        return Member(id: created.string("id")!, account: account, phone: phone, roleID: role.string("id")!, tokens: tokens)
    }

    func department(in tenant: Tenant, name: String, parent: String? = nil) async throws -> String {
        var body: [String: Any] = ["name": name]
        if let parent { body["parent_id"] = parent }
        let created = try await call(.post, "/v1/departments", token: tenant.adminToken, json: body)
        try #require(created.status == .created, "\(created.json)")
        return created.string("id")!
    }

    /// `count` requests at once (real parallel requests, for races), their replies in any order.
    func concurrently(_ count: Int, _ request: @escaping @Sendable (Int) async throws -> APIReply) async throws -> [APIReply] {
        try await withThrowingTaskGroup(of: APIReply.self) { group in
            for index in 0..<count { group.addTask { try await request(index) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
    }

    static func newPhone() -> String { "139" + String(Int.random(in: 10_000_000...99_999_999)) }

    /// Waits until the revocation event has reached this process's list (it travels through the
    /// outbox and NOTIFY, so it takes a moment).
    func eventually(_ condition: @Sendable () async throws -> Bool) async throws -> Bool {
        try await KefuTestSupport.eventually(condition)
    }
}
