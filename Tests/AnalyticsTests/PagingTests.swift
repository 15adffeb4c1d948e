import Foundation
import KefuCore
import KefuModels
import KefuTestSupport
import Testing

/// Keyset pages and the streamed CSV cover every record once, and the customer filter follows
/// the customer library's visitors.
@Suite struct PagingTests {
    @Test func cursorPagesAndTheStreamedCSVListEveryRecordOnce() async throws {
        try await AnalyticsHarness.run { h in
            let tenant = try await h.tenant()
            let start = Date().addingTimeInterval(-86_400).rounded()
            // 620 records (more than one CSV transaction of 500), some sharing a start time.
            var events: [any KefuEvent] = []
            for i in 0..<620 {
                events.append(ConversationCreated(conversationId: ConversationID(), visitorId: VisitorID(), widgetId: nil, channel: "web",
                                                  createdAt: start.addingTimeInterval(Double(i / 3))))
            }
            try await h.publish(events, in: tenant)
            try await h.settled(tenant)
            var paged: [String] = []
            var cursor: String?
            repeat {
                let reply = try await h.get("/v1/analytics/conversations?limit=200" + (cursor.map { "&cursor=\($0)" } ?? ""), token: tenant.admin)
                paged += reply.data.compactMap { $0["id"] as? String }
                cursor = reply.json["next_cursor"] as? String
            } while cursor != nil
            #expect(paged.count == 620 && Set(paged).count == 620, "every record once across pages")
            let csv = try await h.get("/v1/analytics/conversations?format=csv", token: tenant.admin).csvRows
            #expect(csv.dropFirst().map { $0[0] } == paged, "the CSV streams the same records in the same order")
            #expect(try await h.call(.get, "/v1/analytics/conversations?cursor=nope!", token: tenant.admin).fields == ["cursor"])
        }
    }

    @Test func recordsOfACustomerFollowTheLibrarysVisitorsAndMerges() async throws {
        try await AnalyticsHarness.run { h in
            let tenant = try await h.tenant()
            let first = VisitorID(), second = VisitorID(), stranger = VisitorID()
            let customer = UUID(), other = UUID()
            var scripts: [ConversationScript] = []
            for visitor in [first, second, stranger] {
                var c = ConversationScript(visitor: visitor, at: Date().addingTimeInterval(-600).rounded())
                c.say(.visitor, "hi", at: 1)
                scripts.append(c)
            }
            try await h.publish(scripts.flatMap(\.events) + [
                CustomerOwnerChanged(customerId: customer, ownerId: nil, ownerTeamId: nil, visitorIds: [first]),
                CustomerOwnerChanged(customerId: other, ownerId: nil, ownerTeamId: nil, visitorIds: [second]),
            ], in: tenant)
            try await h.settled(tenant)
            func records(of id: UUID) async throws -> Set<String> {
                Set(try await h.get("/v1/analytics/conversations?customer_id=\(id)", token: tenant.admin).data.compactMap { $0["id"] as? String })
            }
            #expect(try await records(of: customer) == [scripts[0].id.description])
            let record = try await h.get("/v1/analytics/conversations/\(scripts[0].id)", token: tenant.admin).json
            #expect(record["customer_id"] as? String == customer.uuidString.lowercased())
            #expect(record["social_account_id"] as? String == first.description)
            // The other customer is merged into the first: its visitor's records move with it.
            try await h.publish(CustomerMerged(mergeId: UUID(), survivorId: customer, mergedIds: [other], reason: "manual",
                                               visitorIds: [first, second], by: nil), in: tenant)
            try await h.settled(tenant)
            #expect(try await records(of: customer) == [scripts[0].id.description, scripts[1].id.description])
            #expect(try await records(of: other).isEmpty)
            let bySocial = try await h.get("/v1/analytics/conversations?social_account_id=\(stranger)", token: tenant.admin).data
            #expect(bySocial.map { $0["id"] as? String } == [scripts[2].id.description])
        }
    }
}
