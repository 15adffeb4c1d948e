import Foundation
import HTTPTypes
import KefuCore
import KefuModels
import KefuTestSupport
import Testing

/// Issue 9 finding 3: an API key reaches no further than its creator does now, stops when the
/// creator is disabled or deleted, and may expire. Finding 12: its creation is covered by
/// `Idempotency-Key`.
@Suite struct ApiKeySecurityTests {
    /// The claims of a JWT, read without verifying (the service verified it).
    func payload(of token: String) throws -> [String: Any] {
        var part = String(token.split(separator: ".")[1]).replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while part.count % 4 != 0 { part += "=" }
        return try JSONSerialization.jsonObject(with: Data(base64Encoded: part)!) as! [String: Any]
    }

    func exchange(_ key: String, _ h: AccountsHarness) async throws -> APIReply {
        try await h.call(.post, "/v1/auth/api-key-token", json: ["api_key": key])
    }

    @Test func aKeysTokenCarriesItsCreatorsScopesAndOnlyThePermissionsTheyStillHold() async throws {
        try await AccountsHarness.run { h in
            let tenant = try await h.createTenant()
            let home = try await h.department(in: tenant, name: "Home")
            let away = try await h.department(in: tenant, name: "Away")
            let outsider = try await h.call(.post, "/v1/employees", token: tenant.adminToken, json: [
                "account": "outsider", "password": AccountsHarness.password, "display_name": "Outsider", "department_id": away,
            ])
            let creator = try await h.member(
                in: tenant, permissions: ["client.login", "enterprise.organisation", "enterprise.api_keys", "customers.view"],
                customers: ["mine"], organisation: "my_department", departmentID: home
            )
            let created = try await h.call(.post, "/v1/api-keys", token: creator.token, json: [
                "name": "partner", "permissions": ["enterprise.organisation", "customers.view"],
            ])
            try #require(created.status == .created, "\(created.text)")
            let token = try await exchange(created.string("key")!, h)
            try #require(token.status == .ok)
            let keyToken = token.string("access_token")!
            // The department scope holds for the key: the other department's employee does not exist for it.
            #expect(try await h.call(.get, "/v1/employees/\(outsider.id!)", token: keyToken).status == .notFound)
            #expect(try await h.call(.get, "/v1/employees/\(creator.id)", token: keyToken).status == .ok)
            let listed = try await h.call(.get, "/v1/employees", token: keyToken)
            #expect(!listed.data.contains { $0["id"] as? String == outsider.id! })
            // The key cannot act above its creator either (finding 1 through a key).
            #expect(try await h.call(.patch, "/v1/employees/\(tenant.adminID)", token: keyToken, json: ["phone": "13900000001"]).status == .notFound)
            // The creator loses a permission: the key's next token does not carry it.
            let narrowed = try await h.call(.patch, "/v1/roles/\(creator.roleID)", token: tenant.adminToken, json: [
                "permissions": ["client.login", "enterprise.organisation", "enterprise.api_keys"],
            ])
            #expect(narrowed.status == .ok)
            let next = try await exchange(created.string("key")!, h)
            let claims = try payload(of: next.string("access_token")!)
            #expect(claims["perms"] as? [String] == ["enterprise.organisation"])
            let scopes = claims["scopes"] as? [String: Any]
            #expect(scopes?["organisation"] as? String == "my_department")
            #expect(scopes?["customers"] as? [String] == ["mine"])
        }
    }

    @Test func aDisabledOrDeletedCreatorsKeysStopAtOnce() async throws {
        try await AccountsHarness.run { h in
            let tenant = try await h.createTenant()
            for action in ["disable", "delete"] {
                let creator = try await h.member(in: tenant, permissions: ["client.login", "enterprise.api_keys", "enterprise.roles"])
                let created = try await h.call(.post, "/v1/api-keys", token: creator.token, json: ["name": "k", "permissions": ["enterprise.roles"]])
                try #require(created.status == .created)
                let key = created.string("key")!
                let token = try await exchange(key, h).string("access_token")!
                #expect(try await h.call(.get, "/v1/roles", token: token).status == .ok)
                let ended = action == "disable"
                    ? try await h.call(.post, "/v1/employees/\(creator.id)/disable", token: tenant.adminToken)
                    : try await h.call(.delete, "/v1/employees/\(creator.id)", token: tenant.adminToken)
                #expect([.ok, .noContent].contains(ended.status))
                #expect(try await exchange(key, h).status == .unauthorized, "\(action): the key no longer exchanges")
                #expect(try await h.eventually { try await h.call(.get, "/v1/roles", token: token).status == .unauthorized },
                        "\(action): the key's token stops in every service")
                let shown = try await h.call(.get, "/v1/api-keys/\(created.id!)", token: tenant.adminToken)
                #expect(shown.json["revoked_at"] is String, "\(action): the key shows as revoked")
            }
        }
    }

    @Test func aKeyMayExpireAndItsTokensNeverOutliveIt() async throws {
        try await AccountsHarness.run { h in
            let tenant = try await h.createTenant()
            let past = try await h.call(.post, "/v1/api-keys", token: tenant.adminToken, json: [
                "name": "old", "permissions": ["client.login"], "expires_at": "2020-01-01T00:00:00Z",
            ])
            #expect(past.status == .unprocessableContent)
            #expect(past.fields == ["expires_at"])
            let later = ISO8601DateFormatter().string(from: Date().addingTimeInterval(3600))
            let created = try await h.call(.post, "/v1/api-keys", token: tenant.adminToken, json: [
                "name": "short", "permissions": ["client.login"], "expires_at": later,
            ])
            try #require(created.status == .created, "\(created.text)")
            #expect(created.string("expires_at") != nil)
            let id = UUID(uuidString: created.id!)!
            // A minute left: the token (five minutes otherwise) ends with the key.
            _ = try await TestEnvironment.ownerQuery("UPDATE accounts.api_keys SET expires_at = now() + interval '60 seconds' WHERE id = \(id) RETURNING 1", as: Int.self)
            let token = try await exchange(created.string("key")!, h)
            #expect(token.status == .ok)
            #expect((token.json["expires_in"] as? Int ?? 999) <= 60, "the token ends with the key")
            // Expired: no more tokens.
            _ = try await TestEnvironment.ownerQuery("UPDATE accounts.api_keys SET expires_at = now() - interval '1 second' WHERE id = \(id) RETURNING 1", as: Int.self)
            let late = try await exchange(created.string("key")!, h)
            #expect(late.status == .unauthorized)
            #expect(late.code == "invalid_api_key")
        }
    }

    @Test func anIdempotencyKeyCreatesOneApiKeyAndOneWebhookAndKeepsNoSecret() async throws {
        try await AccountsHarness.run { h in
            let tenant = try await h.createTenant()
            for (path, body, secretField) in [
                ("/v1/api-keys", ["name": "once", "permissions": ["client.login"]] as [String: Any], "key"),
                ("/v1/webhooks", ["url": "https://a.example/once", "event_types": ["employee.created"]], "secret"),
            ] {
                let key: HTTPFields = [.idempotencyKey: UUID().uuidString]
                let first = try await h.client.call(.post, path, token: tenant.adminToken, json: body, headers: key)
                #expect(first.status == .created)
                #expect(first.headers[HTTPField.Name("Kefu-Secret-Once")!] == nil, "the marker never leaves")
                let secret = try #require(first.string(secretField))
                // A retry learns the write happened, not the secret: it is never at rest in plain text.
                let second = try await h.client.call(.post, path, token: tenant.adminToken, json: body, headers: key)
                #expect(second.status == .conflict, "\(path)")
                #expect(second.code == "secret_shown_once")
                #expect(second.headers[HTTPField.Name("Idempotent-Replayed")!] == "true")
                #expect(!second.text.contains(secret))
                let listed = try await h.call(.get, path, token: tenant.adminToken)
                #expect(listed.data.count == 1, "\(path): one created")
                let stored = try await TestEnvironment.ownerQuery(
                    "SELECT coalesce(convert_from(body, 'UTF8'), '') FROM kefu.idempotency_keys WHERE tenant_id = \(UUID(uuidString: tenant.id)!)",
                    as: String.self
                )
                #expect(!stored.joined().contains(secret), "\(path): the secret is not in the idempotency store")
            }
        }
    }
}
