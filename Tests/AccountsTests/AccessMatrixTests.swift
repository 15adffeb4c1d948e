import Foundation
import HTTPTypes
import KefuModels
import KefuTestSupport
import Testing

/// Every protected route: 401 without credentials, 403 without its permission, 404 for another
/// tenant's ids (never revealing that they exist).
@Suite struct AccessMatrixTests {
    struct Route: Sendable, CustomStringConvertible {
        let method: HTTPRequest.Method
        let path: String
        let body: [String: any Sendable]?
        /// False for routes any signed-in employee may use.
        let needsPermission: Bool

        var description: String { "\(method) \(path)" }
    }

    /// `{employee}`, `{department}`, `{role}`, `{key}`, `{webhook}`, `{delivery}` are filled with one tenant's ids.
    static let routes: [Route] = [
        Route(method: .get, path: "/v1/employees", body: nil, needsPermission: true),
        Route(method: .post, path: "/v1/employees", body: ["account": "x1", "password": "Secret123", "display_name": "X"], needsPermission: true),
        Route(method: .get, path: "/v1/employees/counts", body: nil, needsPermission: true),
        Route(method: .get, path: "/v1/employees/{employee}", body: nil, needsPermission: true),
        Route(method: .patch, path: "/v1/employees/{employee}", body: ["display_name": "Y"], needsPermission: true),
        Route(method: .delete, path: "/v1/employees/{employee}", body: nil, needsPermission: true),
        Route(method: .post, path: "/v1/employees/{employee}/disable", body: nil, needsPermission: true),
        Route(method: .post, path: "/v1/employees/{employee}/enable", body: nil, needsPermission: true),
        Route(method: .put, path: "/v1/employees/{employee}/roles", body: ["role_ids": [String]()], needsPermission: true),
        Route(method: .post, path: "/v1/employees/{employee}/handover", body: ["to_employee_id": UUID().uuidString], needsPermission: true),
        Route(method: .post, path: "/v1/employees/{employee}/phone-confirmation", body: ["code": "123456"], needsPermission: true),
        Route(method: .post, path: "/v1/employees/password-resets", body: ["employee_ids": ["{employee}"], "new_password": "Secret123"], needsPermission: true),
        Route(method: .get, path: "/v1/handovers", body: nil, needsPermission: true),
        Route(method: .get, path: "/v1/organisation/export", body: nil, needsPermission: true),
        Route(method: .get, path: "/v1/departments", body: nil, needsPermission: true),
        Route(method: .post, path: "/v1/departments", body: ["name": "D"], needsPermission: true),
        Route(method: .get, path: "/v1/departments/{department}", body: nil, needsPermission: true),
        Route(method: .patch, path: "/v1/departments/{department}", body: ["name": "E"], needsPermission: true),
        Route(method: .delete, path: "/v1/departments/{department}", body: nil, needsPermission: true),
        Route(method: .get, path: "/v1/roles", body: nil, needsPermission: true),
        Route(method: .post, path: "/v1/roles", body: ["name": "r", "permissions": [String]()], needsPermission: true),
        Route(method: .get, path: "/v1/roles/{role}", body: nil, needsPermission: true),
        Route(method: .patch, path: "/v1/roles/{role}", body: ["name": "s"], needsPermission: true),
        Route(method: .delete, path: "/v1/roles/{role}", body: nil, needsPermission: true),
        Route(method: .get, path: "/v1/api-keys", body: nil, needsPermission: true),
        Route(method: .post, path: "/v1/api-keys", body: ["name": "k", "permissions": ["client.login"]], needsPermission: true),
        Route(method: .get, path: "/v1/api-keys/{key}", body: nil, needsPermission: true),
        Route(method: .delete, path: "/v1/api-keys/{key}", body: nil, needsPermission: true),
        Route(method: .get, path: "/v1/webhook-event-types", body: nil, needsPermission: true),
        Route(method: .get, path: "/v1/webhooks", body: nil, needsPermission: true),
        Route(method: .post, path: "/v1/webhooks", body: ["url": "https://a.example/h", "event_types": ["employee.created"]], needsPermission: true),
        Route(method: .get, path: "/v1/webhooks/{webhook}", body: nil, needsPermission: true),
        Route(method: .patch, path: "/v1/webhooks/{webhook}", body: ["enabled": false], needsPermission: true),
        Route(method: .delete, path: "/v1/webhooks/{webhook}", body: nil, needsPermission: true),
        Route(method: .post, path: "/v1/webhooks/{webhook}/rotate-secret", body: nil, needsPermission: true),
        Route(method: .get, path: "/v1/webhooks/{webhook}/deliveries", body: nil, needsPermission: true),
        Route(method: .get, path: "/v1/webhooks/{webhook}/deliveries/{delivery}", body: nil, needsPermission: true),
        Route(method: .post, path: "/v1/webhooks/{webhook}/deliveries/{delivery}/redeliver", body: nil, needsPermission: true),
        Route(method: .post, path: "/v1/webhooks/{webhook}/test", body: nil, needsPermission: true),
        Route(method: .post, path: "/v1/webhooks/{webhook}/replay", body: ["since": "2026-01-01T00:00:00Z", "until": "2026-01-02T00:00:00Z"], needsPermission: true),
        Route(method: .get, path: "/v1/audit-log", body: nil, needsPermission: true),
        Route(method: .get, path: "/v1/permissions", body: nil, needsPermission: false),
        Route(method: .get, path: "/v1/me", body: nil, needsPermission: false),
        Route(method: .post, path: "/v1/me/password", body: ["old_password": "x", "new_password": "Secret123"], needsPermission: false),
        Route(method: .post, path: "/v1/auth/logout", body: nil, needsPermission: false),
    ]

    struct Ids: Sendable {
        let values: [String: String]

        func fill(_ text: String) -> String {
            values.reduce(text) { $0.replacingOccurrences(of: "{\($1.key)}", with: $1.value) }
        }

        func fill(_ body: [String: any Sendable]?) -> [String: Any]? {
            body?.mapValues { value -> Any in
                if let text = value as? String { return fill(text) }
                if let list = value as? [String] { return list.map(fill) }
                return value
            }
        }
    }

    /// A department, role, API key and webhook of `tenant`, and an employee in it.
    func resources(of tenant: AccountsHarness.Tenant, _ h: AccountsHarness) async throws -> Ids {
        let department = try await h.department(in: tenant, name: "Matrix")
        let role = try await h.call(.post, "/v1/roles", token: tenant.adminToken, json: ["name": "matrix", "permissions": ["client.login"]])
        let employee = try await h.call(.post, "/v1/employees", token: tenant.adminToken, json: [
            "account": "target", "password": AccountsHarness.password, "display_name": "Target", "department_id": department,
        ])
        let key = try await h.call(.post, "/v1/api-keys", token: tenant.adminToken, json: ["name": "k", "permissions": ["client.login"]])
        let webhook = try await h.call(.post, "/v1/webhooks", token: tenant.adminToken, json: [
            "url": "https://a.example/h", "event_types": ["employee.created"],
        ])
        let delivery = try await h.call(.post, "/v1/webhooks/\(webhook.string("id")!)/test", token: tenant.adminToken)
        return Ids(values: [
            "employee": employee.string("id")!, "department": department, "role": role.string("id")!,
            "key": key.string("id")!, "webhook": webhook.string("id")!, "delivery": delivery.string("id")!,
        ])
    }

    @Test func everyRouteNeedsCredentialsAndItsPermission() async throws {
        try await AccountsHarness.run { h in
            let tenant = try await h.createTenant()
            let ids = try await resources(of: tenant, h)
            // A real employee holding nothing but the right to sign in.
            let nobody = try await h.employee(in: tenant, permissions: ["client.login"])
            for route in Self.routes {
                let path = ids.fill(route.path)
                let anonymous = try await h.call(route.method, path, json: ids.fill(route.body))
                #expect(anonymous.status == .unauthorized, "\(route) without credentials")
                if route.needsPermission {
                    let forbidden = try await h.call(route.method, path, token: nobody.token, json: ids.fill(route.body))
                    #expect(forbidden.status == .forbidden, "\(route) without the permission")
                    #expect(forbidden.code == "permission_denied", "\(route)")
                }
            }
            // Nothing was changed by the refused requests.
            let target = try await h.call(.get, "/v1/employees/\(ids.values["employee"]!)", token: tenant.adminToken)
            #expect(target.string("status") == "active")
            #expect(target.string("display_name") == "Target")
        }
    }

    @Test func anotherTenantsIdsAreNotFound() async throws {
        try await AccountsHarness.run { h in
            let victim = try await h.createTenant()
            let ids = try await resources(of: victim, h)
            let attacker = try await h.createTenant()
            for route in Self.routes where route.path.contains("{") || route.body.map({ "\($0)".contains("{") }) == true {
                let reply = try await h.call(route.method, ids.fill(route.path), token: attacker.adminToken, json: ids.fill(route.body))
                let hidden = reply.status == .notFound || (reply.status == .unprocessableContent && reply.fields.allSatisfy { $0.hasPrefix("employee_ids") })
                #expect(hidden, "\(route) with another tenant's id answered \(reply.status)")
            }
            // The victim's records are untouched.
            let employee = try await h.call(.get, "/v1/employees/\(ids.values["employee"]!)", token: victim.adminToken)
            #expect(employee.string("status") == "active")
            #expect(employee.string("display_name") == "Target")
            #expect(try await h.call(.get, "/v1/webhooks/\(ids.values["webhook"]!)", token: victim.adminToken).json["enabled"] as? Bool == true)
            #expect(try await h.call(.get, "/v1/api-keys/\(ids.values["key"]!)", token: victim.adminToken).json["revoked_at"] == nil)
            #expect(try await h.call(.get, "/v1/departments/\(ids.values["department"]!)", token: victim.adminToken).status == .ok)
            #expect(try await h.call(.get, "/v1/roles/\(ids.values["role"]!)", token: victim.adminToken).status == .ok)
            // Lists show only the caller's own records.
            let employees = try await h.call(.get, "/v1/employees", token: attacker.adminToken)
            #expect(!employees.data.contains { $0["id"] as? String == ids.values["employee"] })
        }
    }

    @Test func aForgedTenantClaimReachesNothing() async throws {
        try await AccountsHarness.run { h in
            let victim = try await h.createTenant()
            // A token for a tenant that does not exist, holding every permission.
            let forged = try await TestKeys.shared.token(
                tenant: TenantID(), permissions: Set(PermissionCatalogue.all.map(\.key))
            )
            let employees = try await h.call(.get, "/v1/employees/\(victim.adminID)", token: forged)
            #expect(employees.status == .notFound)
            #expect(try await h.call(.get, "/v1/employees", token: forged).data.isEmpty)
        }
    }

    /// Every route taking a body refuses a bad one with 422 naming the field, and writes nothing.
    @Test func everyBodyIsValidatedNamingTheField() async throws {
        try await AccountsHarness.run { h in
            let tenant = try await h.createTenant()
            let ids = try await resources(of: tenant, h)
            let cases: [(HTTPRequest.Method, String, [String: Any], String)] = [
                (.post, "/v1/employees", ["account": "ok.name", "password": "Secret123", "display_name": 7], "display_name"),
                (.patch, "/v1/employees/{employee}", ["display_name": NSNull()], "display_name"),
                (.put, "/v1/employees/{employee}/roles", ["role_ids": ["not-a-uuid"]], "role_ids[0]"),
                (.put, "/v1/employees/{employee}/roles", ["role_ids": [UUID().uuidString]], "role_ids[0]"),
                (.post, "/v1/employees/{employee}/handover", ["note": "x"], "to_employee_id"),
                (.post, "/v1/employees/password-resets", ["employee_ids": [String](), "new_password": "Secret123"], "employee_ids"),
                (.post, "/v1/employees/{employee}/phone-confirmation", ["code": 123456], "code"),
                (.post, "/v1/api-keys", ["name": "k", "permissions": ["client.login"], "expires_at": "yesterday"], "expires_at"),
                (.post, "/v1/departments", ["name": String(repeating: "x", count: 51)], "name"),
                (.patch, "/v1/departments/{department}", ["name": NSNull()], "name"),
                (.post, "/v1/roles", ["name": "ok", "permissions": "client.login"], "permissions"),
                (.patch, "/v1/roles/{role}", ["name": "elevenchars"], "name"),
                (.post, "/v1/api-keys", ["name": "k"], "permissions"),
                (.post, "/v1/webhooks", ["url": "not a url", "event_types": ["employee.created"]], "url"),
                (.patch, "/v1/webhooks/{webhook}", ["event_types": ["no.such"]], "event_types[0]"),
                (.post, "/v1/webhooks/{webhook}/replay", ["until": "2026-01-02T00:00:00Z"], "since"),
                (.post, "/v1/webhooks/{webhook}/replay", ["since": "2026-01-02T00:00:00Z", "until": "2026-01-01T00:00:00Z"], "until"),
                (.post, "/v1/me/password", ["old_password": AccountsHarness.password], "new_password"),
                (.post, "/v1/auth/login", ["tenant": tenant.slug, "account": "admin"], "password"),
                (.post, "/v1/auth/mfa", ["tenant": tenant.slug, "challenge_id": "x", "code": "123456"], "challenge_id"),
                (.post, "/v1/auth/refresh", [:], "refresh_token"),
                (.post, "/v1/auth/api-key-token", ["api_key": 42], "api_key"),
                (.post, "/v1/auth/password/forgot", ["tenant": tenant.slug], "account"),
                (.post, "/v1/auth/password/reset", ["tenant": tenant.slug, "challenge_id": UUID().uuidString, "code": "1", "new_password": "weak"], "new_password"),
                (.patch, "/v1/platform/tenants/\(tenant.id)", ["seat_limit": "many"], "seat_limit"),
            ]
            let before = try await h.call(.get, "/v1/audit-log?limit=200", token: tenant.adminToken).data.count
            for (method, path, body, field) in cases {
                let token = path.hasPrefix("/v1/platform") ? TestEnvironment.platformToken : tenant.adminToken
                let reply = try await h.call(method, ids.fill(path), token: token, json: body)
                #expect(reply.status == .unprocessableContent, "\(method) \(path)")
                #expect(reply.fields.contains(field), "\(method) \(path) names \(field): \(reply.fields)")
            }
            let after = try await h.call(.get, "/v1/audit-log?limit=200", token: tenant.adminToken).data.count
            #expect(after == before, "no refused request wrote anything")
        }
    }
}
