import Foundation
import KefuTestSupport
import Testing

@Suite struct OrganisationTests {
    @Test func departmentsFormATreeWithoutCycles() async throws {
        try await AccountsHarness.run { h in
            let tenant = try await h.createTenant()
            let sales = try await h.department(in: tenant, name: "Sales")
            let east = try await h.department(in: tenant, name: "East", parent: sales)
            let shanghai = try await h.department(in: tenant, name: "Shanghai", parent: east)
            let list = try await h.call(.get, "/v1/departments", token: tenant.adminToken)
            #expect(list.data.compactMap { $0["name"] as? String } == ["Sales", "East", "Shanghai"], "parents first")

            let cycle = try await h.call(.patch, "/v1/departments/\(sales)", token: tenant.adminToken, json: ["parent_id": shanghai])
            #expect(cycle.status == .unprocessableContent)
            #expect(cycle.fields == ["parent_id"])
            let selfParent = try await h.call(.patch, "/v1/departments/\(east)", token: tenant.adminToken, json: ["parent_id": east])
            #expect(selfParent.fields == ["parent_id"])
            let moved = try await h.call(.patch, "/v1/departments/\(shanghai)", token: tenant.adminToken, json: ["parent_id": sales, "name": "SH"])
            #expect(moved.string("parent_id") == sales)
            #expect(moved.string("name") == "SH")
            let toRoot = try await h.call(.patch, "/v1/departments/\(east)", token: tenant.adminToken, json: ["parent_id": NSNull()])
            #expect(toRoot.json["parent_id"] is NSNull || toRoot.json["parent_id"] == nil)
            let duplicate = try await h.call(.post, "/v1/departments", token: tenant.adminToken, json: ["name": "sales"])
            #expect(duplicate.code == "department_name_taken")
            let empty = try await h.call(.post, "/v1/departments", token: tenant.adminToken, json: ["name": " "])
            #expect(empty.fields == ["name"])
            let unknownParent = try await h.call(.post, "/v1/departments", token: tenant.adminToken, json: ["name": "X", "parent_id": UUID().uuidString])
            #expect(unknownParent.fields == ["parent_id"])
        }
    }

    @Test func onlyEmptyDepartmentsAreDeleted() async throws {
        try await AccountsHarness.run { h in
            let tenant = try await h.createTenant()
            let parent = try await h.department(in: tenant, name: "Parent")
            let child = try await h.department(in: tenant, name: "Child", parent: parent)
            let agent = try await h.employee(in: tenant, permissions: ["client.login"], departmentID: child)
            #expect(try await h.call(.delete, "/v1/departments/\(parent)", token: tenant.adminToken).code == "department_not_empty")
            #expect(try await h.call(.delete, "/v1/departments/\(child)", token: tenant.adminToken).code == "department_not_empty")
            #expect(try await h.call(.delete, "/v1/employees/\(agent.id)", token: tenant.adminToken).status == .noContent)
            #expect(try await h.call(.delete, "/v1/departments/\(child)", token: tenant.adminToken).status == .noContent)
            #expect(try await h.call(.delete, "/v1/departments/\(parent)", token: tenant.adminToken).status == .noContent)
            #expect(try await h.call(.get, "/v1/departments/\(parent)", token: tenant.adminToken).status == .notFound)
        }
    }

    @Test func employeesAreCreatedEditedMovedDisabledAndDeleted() async throws {
        try await AccountsHarness.run { h in
            let tenant = try await h.createTenant()
            let team = try await h.department(in: tenant, name: "Team")
            let created = try await h.call(.post, "/v1/employees", token: tenant.adminToken, json: [
                "account": "zhang.san", "password": AccountsHarness.password, "display_name": "张三", "department_id": team,
                "position": "Agent", "phone": "13800138000", "email": "zhang@example.com",
            ])
            #expect(created.status == .created)
            let id = created.string("id")!
            let edited = try await h.call(.patch, "/v1/employees/\(id)", token: tenant.adminToken, json: [
                "display_name": "张三丰", "position": NSNull(), "department_id": NSNull(),
            ])
            #expect(edited.string("display_name") == "张三丰")
            #expect(edited.json["position"] == nil)
            #expect(edited.json["department_id"] == nil)
            #expect(edited.string("email") == "zhang@example.com", "fields left out stay")
            let counts = { try await h.call(.get, "/v1/employees/counts", token: tenant.adminToken).json as? [String: Int] }
            #expect(try await counts() == ["active": 2, "disabled": 0, "deleted": 0, "seats_left": 18])
            #expect(try await h.call(.post, "/v1/employees/\(id)/disable", token: tenant.adminToken).string("status") == "disabled")
            #expect(try await counts() == ["active": 1, "disabled": 1, "deleted": 0, "seats_left": 19])
            #expect(try await h.call(.delete, "/v1/employees/\(id)", token: tenant.adminToken).status == .noContent)
            #expect(try await counts() == ["active": 1, "disabled": 0, "deleted": 1, "seats_left": 19])
            let list = try await h.call(.get, "/v1/employees", token: tenant.adminToken)
            #expect(list.data.compactMap { $0["account"] as? String } == ["admin"], "deleted employees leave the default list")
            #expect(try await h.call(.get, "/v1/employees?q=_", token: tenant.adminToken).data.isEmpty, "search is literal")
            #expect(try await h.call(.get, "/v1/employees?q=dmi", token: tenant.adminToken).data.count == 1)
            let deleted = try await h.call(.get, "/v1/employees?status=deleted", token: tenant.adminToken)
            #expect(deleted.data.compactMap { $0["account"] as? String } == ["zhang.san"])
            let reused = try await h.call(.post, "/v1/employees", token: tenant.adminToken, json: [
                "account": "Zhang.San", "password": AccountsHarness.password, "display_name": "New",
            ])
            #expect(reused.status == .created, "a deleted employee's account name is free again")
            let duplicate = try await h.call(.post, "/v1/employees", token: tenant.adminToken, json: [
                "account": "ZHANG.SAN", "password": AccountsHarness.password, "display_name": "Dup",
            ])
            #expect(duplicate.code == "account_taken")
        }
    }

    @Test func badEmployeeInputNamesEveryFieldAndWritesNothing() async throws {
        try await AccountsHarness.run { h in
            let tenant = try await h.createTenant()
            let bad = try await h.call(.post, "/v1/employees", token: tenant.adminToken, json: [
                "account": "no spaces", "password": "weak", "display_name": "", "phone": "call me", "email": "nope",
                "avatar_url": "ftp://x.example/a.png", "department_id": UUID().uuidString,
            ])
            #expect(bad.status == .unprocessableContent)
            #expect(Set(bad.fields) == ["account", "password", "display_name", "phone", "email", "avatar_url"])
            let wrongType = try await h.call(.post, "/v1/employees", token: tenant.adminToken, json: [
                "account": "fine", "password": AccountsHarness.password, "display_name": "Fine", "hide_phone": "yes",
            ])
            #expect(wrongType.fields == ["hide_phone"])
            let unknownDepartment = try await h.call(.post, "/v1/employees", token: tenant.adminToken, json: [
                "account": "fine", "password": AccountsHarness.password, "display_name": "Fine", "department_id": UUID().uuidString,
            ])
            #expect(unknownDepartment.fields == ["department_id"])
            let list = try await h.call(.get, "/v1/employees?q=fine", token: tenant.adminToken)
            #expect(list.data.isEmpty)
            let badFilter = try await h.call(.get, "/v1/employees?status=gone", token: tenant.adminToken)
            #expect(badFilter.fields == ["status"])
        }
    }

    @Test func aHiddenPhoneIsHiddenFromEveryoneElse() async throws {
        try await AccountsHarness.run { h in
            let tenant = try await h.createTenant()
            let agent = try await h.employee(in: tenant, permissions: ["client.login"], phone: "13912345678", hidePhone: true)
            let byAdmin = try await h.call(.get, "/v1/employees/\(agent.id)", token: tenant.adminToken)
            #expect(byAdmin.json["phone"] == nil)
            #expect(byAdmin.json["hide_phone"] as? Bool == true)
            let inList = try await h.call(.get, "/v1/employees?q=\(agent.account)", token: tenant.adminToken)
            #expect(inList.data.first?["phone"] == nil)
            let me = try await h.call(.get, "/v1/me", token: agent.token)
            #expect((me.json["employee"] as? [String: Any])?["phone"] as? String == "13912345678", "they see their own")
            let audit = try await h.call(.get, "/v1/audit-log?action=employee.created&target_id=\(agent.id)", token: tenant.adminToken)
            #expect((audit.data.first?["after"] as? [String: Any])?["phone"] == nil, "nor does the audit log show it")
        }
    }

    @Test func theSeatLimitAppliesToEnabling() async throws {
        try await AccountsHarness.run { h in
            let tenant = try await h.createTenant(seats: 2)
            let agent = try await h.employee(in: tenant, permissions: ["client.login"])
            _ = try await h.call(.post, "/v1/employees/\(agent.id)/disable", token: tenant.adminToken)
            let other = try await h.call(.post, "/v1/employees", token: tenant.adminToken, json: [
                "account": "other", "password": AccountsHarness.password, "display_name": "Other",
            ])
            #expect(other.status == .created)
            let enable = try await h.call(.post, "/v1/employees/\(agent.id)/enable", token: tenant.adminToken)
            #expect(enable.code == "seat_limit_reached")
        }
    }

    @Test func theLastSuperAdminIsProtected() async throws {
        try await AccountsHarness.run { h in
            let tenant = try await h.createTenant()
            let ownDisable = try await h.call(.post, "/v1/employees/\(tenant.adminID)/disable", token: tenant.adminToken)
            #expect(ownDisable.status == .conflict)
            let roles = try await h.call(.get, "/v1/roles", token: tenant.adminToken)
            let superAdmin = roles.data.first { $0["kind"] as? String == "super_admin" }!["id"] as! String
            // Nobody changes their own roles, so the last super admin cannot step down either.
            let drop = try await h.call(.put, "/v1/employees/\(tenant.adminID)/roles", token: tenant.adminToken, json: ["role_ids": []])
            #expect(drop.code == "cannot_change_own_roles")
            // Two super admins demoting each other at once: the checks run one after the other
            // (the tenant row is locked), so one of them stays.
            let second = try await h.call(.post, "/v1/employees", token: tenant.adminToken, json: [
                "account": "second", "password": AccountsHarness.password, "display_name": "Second", "phone": "13700000001",
                "role_ids": [superAdmin],
            ])
            #expect(second.status == .created)
            let secondID = second.string("id")!
            let secondToken = try await h.signInWithSecondFactor(slug: tenant.slug, account: "second", password: AccountsHarness.password, phone: "13700000001")
            async let first = h.call(.put, "/v1/employees/\(secondID)/roles", token: tenant.adminToken, json: ["role_ids": []])
            async let other = h.call(.put, "/v1/employees/\(tenant.adminID)/roles", token: secondToken.accessToken, json: ["role_ids": []])
            let statuses = [try await first.status, try await other.status]
            #expect(statuses.filter { $0 == .ok }.count == 1, "\(statuses)")
            #expect(statuses.allSatisfy { [.ok, .forbidden, .conflict].contains($0) }, "\(statuses)")
            let holders = try await h.call(.get, "/v1/employees", token: tenant.adminToken).data.filter { ($0["role_ids"] as? [String])?.contains(superAdmin) == true }
            #expect(holders.count == 1)
        }
    }

    @Test func aDepartmentScopeReachesOnlyThatDepartmentAndBelow() async throws {
        try await AccountsHarness.run { h in
            let tenant = try await h.createTenant()
            let sales = try await h.department(in: tenant, name: "Sales")
            let east = try await h.department(in: tenant, name: "East", parent: sales)
            let support = try await h.department(in: tenant, name: "Support")
            // Organisation management without the sensitive flag would need a phone; give one.
            let role = try await h.call(.post, "/v1/roles", token: tenant.adminToken, json: [
                "name": "salesmgr", "permissions": ["enterprise.organisation"], "data_scopes": ["organisation": "my_department"],
            ])
            let manager = try await h.call(.post, "/v1/employees", token: tenant.adminToken, json: [
                "account": "manager", "password": AccountsHarness.password, "display_name": "Manager", "phone": "13600000002",
                "department_id": sales, "role_ids": [role.string("id")!],
            ])
            let tokens = try await h.signInWithSecondFactor(slug: tenant.slug, account: "manager", password: AccountsHarness.password, phone: "13600000002")
            let inEast = try await h.employee(in: tenant, permissions: [], departmentID: east)
            let inSupport = try await h.employee(in: tenant, permissions: [], departmentID: support)

            #expect(try await h.call(.get, "/v1/employees/\(inEast.id)", token: tokens.accessToken).status == .ok)
            #expect(try await h.call(.get, "/v1/employees/\(inSupport.id)", token: tokens.accessToken).status == .notFound)
            #expect(try await h.call(.patch, "/v1/employees/\(inSupport.id)", token: tokens.accessToken, json: ["display_name": "X"]).status == .notFound)
            #expect(try await h.call(.post, "/v1/employees/\(inSupport.id)/disable", token: tokens.accessToken).status == .notFound)
            #expect(try await h.call(.get, "/v1/departments/\(support)", token: tokens.accessToken).status == .notFound)
            let listed = try await h.call(.get, "/v1/employees", token: tokens.accessToken)
            #expect(Set(listed.data.compactMap { $0["id"] as? String }) == [manager.string("id")!, inEast.id])
            let departments = try await h.call(.get, "/v1/departments", token: tokens.accessToken)
            #expect(Set(departments.data.compactMap { $0["id"] as? String }) == [sales, east])
            let outside = try await h.call(.post, "/v1/employees", token: tokens.accessToken, json: [
                "account": "sneaky", "password": AccountsHarness.password, "display_name": "S", "department_id": support,
            ])
            #expect(outside.fields == ["department_id"])
            let moveOut = try await h.call(.patch, "/v1/employees/\(inEast.id)", token: tokens.accessToken, json: ["department_id": support])
            #expect(moveOut.fields == ["department_id"])
        }
    }

    @Test func adminsResetPasswordsOfManyEmployees() async throws {
        try await AccountsHarness.run { h in
            let tenant = try await h.createTenant()
            let a = try await h.employee(in: tenant, permissions: ["client.login"])
            let b = try await h.employee(in: tenant, permissions: ["client.login"])
            let reset = try await h.call(.post, "/v1/employees/password-resets", token: tenant.adminToken, json: [
                "employee_ids": [a.id, b.id], "new_password": "Reset1234",
            ])
            #expect(reset.status == .ok)
            #expect(try await h.signIn(slug: tenant.slug, account: a.account, password: "Reset1234").status == .ok)
            #expect(try await h.signIn(slug: tenant.slug, account: b.account, password: "Reset1234").status == .ok)
            #expect(try await h.eventually { try await h.call(.get, "/v1/me", token: a.token).status == .unauthorized }, "old sessions end")
            let unknown = try await h.call(.post, "/v1/employees/password-resets", token: tenant.adminToken, json: [
                "employee_ids": [a.id, UUID().uuidString], "new_password": "Other1234",
            ])
            #expect(unknown.fields == ["employee_ids[1]"])
            #expect(try await h.signIn(slug: tenant.slug, account: a.account, password: "Other1234").status == .unauthorized, "nothing half-written")
        }
    }
}
