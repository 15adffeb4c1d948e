import Foundation
import KefuCore
import KefuModels
import KefuTestSupport
import Testing

@Suite struct ChannelTests {
    @Test func credentialsAreSealedAtRestAndNeverReturnedInFull() async throws {
        try await ReceptionHarness.run { h in
            let tenant = try await h.tenant()
            let secret = "app-secret-" + UUID().uuidString
            let created = try await h.call(.post, "/v1/channels", token: tenant.admin, json: Bodies.officialAccount("Main OA", secret: secret))
            #expect(created.status == .created)
            let id = try #require(created.id)
            let credentials = try #require(created.json["credentials"] as? [String: String])
            #expect(credentials["app_secret"] == "••••" + secret.suffix(4))
            #expect(credentials["encoding_aes_key"] == "••••" + Bodies.aesKey.suffix(4))
            for reply in [created, try await h.call(.get, "/v1/channels/\(id)", token: tenant.admin),
                          try await h.call(.get, "/v1/channels", token: tenant.admin),
                          try await h.call(.get, "/v1/reception/snapshot", token: tenant.admin)] {
                #expect(!reply.text.contains(secret) && !reply.text.contains("tok-abcdefghijkl") && !reply.text.contains(Bodies.aesKey))
            }
            // At rest: the document holds masks only; the sealed column is not the plain text.
            let stored = try await TestEnvironment.ownerQuery(
                "SELECT body::text || coalesce(sealed_credentials, '') FROM reception.config_items WHERE id = \(UUID(uuidString: id)!)", as: String.self)
            #expect(stored.count == 1 && !stored[0].contains(secret) && !stored[0].contains("tok-abcdefghijkl"))

            // A replace without credentials keeps them; one with some replaces only those.
            var body = Bodies.officialAccount("Main OA 2")
            body["credentials"] = nil
            let renamed = try await h.call(.put, "/v1/channels/\(id)", token: tenant.admin, json: body)
            #expect(renamed.status == .ok && (renamed.json["credentials"] as? [String: String])?["app_secret"] == "••••" + secret.suffix(4))
            body["credentials"] = ["token": "new-token-0123456789"]
            let rotated = try await h.call(.put, "/v1/channels/\(id)", token: tenant.admin, json: body)
            let after = try #require(rotated.json["credentials"] as? [String: String])
            #expect(after["token"] == "••••6789" && after["app_secret"] == "••••" + secret.suffix(4))

            // The type is fixed at creation.
            body["type"] = "web"
            body["credentials"] = nil
            let retyped = try await h.call(.put, "/v1/channels/\(id)", token: tenant.admin, json: body)
            #expect(retyped.status == .unprocessableContent && retyped.fields == ["type"])
        }
    }

    @Test func credentialsAreCheckedForTheChannelType() async throws {
        try await ReceptionHarness.run { h in
            let tenant = try await h.tenant()
            var body = Bodies.officialAccount("OA")
            body["credentials"] = ["app_id": "wx1", "app_secret": "s", "token": "t", "encoding_aes_key": "short", "pin": "1"]
            let bad = try await h.call(.post, "/v1/channels", token: tenant.admin, json: body)
            #expect(bad.status == .unprocessableContent)
            #expect(Set(bad.fields) == ["credentials.encoding_aes_key", "credentials.pin"])
            body["credentials"] = nil
            let missing = try await h.call(.post, "/v1/channels", token: tenant.admin, json: body)
            #expect(missing.status == .unprocessableContent && missing.fields.contains("credentials.app_secret"))
            let partner = try await h.call(.post, "/v1/channels", token: tenant.admin, json: [
                "name": "Partner", "type": "partner", "enabled": true, "credentials": ["token": "partner-token-1234"],
            ])
            #expect(partner.status == .unprocessableContent && partner.fields == ["outbound_url"])
            let unknownType = try await h.call(.post, "/v1/channels", token: tenant.admin, json: ["name": "X", "type": "fax", "enabled": true])
            #expect(unknownType.status == .unprocessableContent && unknownType.fields == ["type"])
        }
    }

    @Test func aTenantBindsAtMostTwentyOfficialAccounts() async throws {
        try await ReceptionHarness.run { h in
            let tenant = try await h.tenant()
            // Created concurrently: the limit holds under a race, not only one at a time.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<Channel.officialAccountLimit {
                    group.addTask { _ = try await h.create("/v1/channels", token: tenant.admin, Bodies.officialAccount("OA \(index)")) }
                }
                try await group.waitForAll()
            }
            let extra = try await h.call(.post, "/v1/channels", token: tenant.admin, json: Bodies.officialAccount("OA 21"))
            #expect(extra.status == .conflict && extra.code == "official_account_limit")
            // Other channel types are not counted.
            #expect(try await h.call(.post, "/v1/channels", token: tenant.admin, json: Bodies.webChannel()).status == .created)
            // Another tenant has its own twenty.
            let other = try await h.tenant()
            #expect(try await h.call(.post, "/v1/channels", token: other.admin, json: Bodies.officialAccount("OA 1")).status == .created)
            let list = try await h.call(.get, "/v1/channels", token: tenant.admin)
            #expect(list.data.filter { $0["type"] as? String == "wechat_official_account" }.count == 20)
        }
    }

    @Test func duplicateNamesAre409() async throws {
        try await ReceptionHarness.run { h in
            let tenant = try await h.tenant()
            _ = try await h.create("/v1/channels", token: tenant.admin, Bodies.webChannel("Site"))
            let again = try await h.call(.post, "/v1/channels", token: tenant.admin, json: Bodies.webChannel("site"))
            #expect(again.status == .conflict && again.code == "name_taken")
        }
    }

    @Test func officialAccountAutoRepliesAndMenu() async throws {
        try await ReceptionHarness.run { h in
            let tenant = try await h.tenant()
            let oa = try await h.create("/v1/channels", token: tenant.admin, Bodies.officialAccount("OA"))
            let material = try await h.create("/v1/materials", token: tenant.admin, [
                "title": "Prices", "content": ["type": "rich", "articles": [["title": "Price list", "url": "https://example.com/prices"]]],
            ])
            #expect(try await h.call(.get, "/v1/channels/\(oa)/auto-reply", token: tenant.admin).json["keyword_replies"] as? [Any] != nil)
            let document: [String: Any] = [
                "keyword_replies": [
                    ["keyword": "price", "match": "contains", "reply": ["type": "material", "material_id": material]],
                    ["keyword": "hi", "match": "exact", "reply": ["type": "text", "text": "Hello!"]],
                ],
                "message_reply": ["type": "text", "text": "We will answer soon."],
                "menu": [
                    ["name": "Service", "action": "connect_agent"],
                    ["name": "More", "sub_items": [
                        ["name": "Website", "action": "open_url", "url": "https://example.com"],
                        ["name": "Prices", "action": "reply", "reply": ["type": "material", "material_id": material]],
                    ]],
                ],
            ]
            let saved = try await h.call(.put, "/v1/channels/\(oa)/auto-reply", token: tenant.admin, json: document)
            #expect(saved.status == .ok, "\(saved.text)")
            let read = try await h.call(.get, "/v1/channels/\(oa)/auto-reply", token: tenant.admin)
            #expect((read.json["keyword_replies"] as? [Any])?.count == 2 && (read.json["menu"] as? [Any])?.count == 2)

            // The material is in use: it cannot be deleted from under the menu.
            let delete = try await h.call(.delete, "/v1/materials/\(material)", token: tenant.admin)
            #expect(delete.status == .conflict && delete.code == "in_use")

            let bad = try await h.call(.put, "/v1/channels/\(oa)/auto-reply", token: tenant.admin, json: [
                "keyword_replies": [["keyword": "x", "match": "exact", "reply": ["type": "material", "material_id": UUID().uuidString]]],
                "menu": [["name": "A", "action": "open_url"], ["name": "B", "action": "reply"], ["name": "C", "action": "connect_agent"], ["name": "D", "action": "connect_agent"]],
            ])
            #expect(bad.status == .unprocessableContent)
            #expect(Set(bad.fields).isSuperset(of: ["keyword_replies[0].reply.material_id", "menu", "menu[0].url", "menu[1].reply"]), "\(bad.fields)")

            let web = try await h.create("/v1/channels", token: tenant.admin, Bodies.webChannel())
            let notOA = try await h.call(.put, "/v1/channels/\(web)/auto-reply", token: tenant.admin, json: document)
            #expect(notOA.status == .conflict && notOA.code == "not_official_account")

            // Deleting the channel takes its auto-replies with it, and frees the material.
            #expect(try await h.call(.delete, "/v1/channels/\(oa)", token: tenant.admin).status == .noContent)
            #expect(try await h.call(.delete, "/v1/materials/\(material)", token: tenant.admin).status == .noContent)
        }
    }
}
