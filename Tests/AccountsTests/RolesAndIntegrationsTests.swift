import Foundation
import KefuCore
import KefuTestSupport
import Testing

@Suite struct RolesTests {
    @Test func theCatalogueIsServed() async throws {
        try await AccountsHarness.run { h in
            let tenant = try await h.createTenant()
            let agent = try await h.employee(in: tenant, permissions: ["client.login"])
            let catalogue = try await h.call(.get, "/v1/permissions", token: agent.token)
            let groups = catalogue.json["groups"] as? [[String: Any]] ?? []
            #expect(groups.compactMap { $0["group"] as? String } == ["reception", "customers", "marketing", "analytics", "enterprise", "client"])
            let all = groups.flatMap { $0["permissions"] as? [[String: Any]] ?? [] }
            #expect(all.contains { $0["key"] as? String == "customers.delete" && $0["sensitive"] as? Bool == true })
            #expect(try await h.call(.get, "/v1/permissions").status == .unauthorized)
        }
    }

    @Test func customRolesAreCreatedEditedAndDeleted() async throws {
        try await AccountsHarness.run { h in
            let tenant = try await h.createTenant()
            let created = try await h.call(.post, "/v1/roles", token: tenant.adminToken, json: [
                "name": "夜班客服", "permissions": ["client.login", "customers.view"],
                "data_scopes": ["customers": ["mine", "my_groups"], "organisation": "my_department"],
            ])
            #expect(created.status == .created)
            #expect(created.string("kind") == "custom")
            let id = created.string("id")!
            let edited = try await h.call(.patch, "/v1/roles/\(id)", token: tenant.adminToken, json: ["permissions": ["client.login"]])
            #expect(edited.json["permissions"] as? [String] == ["client.login"])
            #expect(edited.string("name") == "夜班客服")
            let agent = try await h.call(.post, "/v1/employees", token: tenant.adminToken, json: [
                "account": "night", "password": AccountsHarness.password, "display_name": "Night", "role_ids": [id],
            ])
            #expect(try await h.call(.delete, "/v1/roles/\(id)", token: tenant.adminToken).code == "role_in_use")
            _ = try await h.call(.put, "/v1/employees/\(agent.string("id")!)/roles", token: tenant.adminToken, json: ["role_ids": []])
            #expect(try await h.call(.delete, "/v1/roles/\(id)", token: tenant.adminToken).status == .noContent)
            #expect(try await h.call(.get, "/v1/roles/\(id)", token: tenant.adminToken).status == .notFound)
        }
    }

    @Test func roleInputIsValidated() async throws {
        try await AccountsHarness.run { h in
            let tenant = try await h.createTenant()
            let bad = try await h.call(.post, "/v1/roles", token: tenant.adminToken, json: [
                "name": "elevenchars", "permissions": ["client.login", "no.such"],
                "data_scopes": ["customers": ["everyone"], "organisation": "planet"],
            ])
            #expect(Set(bad.fields) == ["name", "permissions[1]", "data_scopes.customers[0]", "data_scopes.organisation"])
            let missing = try await h.call(.post, "/v1/roles", token: tenant.adminToken, json: ["name": "x"])
            #expect(missing.fields == ["permissions"])
            let roles = try await h.call(.get, "/v1/roles", token: tenant.adminToken)
            #expect(roles.data.count == 4, "nothing written")
            let template = roles.data.first { $0["kind"] as? String == "template" }!["name"] as! String
            let duplicate = try await h.call(.post, "/v1/roles", token: tenant.adminToken, json: ["name": template, "permissions": []])
            #expect(duplicate.code == "role_name_taken")
        }
    }

    @Test func theSuperAdminRoleCannotChange() async throws {
        try await AccountsHarness.run { h in
            let tenant = try await h.createTenant()
            let roles = try await h.call(.get, "/v1/roles", token: tenant.adminToken)
            let superAdmin = roles.data.first { $0["kind"] as? String == "super_admin" }!["id"] as! String
            #expect(try await h.call(.patch, "/v1/roles/\(superAdmin)", token: tenant.adminToken, json: ["name": "x"]).code == "role_immutable")
            #expect(try await h.call(.delete, "/v1/roles/\(superAdmin)", token: tenant.adminToken).code == "role_immutable")
        }
    }

    @Test func nobodyGrantsWhatTheyDoNotHold() async throws {
        try await AccountsHarness.run { h in
            let tenant = try await h.createTenant()
            // enterprise.roles is sensitive: this manager signs in with a second factor.
            let role = try await h.call(.post, "/v1/roles", token: tenant.adminToken, json: ["name": "rolemgr", "permissions": ["enterprise.roles"]])
            _ = try await h.call(.post, "/v1/employees", token: tenant.adminToken, json: [
                "account": "rolemgr", "password": AccountsHarness.password, "display_name": "R", "phone": "13500000003",
                "role_ids": [role.string("id")!],
            ])
            let manager = try await h.signInWithSecondFactor(slug: tenant.slug, account: "rolemgr", password: AccountsHarness.password, phone: "13500000003")
            let escalate = try await h.call(.post, "/v1/roles", token: manager.accessToken, json: ["name": "boss", "permissions": ["customers.delete"]])
            #expect(escalate.status == .forbidden)
            #expect(escalate.code == "permission_not_held")
            let roles = try await h.call(.get, "/v1/roles", token: manager.accessToken)
            let superAdmin = roles.data.first { $0["kind"] as? String == "super_admin" }!["id"] as! String
            let me = try await h.call(.get, "/v1/me", token: manager.accessToken)
            let myID = (me.json["employee"] as? [String: Any])?["id"] as! String
            let grab = try await h.call(.put, "/v1/employees/\(myID)/roles", token: manager.accessToken, json: ["role_ids": [superAdmin]])
            #expect(grab.status == .forbidden)
        }
    }
}

@Suite struct ApiKeyTests {
    @Test func aKeyIsShownOnceExchangedAndRevoked() async throws {
        try await AccountsHarness.run { h in
            let tenant = try await h.createTenant()
            let created = try await h.call(.post, "/v1/api-keys", token: tenant.adminToken, json: [
                "name": "CRM sync", "permissions": ["enterprise.audit_log"],
            ])
            #expect(created.status == .created)
            let key = try #require(created.string("key"))
            #expect(key.hasPrefix("kefu_ak."))
            let listed = try await h.call(.get, "/v1/api-keys", token: tenant.adminToken)
            #expect(listed.data.count == 1)
            #expect(listed.data[0]["key"] == nil, "never shown again")
            #expect(listed.data[0]["last_used_at"] == nil)

            let exchanged = try await h.call(.post, "/v1/auth/api-key-token", json: ["api_key": key])
            #expect(exchanged.status == .ok)
            let token = exchanged.string("access_token")!
            #expect(try await h.call(.get, "/v1/audit-log", token: token).status == .ok, "the key's permission works")
            #expect(try await h.call(.get, "/v1/employees", token: token).status == .forbidden, "and only that one")
            let shown = try await h.call(.get, "/v1/api-keys/\(created.string("id")!)", token: tenant.adminToken)
            #expect(shown.string("last_used_at") != nil)

            #expect(try await h.call(.delete, "/v1/api-keys/\(created.string("id")!)", token: tenant.adminToken).status == .noContent)
            #expect(try await h.call(.post, "/v1/auth/api-key-token", json: ["api_key": key]).code == "invalid_api_key")
            #expect(try await h.eventually { try await h.call(.get, "/v1/audit-log", token: token).status == .unauthorized },
                    "tokens already exchanged stop working too")
            let tampered = key.dropLast() + (key.last == "A" ? "B" : "A")
            #expect(try await h.call(.post, "/v1/auth/api-key-token", json: ["api_key": String(tampered)]).status == .unauthorized)
        }
    }

    @Test func keysAreScopedToTheCreatorsPermissions() async throws {
        try await AccountsHarness.run { h in
            let tenant = try await h.createTenant()
            let role = try await h.call(.post, "/v1/roles", token: tenant.adminToken, json: ["name": "keys", "permissions": ["enterprise.api_keys"]])
            _ = try await h.call(.post, "/v1/employees", token: tenant.adminToken, json: [
                "account": "keymaker", "password": AccountsHarness.password, "display_name": "K", "role_ids": [role.string("id")!],
            ])
            let login = try await h.signIn(slug: tenant.slug, account: "keymaker")
            let token = login.string("access_token")!
            let beyond = try await h.call(.post, "/v1/api-keys", token: token, json: ["name": "x", "permissions": ["customers.delete"]])
            #expect(beyond.code == "permission_not_held")
            let bad = try await h.call(.post, "/v1/api-keys", token: token, json: ["name": "", "permissions": ["nope"]])
            #expect(Set(bad.fields) == ["name", "permissions[0]"])
        }
    }
}

@Suite struct WebhookTests {
    @Test func subscriptionsAreManaged() async throws {
        try await AccountsHarness.run { h in
            let tenant = try await h.createTenant()
            let types = try await h.call(.get, "/v1/webhook-event-types", token: tenant.adminToken)
            #expect((types.json["data"] as? [String])?.contains("employee.business_transferred") == true)
            let created = try await h.call(.post, "/v1/webhooks", token: tenant.adminToken, json: [
                "url": "https://partner.example/hooks/kefu", "event_types": ["employee.created", "conversation.ended"],
            ])
            #expect(created.status == .created)
            #expect(created.string("secret")?.hasPrefix("whsec_") == true)
            #expect(created.json["enabled"] as? Bool == true)
            let id = created.string("id")!
            let shown = try await h.call(.get, "/v1/webhooks/\(id)", token: tenant.adminToken)
            #expect(shown.json["secret"] == nil)
            // Encrypted at rest: the row does not hold the secret, yet it can be read back to sign.
            let stored = try await TestEnvironment.ownerQuery("SELECT sealed_secret FROM accounts.webhooks WHERE id = \(UUID(uuidString: id)!)", as: String.self)
            #expect(stored.count == 1 && !stored[0].contains(created.string("secret")!))
            #expect(try SecretBox.load(file: TestEnvironment.secretsKeyFile).open(stored[0]) == created.string("secret"))
            let disabled = try await h.call(.patch, "/v1/webhooks/\(id)", token: tenant.adminToken, json: ["enabled": false, "description": "CRM"])
            #expect(disabled.json["enabled"] as? Bool == false)
            #expect(disabled.string("description") == "CRM")
            let rotated = try await h.call(.post, "/v1/webhooks/\(id)/rotate-secret", token: tenant.adminToken)
            #expect(rotated.string("secret") != created.string("secret"))
            #expect(try await h.call(.get, "/v1/webhooks", token: tenant.adminToken).data.count == 1)
            #expect(try await h.call(.delete, "/v1/webhooks/\(id)", token: tenant.adminToken).status == .noContent)
            #expect(try await h.call(.get, "/v1/webhooks/\(id)", token: tenant.adminToken).status == .notFound)
        }
    }

    @Test func badSubscriptionsAreRefused() async throws {
        try await AccountsHarness.run { h in
            let tenant = try await h.createTenant()
            let bad = try await h.call(.post, "/v1/webhooks", token: tenant.adminToken, json: [
                "url": "ftp://partner.example/x", "event_types": ["employee.created", "nothing.happened"],
            ])
            #expect(Set(bad.fields) == ["url", "event_types[1]"])
            let missing = try await h.call(.post, "/v1/webhooks", token: tenant.adminToken, json: ["url": "https://partner.example/x"])
            #expect(missing.fields == ["event_types"])
            #expect(try await h.call(.get, "/v1/webhooks", token: tenant.adminToken).data.isEmpty)
        }
    }
}

@Suite struct AuditLogTests {
    @Test func adminActionsAreRecordedWithActorBeforeAfterAndRequest() async throws {
        try await AccountsHarness.run { h in
            let tenant = try await h.createTenant()
            let department = try await h.department(in: tenant, name: "Ops")
            _ = try await h.call(.patch, "/v1/departments/\(department)", token: tenant.adminToken, json: ["name": "Operations"])
            let entries = try await h.call(.get, "/v1/audit-log?target_id=\(department)", token: tenant.adminToken)
            #expect(entries.data.compactMap { $0["action"] as? String } == ["department.updated", "department.created"])
            let update = entries.data[0]
            #expect(update["actor_type"] as? String == "employee")
            #expect(update["actor_id"] as? String == tenant.adminID)
            #expect((update["before"] as? [String: Any])?["name"] as? String == "Ops")
            #expect((update["after"] as? [String: Any])?["name"] as? String == "Operations")
            #expect((update["request_id"] as? String)?.isEmpty == false)
            let created = try await h.call(.get, "/v1/audit-log?action=tenant.created", token: tenant.adminToken)
            #expect(created.data.first?["actor_type"] as? String == "platform")
            let bad = try await h.call(.get, "/v1/audit-log?actor_id=x&from=yesterday", token: tenant.adminToken)
            #expect(Set(bad.fields) == ["actor_id", "from"])
            // Nothing changes or deletes entries.
            let delete = try await h.call(.delete, "/v1/audit-log", token: tenant.adminToken).status
            #expect(delete == .notFound || delete == .methodNotAllowed)
        }
    }
}
