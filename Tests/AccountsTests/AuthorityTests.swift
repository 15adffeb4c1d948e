import Foundation
import HTTPTypes
import KefuModels
import KefuTestSupport
import Testing

/// "Nobody acts above themselves" (DOMAIN.md §1; issue 9 findings 1 and 4): every route that acts
/// on an employee or a role refuses a caller whose permissions and data scopes do not contain the
/// target's, and only a super admin acts on a super admin.
@Suite struct AuthorityTests {
    /// Every route acting on one employee (`{target}`) or role (`{role}`), with a body that would
    /// succeed for a caller allowed to act. `{me}` is the caller.
    static let actions: [(HTTPRequest.Method, String, [String: any Sendable]?)] = [
        (.patch, "/v1/employees/{target}", ["display_name": "Taken over"]),
        (.patch, "/v1/employees/{target}", ["phone": "13900000000"]),
        (.delete, "/v1/employees/{target}", nil),
        (.post, "/v1/employees/{target}/disable", nil),
        (.post, "/v1/employees/{target}/enable", nil),
        (.put, "/v1/employees/{target}/roles", ["role_ids": [String]()]),
        (.post, "/v1/employees/{target}/handover", ["to_employee_id": "{me}"]),
        (.post, "/v1/employees/{target}/phone-confirmation", ["code": "123456"]),
        (.post, "/v1/employees/password-resets", ["employee_ids": ["{target}"], "new_password": "Taken0ver1"]),
        (.patch, "/v1/roles/{role}", ["name": "renamed"]),
        (.delete, "/v1/roles/{role}", nil),
    ]

    func fill(_ text: String, _ values: [String: String]) -> String {
        values.reduce(text) { $0.replacingOccurrences(of: "{\($1.key)}", with: $1.value) }
    }

    func fill(_ body: [String: any Sendable]?, _ values: [String: String]) -> [String: Any]? {
        body?.mapValues { value -> Any in
            if let text = value as? String { return fill(text, values) }
            if let list = value as? [String] { return list.map { fill($0, values) } }
            return value
        }
    }

    /// Runs every action as `caller` against `target` (holding `role`) and expects each refused
    /// with 403, leaving the target as it was.
    func expectRefused(
        caller: String, callerID: String, target: String, targetAccount: String, role: String, tenant: AccountsHarness.Tenant,
        _ h: AccountsHarness, _ comment: String
    ) async throws {
        let values = ["target": target, "role": role, "me": callerID]
        let before = try await h.call(.get, "/v1/employees/\(target)", token: tenant.adminToken)
        for (method, path, body) in Self.actions {
            let reply = try await h.call(method, fill(path, values), token: caller, json: fill(body, values))
            #expect(reply.status == .forbidden, "\(comment): \(method) \(path) answered \(reply.status) \(reply.text)")
            #expect(["target_outranks_caller", "permission_not_held", "scope_not_held", "super_admin_only"].contains(reply.code ?? ""), "\(comment): \(method) \(path) \(reply.code ?? "")")
        }
        let update = try await h.csv("/v1/employees/batch-update", token: caller, "account,display_name,phone\n\(targetAccount),Taken over,13900000000\n")
        #expect(h.rows(update).map(\.result) == ["failed"], "\(comment): CSV batch update")
        #expect((update.json["rows"] as? [[String: Any]])?.first.flatMap { ($0["errors"] as? [[String: Any]])?.first?["code"] as? String } == "target_outranks_caller")
        let after = try await h.call(.get, "/v1/employees/\(target)", token: tenant.adminToken)
        #expect(NSDictionary(dictionary: after.json) == NSDictionary(dictionary: before.json), "\(comment): the target is unchanged")
        #expect(try await h.call(.get, "/v1/roles/\(role)", token: tenant.adminToken).status == .ok, "\(comment): the role still exists")
        #expect(await h.sms.messages.allSatisfy { $0.phone != "13900000000" }, "\(comment): no code went to the attacker's phone")
    }

    @Test func aCallerWithFewerPermissionsOrScopesThanTheTargetIsRefusedOnEveryRoute() async throws {
        try await AccountsHarness.run { h in
            let tenant = try await h.createTenant()
            let manage = ["client.login", "enterprise.organisation", "enterprise.roles", "enterprise.api_keys"]
            let caller = try await h.member(in: tenant, permissions: manage, customers: ["mine"])
            // Above the caller by one permission …
            let richer = try await h.member(in: tenant, permissions: manage + ["customers.export"], customers: ["mine"])
            try await expectRefused(caller: caller.token, callerID: caller.id, target: richer.id, targetAccount: richer.account,
                                    role: richer.roleID, tenant: tenant, h, "more permissions")
            // … or by one data scope.
            let wider = try await h.member(in: tenant, permissions: ["client.login"], customers: ["mine", "company_pool"])
            try await expectRefused(caller: caller.token, callerID: caller.id, target: wider.id, targetAccount: wider.account,
                                    role: wider.roleID, tenant: tenant, h, "wider data scope")
            // Within the caller, the same routes work.
            let within = try await h.member(in: tenant, permissions: ["client.login"], customers: ["mine"])
            let edited = try await h.call(.patch, "/v1/employees/\(within.id)", token: caller.token, json: ["display_name": "Fine"])
            #expect(edited.status == .ok)
            let reset = try await h.call(.post, "/v1/employees/password-resets", token: caller.token, json: [
                "employee_ids": [within.id], "new_password": "Another123",
            ])
            #expect(reset.status == .ok)
        }
    }

    @Test func onlyASuperAdminActsOnASuperAdmin() async throws {
        try await AccountsHarness.run { h in
            let tenant = try await h.createTenant()
            // Every permission and every scope, but not the super admin role.
            let everything = PermissionCatalogue.all.map(\.key.rawValue)
            let deputy = try await h.member(in: tenant, permissions: everything, customers: ["all"])
            let superRole = try await h.call(.get, "/v1/roles", token: tenant.adminToken).data.first { $0["kind"] as? String == "super_admin" }!
            try await expectRefused(caller: deputy.token, callerID: deputy.id, target: tenant.adminID, targetAccount: tenant.adminAccount,
                                    role: superRole["id"] as! String, tenant: tenant, h, "super admin target")
            // Nor can the deputy make anyone (another employee) a super admin.
            let agent = try await h.member(in: tenant, permissions: ["client.login"])
            let grant = try await h.call(.put, "/v1/employees/\(agent.id)/roles", token: deputy.token, json: ["role_ids": [superRole["id"] as! String]])
            #expect(grant.status == .forbidden)
            #expect(grant.code == "super_admin_only")
            // The super admin can.
            let granted = try await h.call(.put, "/v1/employees/\(agent.id)/roles", token: tenant.adminToken, json: ["role_ids": [superRole["id"] as! String]])
            #expect(granted.status == .ok)
        }
    }

    /// The reproduction of finding 1: the 客服主管 template re-phones the super admin, resets their
    /// password and signs in as them with the code sent to the new phone.
    @Test func theSupervisorTemplateCannotTakeOverTheSuperAdmin() async throws {
        try await AccountsHarness.run { h in
            let tenant = try await h.createTenant()
            let supervisorRole = try await h.call(.get, "/v1/roles", token: tenant.adminToken).data.first { $0["name"] as? String == "客服主管" }!
            let phone = "137" + String(Int.random(in: 10_000_000...99_999_999))
            let created = try await h.call(.post, "/v1/employees", token: tenant.adminToken, json: [
                "account": "boss", "password": AccountsHarness.password, "display_name": "Boss", "phone": phone,
                "role_ids": [supervisorRole["id"] as! String],
            ])
            try #require(created.status == .created)
            let supervisor = try await h.signInWithSecondFactor(slug: tenant.slug, account: "boss", password: AccountsHarness.password, phone: phone)
            let rephone = try await h.call(.patch, "/v1/employees/\(tenant.adminID)", token: supervisor.accessToken, json: ["phone": phone])
            #expect(rephone.status == .forbidden)
            let reset = try await h.call(.post, "/v1/employees/password-resets", token: supervisor.accessToken, json: [
                "employee_ids": [tenant.adminID], "new_password": "Taken0ver1",
            ])
            #expect(reset.status == .forbidden)
            #expect(try await h.signIn(slug: tenant.slug, account: "admin", password: "Taken0ver1").status == .unauthorized)
            let admin = try await h.call(.get, "/v1/employees/\(tenant.adminID)", token: tenant.adminToken)
            #expect(admin.string("phone") == tenant.adminPhone)
        }
    }

    /// Finding 4: a role's data scopes stay within the caller's, and nobody changes their own roles.
    @Test func rolesStayWithinTheCallersScopesAndNobodyRerolesThemselves() async throws {
        try await AccountsHarness.run { h in
            let tenant = try await h.createTenant()
            let department = try await h.department(in: tenant, name: "Local")
            let local = try await h.member(
                in: tenant, permissions: ["client.login", "enterprise.organisation", "enterprise.roles"], customers: ["mine"],
                organisation: "my_department", departmentID: department
            )
            let wide = try await h.call(.post, "/v1/roles", token: local.token, json: [
                "name": "wide", "permissions": ["client.login"], "data_scopes": ["customers": ["mine"], "organisation": "company"],
            ])
            #expect(wide.status == .forbidden)
            #expect(wide.code == "scope_not_held")
            let allCustomers = try await h.call(.post, "/v1/roles", token: local.token, json: [
                "name": "wide2", "permissions": ["client.login"], "data_scopes": ["customers": ["all"], "organisation": "my_department"],
            ])
            #expect(allCustomers.code == "scope_not_held")
            // Widening a role the caller may edit is refused the same way.
            let narrow = try await h.call(.post, "/v1/roles", token: local.token, json: [
                "name": "narrow", "permissions": ["client.login"], "data_scopes": ["customers": ["mine"], "organisation": "my_department"],
            ])
            try #require(narrow.status == .created)
            let widened = try await h.call(.patch, "/v1/roles/\(narrow.id!)", token: local.token, json: [
                "data_scopes": ["organisation": "company"],
            ])
            #expect(widened.code == "scope_not_held")
            // Own roles: refused even when the role is within the caller.
            let own = try await h.call(.put, "/v1/employees/\(local.id)/roles", token: local.token, json: ["role_ids": [narrow.id!, local.roleID]])
            #expect(own.status == .forbidden)
            #expect(own.code == "cannot_change_own_roles")
            let me = try await h.call(.get, "/v1/me", token: local.token)
            #expect((me.json["data_scopes"] as? [String: Any])?["organisation"] as? String == "my_department")
        }
    }

    /// A changed phone takes effect only with the code sent to it; the old number is told.
    @Test func aNewPhoneWaitsForItsCodeAndTheOldNumberIsTold() async throws {
        try await AccountsHarness.run { h in
            let tenant = try await h.createTenant()
            let agent = try await h.member(in: tenant, permissions: ["client.login"])
            let newPhone = "136" + String(Int.random(in: 10_000_000...99_999_999))
            let patched = try await h.call(.patch, "/v1/employees/\(agent.id)", token: tenant.adminToken, json: ["phone": newPhone])
            #expect(patched.status == .ok)
            #expect(patched.string("phone") == agent.phone, "the old number stays until confirmed")
            #expect(patched.string("pending_phone") == newPhone)
            let code = try await h.sms.code(for: newPhone)
            #expect(try await h.eventually { await h.sms.messages.contains { $0.phone == agent.phone && $0.message.contains("being changed") } })
            // A wrong code is counted and refused; the right one applies the change.
            let wrong = try await h.call(.post, "/v1/employees/\(agent.id)/phone-confirmation", token: agent.token,
                                         json: ["code": code == "000000" ? "111111" : "000000"])
            #expect(wrong.status == .unprocessableContent)
            #expect(wrong.fields == ["code"])
            let confirmed = try await h.call(.post, "/v1/employees/\(agent.id)/phone-confirmation", token: agent.token, json: ["code": code])
            #expect(confirmed.status == .ok, "\(confirmed.text)")
            #expect(confirmed.string("phone") == newPhone)
            // Used once.
            let again = try await h.call(.post, "/v1/employees/\(agent.id)/phone-confirmation", token: agent.token, json: ["code": code])
            #expect(again.status == .conflict)
            // Another employee without the organisation permission cannot confirm it for them.
            let other = try await h.member(in: tenant, permissions: ["client.login"])
            let foreign = try await h.call(.post, "/v1/employees/\(agent.id)/phone-confirmation", token: other.token, json: ["code": code])
            #expect(foreign.status == .forbidden)
        }
    }
}
