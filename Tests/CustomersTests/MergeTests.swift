import Foundation
import KefuCore
import KefuModels
import KefuTestSupport
import Testing

/// Merges: everything moves to the survivor, the loser answers 410, races and self-merges fail cleanly.
@Suite struct MergeTests {
    @Test func aMergeMovesEverythingAndKeepsTheLosersValues() async throws {
        try await CustomersHarness.run { h in
            let tenant = try await h.tenant()
            #expect(try await h.call(.post, "/v1/customer-fields", token: tenant.admin, json: [
                "api_name": "level", "display_name": "Level", "type": "short_text",
            ]).status == .created)
            #expect(try await h.call(.post, "/v1/customer-fields", token: tenant.admin, json: [
                "api_name": "budget", "display_name": "Budget", "type": "number",
            ]).status == .created)
            let survivor = try await h.customer(tenant, [
                "name": "Li Lei", "company": "Acme", "tags": ["vip"], "phones": [["value": "13800000001"]],
                "custom_fields": ["level": "gold"], "identities": [["kind": "qq", "external_id": "111"]],
            ])
            // A contact from routing, entered, then given a profile.
            let visitor = VisitorID()
            try await h.publish(VisitorSeen(visitorId: visitor, widgetId: UUID(), isNew: true, visitCount: 1, attributes: [:], seenAt: Date()), in: tenant)
            try await h.publish(VisitorPageViewed(visitorId: visitor, url: "https://shop.example/p", title: "P", referrer: nil, viewedAt: Date()), in: tenant)
            try await h.publish(VisitorMenuClicked(visitorId: visitor, channelId: UUID(), key: "k", name: "价格", clickedAt: Date()), in: tenant)
            try await h.publish(ConversationCreated(conversationId: ConversationID(), visitorId: visitor, widgetId: nil, channel: "web", createdAt: Date()), in: tenant)
            var loser: String?
            #expect(try await h.eventually {
                loser = try await h.call(.get, "/v1/customers?entered=false", token: tenant.admin).data.first { ($0["reception_count"] as? Int) == 1 }?["id"] as? String
                return loser != nil
            })
            let gone = try #require(loser)
            #expect(try await h.call(.post, "/v1/customers/\(gone)/enter", token: tenant.admin).status == .ok)
            #expect(try await h.call(.patch, "/v1/customers/\(gone)", token: tenant.admin, json: [
                "name": "Lei Li", "company": "Other Co", "title": "Buyer", "tags": ["wholesale", "vip"],
                "phones": [["value": "13900000002"]], "emails": [["value": "lei@example.com"]], "custom_fields": ["level": "silver", "budget": 900],
            ]).status == .ok)
            #expect(try await h.call(.post, "/v1/customers/\(gone)/follow-ups", token: tenant.admin, json: ["note": "Called"]).status == .created)
            func trailKinds(_ id: String) async throws -> [String] {
                try await h.call(.get, "/v1/customers/\(id)/trail?limit=100", token: tenant.admin).data.compactMap { $0["kind"] as? String }.sorted()
            }
            #expect(try await h.eventually { try await trailKinds(gone) == ["conversation", "follow_up", "menu_clicked", "page_viewed"] })

            let merged = try await h.call(.post, "/v1/customers/\(survivor)/merge", token: tenant.admin, json: ["from": [gone]])
            #expect(merged.status == .ok, "\(merged.text)")
            let moved = merged.json["moved"] as? [String: Any] ?? [:]
            // The loser's web visitor and its profile phone (an identity too).
            #expect(moved["identities"] as? Int == 2 && moved["receptions"] as? Int == 1)
            #expect(moved["tags"] as? [String] == ["wholesale"] && moved["phones"] as? [String] == ["13900000002"])
            #expect(moved["emails"] as? [String] == ["lei@example.com"])
            #expect(Set(moved["filled"] as? [String] ?? []) == ["title", "custom.budget"])
            let kept = (merged.json["losers"] as? [String: Any])?[gone] as? [String: Any]
            #expect(kept?["company"] as? String == "Other Co" && (kept?["custom_fields"] as? [String: Any])?["level"] as? String == "silver",
                    "the loser's replaced values are in the merge record")

            let after = try await h.call(.get, "/v1/customers/\(survivor)", token: tenant.admin)
            #expect(after.string("name") == "Li Lei" && after.string("company") == "Acme" && after.string("title") == "Buyer")
            #expect(after.json["tags"] as? [String] == ["vip", "wholesale"])
            #expect((after.json["phones"] as? [[String: Any]])?.map { $0["value"] as? String } == ["13800000001", "13900000002"])
            #expect((after.json["custom_fields"] as? [String: Any])?["level"] as? String == "gold")
            #expect((after.json["custom_fields"] as? [String: Any])?["budget"] as? Double == 900)
            #expect(Set((after.json["identities"] as? [[String: Any]] ?? []).compactMap { $0["kind"] as? String }) == ["phone", "qq", "web_visitor"])
            #expect(Set((after.json["identities"] as? [[String: Any]] ?? []).filter { $0["kind"] as? String == "phone" }
                .compactMap { $0["external_id"] as? String }) == ["13800000001", "13900000002"])
            #expect(after.json["reception_count"] as? Int == 1)
            #expect((after.json["emails"] as? [[String: Any]])?.map { $0["value"] as? String } == ["lei@example.com"])
            #expect(try await trailKinds(survivor) == ["conversation", "follow_up", "menu_clicked", "merge", "page_viewed"],
                    "the loser's pages, menu clicks, conversations and follow-ups are the survivor's")
            #expect(try await h.call(.get, "/v1/customers/\(survivor)/follow-ups", token: tenant.admin).data.map { $0["note"] as? String } == ["Called"])

            let old = try await h.call(.get, "/v1/customers/\(gone)", token: tenant.admin)
            #expect(old.status == .gone && old.code == "merged" && old.string("merged_into") == survivor)
            #expect(try await h.call(.patch, "/v1/customers/\(gone)", token: tenant.admin, json: ["title": "X"]).status == .gone)
            #expect(try await h.call(.get, "/v1/customers/\(survivor)/merges", token: tenant.admin).data.count == 1)

            let events = try await h.events(CustomerMerged.self, in: tenant)
            #expect(events.map(\.mergedIds) == [[UUID(uuidString: gone)!]] && events.first?.visitorIds == [visitor])
            #expect(try await h.events(CustomerOwnerChanged.self, in: tenant).last?.visitorIds == [visitor], "routing learns the visitor's new owner")
            // Later traffic of the merged visitor counts on the survivor.
            try await h.publish(ConversationCreated(conversationId: ConversationID(), visitorId: visitor, widgetId: nil, channel: "web", createdAt: Date()), in: tenant)
            #expect(try await h.eventually { try await h.call(.get, "/v1/customers/\(survivor)", token: tenant.admin).json["reception_count"] as? Int == 2 })
        }
    }

    /// A merged here, then A merged into C: C's merge history and trail hold both merges.
    @Test func aSurvivorMergedLaterTakesItsMergeHistoryAlong() async throws {
        try await CustomersHarness.run { h in
            let tenant = try await h.tenant()
            let a = try await h.customer(tenant)
            let b = try await h.customer(tenant)
            let c = try await h.customer(tenant)
            try #require(try await h.call(.post, "/v1/customers/\(a)/merge", token: tenant.admin, json: ["from": [b]]).status == .ok)
            try #require(try await h.call(.post, "/v1/customers/\(c)/merge", token: tenant.admin, json: ["from": [a]]).status == .ok)
            let history = try await h.call(.get, "/v1/customers/\(c)/merges", token: tenant.admin).data
            #expect(history.map { $0["merged_ids"] as? [String] ?? [] } == [[b], [a]], "oldest first")
            let trail = try await h.call(.get, "/v1/customers/\(c)/trail", token: tenant.admin).data
            #expect(trail.filter { $0["kind"] as? String == "merge" }.count == 2, "\(trail)")
            #expect(try await h.call(.get, "/v1/customers/\(b)", token: tenant.admin).string("merged_into") == c)
        }
    }

    @Test func badMergesFailCleanly() async throws {
        try await CustomersHarness.run { h in
            let tenant = try await h.tenant()
            let other = try await h.tenant()
            let a = try await h.customer(tenant)
            let b = try await h.customer(tenant)
            let foreign = try await h.customer(other)
            #expect(try await h.call(.post, "/v1/customers/\(a)/merge", token: tenant.admin, json: ["from": [a]]).fields == ["from[0]"])
            #expect(try await h.call(.post, "/v1/customers/\(a)/merge", token: tenant.admin, json: ["from": [String]()]).fields == ["from"])
            #expect(try await h.call(.post, "/v1/customers/\(a)/merge", token: tenant.admin, json: ["from": ["nope"]]).fields == ["from[0]"])
            #expect(try await h.call(.post, "/v1/customers/\(a)/merge", token: tenant.admin, json: ["from": [foreign]]).fields == ["from[0]"])
            #expect(try await h.call(.post, "/v1/customers/\(foreign)/merge", token: tenant.admin, json: ["from": [a]]).status == .notFound)
            #expect(try await h.call(.post, "/v1/customers/\(a)/merge", token: try await h.token(tenant, [.customersView]), json: ["from": [b]]).status == .forbidden)
            let mine = try await h.token(tenant, scopes: [.mine])
            #expect(try await h.call(.post, "/v1/customers/\(a)/merge", token: mine, json: ["from": [b]]).status == .notFound)
            #expect(try await h.call(.get, "/v1/customers/\(b)", token: tenant.admin).status == .ok, "nothing merged")
            #expect(try await h.events(CustomerMerged.self, in: tenant).isEmpty)
        }
    }

    @Test func twoOppositeMergesAtOnceOneWinsAndNothingIsLost() async throws {
        try await CustomersHarness.run { h in
            let tenant = try await h.tenant()
            let a = try await h.customer(tenant, ["name": "A", "identities": [["kind": "qq", "external_id": "a"]]])
            let b = try await h.customer(tenant, ["name": "B", "identities": [["kind": "qq", "external_id": "b"]]])
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                group.addTask { Int(try await h.call(.post, "/v1/customers/\(a)/merge", token: tenant.admin, json: ["from": [b]]).status.code) }
                group.addTask { Int(try await h.call(.post, "/v1/customers/\(b)/merge", token: tenant.admin, json: ["from": [a]]).status.code) }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(statuses.sorted() == [200, 410], "the second finds its survivor merged away")
            let listed = try await h.call(.get, "/v1/customers", token: tenant.admin).data
            #expect(listed.count == 1)
            #expect(Set((listed.first?["identities"] as? [[String: Any]] ?? []).compactMap { $0["external_id"] as? String }) == ["a", "b"])
            #expect(try await h.events(CustomerMerged.self, in: tenant).count == 1)
        }
    }

    @Test func aStrongIdentifierMergesAndAWeakOneIsRefused() async throws {
        try await CustomersHarness.run { h in
            let tenant = try await h.tenant()
            let holder = try await h.customer(tenant, ["name": "Holder", "identities": [
                ["kind": "wechat_unionid", "external_id": "u-1"], ["kind": "qq", "external_id": "42"],
            ]])
            let target = try await h.customer(tenant, ["name": "Target"])
            let weak = try await h.call(.post, "/v1/customers/\(target)/identities", token: tenant.admin, json: ["kind": "qq", "external_id": "42"])
            #expect(weak.status == .conflict && weak.code == "identity_taken")
            #expect(try await h.call(.get, "/v1/customers/\(holder)", token: tenant.admin).status == .ok, "no merge by guesswork")
            let fresh = try await h.call(.post, "/v1/customers/\(target)/identities", token: tenant.admin, json: ["kind": "phone", "external_id": "13800000009"])
            #expect(fresh.status == .created, "\(fresh.text)")
            #expect(try await h.call(.post, "/v1/customers/\(target)/identities", token: tenant.admin, json: ["kind": "fax", "external_id": "1"]).fields == ["kind"])

            let strong = try await h.call(.post, "/v1/customers/\(target)/identities", token: tenant.admin, json: ["kind": "wechat_unionid", "external_id": "u-1"])
            #expect(strong.status == .created, "\(strong.text)")
            #expect(Set((strong.json["identities"] as? [[String: Any]] ?? []).compactMap { $0["external_id"] as? String }) == ["13800000009", "u-1", "42"])
            #expect(try await h.call(.get, "/v1/customers/\(holder)", token: tenant.admin).string("merged_into") == target)
            #expect(try await h.events(CustomerMerged.self, in: tenant).map(\.reason) == ["identity"])
        }
    }

    /// An identity can be removed: afterwards another customer takes it without merging the
    /// first. Bad input names its query parameter and removes nothing; a web visitor id stays.
    @Test func anIdentityIsRemovedAndThenNoLongerMerges() async throws {
        try await CustomersHarness.run { h in
            let tenant = try await h.tenant()
            let other = try await h.tenant()
            let first = try await h.customer(tenant, ["name": "First", "identities": [
                ["kind": "phone", "external_id": "13900000001"], ["kind": "wechat_openid", "channel": "wx-a", "external_id": "o-1"],
            ]])
            let second = try await h.customer(tenant, ["name": "Second"])
            func identities(_ id: String) async throws -> Set<String> {
                Set((try await h.call(.get, "/v1/customers/\(id)", token: tenant.admin).json["identities"] as? [[String: Any]] ?? [])
                    .compactMap { $0["external_id"] as? String })
            }
            let path = "/v1/customers/\(first)/identities"
            #expect(try await h.call(.delete, path + "?kind=fax&external_id=1", token: tenant.admin).fields == ["kind"])
            #expect(try await h.call(.delete, path + "?kind=wechat_openid&external_id=o-1", token: tenant.admin).fields == ["channel"])
            #expect(try await h.call(.delete, path + "?kind=phone", token: tenant.admin).fields == ["external_id"])
            #expect(try await h.call(.delete, path + "?kind=web_visitor&external_id=\(UUID().uuidString)", token: tenant.admin).fields == ["kind"])
            #expect(try await identities(first) == ["13900000001", "o-1"], "nothing removed")
            #expect(try await h.call(.delete, path + "?kind=phone&external_id=13900000001",
                                     token: try await h.token(tenant, [.customersView])).status == .forbidden)
            #expect(try await h.call(.delete, path + "?kind=phone&external_id=13900000001", token: other.admin).status == .notFound)
            #expect(try await h.call(.delete, "/v1/customers/\(second)/identities?kind=phone&external_id=13900000001", token: tenant.admin).status == .notFound,
                    "second does not hold it")

            let removed = try await h.call(.delete, path + "?kind=wechat_openid&channel=wx-a&external_id=o-1", token: tenant.admin)
            #expect(removed.status == .ok, "\(removed.text)")
            #expect(try await h.call(.delete, path + "?kind=phone&external_id=13900000001", token: tenant.admin).status == .ok)
            #expect(try await identities(first).isEmpty)
            #expect(try await h.events(CustomerUpdated.self, in: tenant).filter { $0.fields == ["identities"] }.count == 2)
            #expect(try await h.events(AuditRecorded.self, in: tenant).filter { $0.action == "customers.identity.removed" }.map(\.targetId) == [first, first])
            // The phone is nobody's now: another customer takes it and nothing merges.
            let taken = try await h.call(.post, "/v1/customers/\(second)/identities", token: tenant.admin, json: ["kind": "phone", "external_id": "13900000001"])
            #expect(taken.status == .created, "\(taken.text)")
            #expect(try await h.call(.get, "/v1/customers/\(first)", token: tenant.admin).status == .ok, "not merged")
            #expect(try await h.events(CustomerMerged.self, in: tenant).isEmpty)
        }
    }

    /// A profile's phones are its phone identities: a number free of any customer becomes one, a
    /// number another customer holds does not (and merges nothing), a number taken off the
    /// profile takes its identity along; the same number added as an identity elsewhere merges.
    @Test func profilePhonesBecomeIdentities() async throws {
        try await CustomersHarness.run { h in
            let tenant = try await h.tenant()
            func phones(_ id: String) async throws -> Set<String> {
                Set((try await h.call(.get, "/v1/customers/\(id)", token: tenant.admin).json["identities"] as? [[String: Any]] ?? [])
                    .filter { $0["kind"] as? String == "phone" }.compactMap { $0["external_id"] as? String })
            }
            let first = try await h.customer(tenant, ["name": "First", "phones": [["value": "13600000001"], ["value": "13600000002"]]])
            #expect(try await phones(first) == ["13600000001", "13600000002"])
            let second = try await h.customer(tenant, ["name": "Second", "phones": [["value": "13600000002"], ["value": "13600000003"]]])
            #expect(try await phones(second) == ["13600000003"], "a number First holds stays a profile value")
            #expect(try await h.call(.get, "/v1/customers/\(first)", token: tenant.admin).status == .ok, "nothing merged")
            #expect(try await h.call(.patch, "/v1/customers/\(first)", token: tenant.admin, json: ["phones": [["value": "13600000001"]]]).status == .ok)
            #expect(try await phones(first) == ["13600000001"])
            let imported = try await h.upload("name,phones\r\nThird,13600000004\r\n", token: tenant.admin)
            #expect(imported.json["created"] as? Int == 1, "\(imported.text)")
            let third = try #require((imported.json["rows"] as? [[String: Any]])?.first?["customer_id"] as? String)
            #expect(try await phones(third) == ["13600000004"])
            // The number as an identity of another customer is the same person: they merge.
            let merged = try await h.call(.post, "/v1/customers/\(second)/identities", token: tenant.admin, json: ["kind": "phone", "external_id": "13600000001"])
            #expect(merged.status == .created, "\(merged.text)")
            #expect(try await h.call(.get, "/v1/customers/\(first)", token: tenant.admin).string("merged_into") == second)
        }
    }
}
