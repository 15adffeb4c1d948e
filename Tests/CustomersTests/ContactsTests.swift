import Foundation
import KefuCore
import KefuModels
import KefuTestSupport
import Testing

/// Contacts from routing's events, and entry (入库).
@Suite struct ContactsTests {
    func seen(_ visitor: VisitorID, count: Int = 1) -> VisitorSeen {
        VisitorSeen(visitorId: visitor, widgetId: UUID(), isNew: count == 1, visitCount: count,
                    attributes: ["region": "杭州", "source": "baidu"], seenAt: Date())
    }

    func contact(_ h: CustomersHarness, _ tenant: CustomersHarness.Tenant) async throws -> [String: Any]? {
        try await h.call(.get, "/v1/customers?entered=false", token: tenant.admin).data.first
    }

    @Test func aVisitorBecomesAContactAndEachConversationCountsOnce() async throws {
        try await CustomersHarness.run { h in
            let tenant = try await h.tenant()
            let visitor = VisitorID()
            try await h.publish(seen(visitor), in: tenant)
            try await h.publish(seen(visitor, count: 2), in: tenant)
            let conversation = ConversationID()
            let created = ConversationCreated(conversationId: conversation, visitorId: visitor, widgetId: nil, channel: "web", createdAt: Date())
            try await h.publish(created, in: tenant)
            try await h.publish(created, in: tenant)
            try await h.publish(ConversationEnded(conversationId: conversation, reason: .agent, agentId: nil, by: nil, endedAt: Date()), in: tenant)
            try #require(try await h.eventually {
                try await TestEnvironment.ownerQuery(
                    "SELECT count(*)::int FROM customers.receptions WHERE tenant_id = \(tenant.id.uuid) AND ended_at IS NOT NULL", as: Int.self
                ) == [1]
            }, "the conversation's end was not applied")
            let contact = try #require(try await contact(h, tenant))
            #expect(contact["entered"] as? Bool == false)
            #expect(contact["reception_count"] as? Int == 1, "a redelivered conversation counts once")
            #expect(contact["last_reception_at"] is String)
            #expect(contact["visit_count"] as? Int == 2)
            #expect(contact["region"] as? String == "杭州" && contact["source"] as? String == "baidu")
            let identities = contact["identities"] as? [[String: Any]] ?? []
            #expect(identities.map { $0["kind"] as? String } == ["web_visitor"])
            #expect(identities.first?["external_id"] as? String == visitor.description)
            #expect(Set(contact.keys) == ["id", "entered", "region", "source", "value_score", "score_reasons", "reception_count",
                                          "last_reception_at", "visit_count", "last_seen_at", "identities", "created_at", "updated_at"],
                    "a contact shows few fields: no profile, tags or custom values until it is entered")
            #expect(try await h.call(.get, "/v1/customers?entered=true", token: tenant.admin).data.isEmpty)
            #expect(try await h.events(CustomerCreated.self, in: tenant).count == 1, "one visitor, one contact")
        }
    }

    @Test func aContactIsReadOnlyUntilEntered() async throws {
        try await CustomersHarness.run { h in
            let tenant = try await h.tenant()
            try await h.publish(seen(VisitorID()), in: tenant)
            try #require(try await h.eventually { try await contact(h, tenant) != nil })
            let id = try #require(try await contact(h, tenant)?["id"] as? String)
            let edit = try await h.call(.patch, "/v1/customers/\(id)", token: tenant.admin, json: ["name": "Known"])
            #expect(edit.status == .conflict && edit.code == "not_entered")
            let claim = try await h.call(.post, "/v1/customers/\(id)/claim", token: tenant.admin)
            #expect(claim.status == .conflict && claim.code == "not_entered", "a contact is in no pool: \(claim.text)")
            #expect(try await h.call(.post, "/v1/customers/\(id)/enter", token: try await h.token(tenant, [.customersView])).status == .forbidden)

            let entered = try await h.call(.post, "/v1/customers/\(id)/enter", token: tenant.admin)
            #expect(entered.status == .ok, "\(entered.text)")
            #expect(entered.json["entered"] as? Bool == true && entered.string("owner_id") == tenant.adminID.description)
            #expect(entered.json["tags"] as? [String] == [] && entered.json["custom_fields"] is [String: Any], "entered: the library's fields")
            #expect(try await h.call(.post, "/v1/customers/\(id)/enter", token: tenant.admin).code == "already_entered")
            #expect(try await h.call(.patch, "/v1/customers/\(id)", token: tenant.admin, json: ["name": "Known"]).status == .ok)
            let owners = try await h.events(CustomerOwnerChanged.self, in: tenant)
            #expect(owners.last?.ownerId == tenant.adminID && owners.last?.visitorIds.count == 1, "routing learns the owner of the visitor")
        }
    }
}
