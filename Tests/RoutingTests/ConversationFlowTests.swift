import Foundation
import HTTPTypes
import KefuModels
import KefuTestSupport
import Testing

/// A visitor arrives, is assigned, and the two write to each other; the basic path end to end.
@Suite struct ConversationFlowTests {
    @Test func aVisitorKeepsTheirIdentityAcrossVisits() async throws {
        try await RoutingHarness.run { h in
            let tenant = try await h.tenant()
            let agent = try await h.agent(in: tenant)
            let (_, key) = try await h.groupWidget(in: tenant, members: [agent])
            let first = try await h.visitor(key, attributes: ["page_url": "https://shop.example/cart", "region": "Shanghai"])
            let again = try await h.routing.call(.post, "/v1/public/widgets/\(key)/visitors", json: ["visitor_token": first.token])
            #expect(again.status == .ok)
            #expect(again.string("visitor_id") == first.id)
            #expect(again.json["visit_count"] as? Int == 2)
            #expect(again.headers[.accessControlAllowOrigin] == "*")
            // A forged token is no visitor: a new one starts.
            let forged = try await h.routing.call(.post, "/v1/public/widgets/\(key)/visitors", json: ["visitor_token": first.token + "x"])
            #expect(forged.status == .created)
            #expect(forged.string("visitor_id") != first.id)
            // An unknown widget key is 404.
            #expect(try await h.routing.call(.post, "/v1/public/widgets/wk_nosuchkey/visitors", json: [String: Any]()).status == .notFound)
            // Page views are recorded for the trail.
            let viewed = try await h.routing.call(.post, "/v1/visitor/page-views", token: first.token, json: ["url": "https://shop.example/pay", "title": "Pay"])
            #expect(viewed.status == .noContent)
            let events = try await TestEnvironment.ownerQuery(
                "SELECT type FROM kefu.events WHERE tenant_id = \(tenant.id.uuid) AND type LIKE 'visitor.%' ORDER BY id", as: String.self
            )
            #expect(events == ["visitor.seen", "visitor.seen", "visitor.seen", "visitor.page_viewed"])
        }
    }

    @Test func aVisitorIsAssignedAndBothSidesWriteInOrderWithoutDuplicates() async throws {
        try await RoutingHarness.run { h in
            let tenant = try await h.tenant()
            let agent = try await h.agent(in: tenant, name: "Lin")
            let (group, key) = try await h.groupWidget(in: tenant, members: [agent])
            try await h.online(agent)
            let visitor = try await h.visitor(key)
            let started = try await h.start(visitor)
            #expect(started.status == .created)
            #expect(started.string("status") == "open")
            #expect(started.agentID == agent.id.description)
            #expect(started.string("group_id") == group)
            let id = started.id!
            // Starting again returns the live conversation.
            let again = try await h.start(visitor)
            #expect(again.status == .ok)
            #expect(again.id == id)

            let hello = try await h.routing.call(.post, "/v1/visitor/conversations/\(id)/messages", token: visitor.token, json: [
                "client_message_id": "m-1", "body": ["type": "text", "text": "Hello?"],
            ])
            #expect(hello.status == .created)
            #expect(hello.json["seq"] as? Int == 1)
            let retried = try await h.routing.call(.post, "/v1/visitor/conversations/\(id)/messages", token: visitor.token, json: [
                "client_message_id": "m-1", "body": ["type": "text", "text": "Hello?"],
            ])
            #expect(retried.status == .ok, "a retry stores nothing twice")
            #expect(retried.id == hello.id)
            let answer = try await h.routing.call(.post, "/v1/conversations/\(id)/messages", token: agent.token, json: [
                "client_message_id": "a-1", "body": ["type": "text", "text": "Hi, how can I help?"],
            ])
            #expect(answer.status == .created)
            #expect(answer.json["seq"] as? Int == 2)

            let page = try await h.routing.call(.get, "/v1/visitor/conversations/\(id)/messages?after_seq=0", token: visitor.token)
            #expect(page.data.map { $0["seq"] as? Int } == [1, 2])
            #expect(page.data.map { $0["sender"] as? String } == ["visitor", "agent"])
            let rest = try await h.routing.call(.get, "/v1/conversations/\(id)/messages?after_seq=1", token: agent.token)
            #expect(rest.data.map { $0["seq"] as? Int } == [2])

            let active = try await h.routing.call(.get, "/v1/conversations?view=active", token: agent.token)
            #expect(active.data.map { $0["id"] as? String } == [id])
            let trace = try await h.routing.call(.get, "/v1/conversations/\(id)", token: agent.token).json["routing_trace"] as? [[String: Any]]
            #expect(trace?.contains { ($0["candidates"] as? [[String: Any]])?.first?["outcome"] as? String == "taken" } == true)

            let ended = try await h.routing.call(.post, "/v1/conversations/\(id)/end", token: agent.token)
            #expect(ended.status == .ok)
            #expect(ended.string("status") == "ended")
            #expect(ended.string("end_reason") == "agent")
            let late = try await h.routing.call(.post, "/v1/visitor/conversations/\(id)/messages", token: visitor.token, json: [
                "body": ["type": "text", "text": "Still there?"],
            ])
            #expect(late.status == .conflict)
            #expect(try await h.routing.call(.get, "/v1/conversations?view=active", token: agent.token).data.isEmpty)
            #expect(try await h.routing.call(.get, "/v1/conversations?view=all", token: agent.token).data.count == 1)
            let state = try await h.routing.call(.get, "/v1/agents/me/state", token: agent.token)
            #expect(state.json["open_conversations"] as? Int == 0)

            let types = try await TestEnvironment.ownerQuery(
                "SELECT type FROM kefu.events WHERE tenant_id = \(tenant.id.uuid) AND (type LIKE 'conversation.%' OR type LIKE 'message.%') ORDER BY id",
                as: String.self
            )
            // The third message: the satisfaction survey's invitation, sent by the agent's end (the default survey).
            #expect(types == ["conversation.created", "conversation.assigned", "message.created", "message.created", "message.created", "conversation.ended"])
        }
    }

    @Test func aVisitorsBadAttributesAndPageViewsAreRefusedNamingTheField() async throws {
        try await RoutingHarness.run { h in
            let tenant = try await h.tenant()
            let agent = try await h.agent(in: tenant)
            let (_, key) = try await h.groupWidget(in: tenant, members: [agent])
            let custom = Dictionary(uniqueKeysWithValues: (0..<21).map { ("k\($0)", "v") })
            for (attributes, field) in [
                (["page_url": String(repeating: "x", count: 2049)], "attributes.page_url"),
                (["region": 7], "attributes.region"),
                (["custom": custom], "attributes.custom"),
            ] as [([String: Any], String)] {
                let reply = try await h.routing.call(.post, "/v1/public/widgets/\(key)/visitors", json: ["attributes": attributes])
                #expect(reply.status == .unprocessableContent, "\(field): \(reply.text)")
                #expect(reply.fields.contains(field), "\(field): \(reply.fields)")
            }
            let seen = try await TestEnvironment.ownerQuery(
                "SELECT count(*)::int FROM routing.visitors WHERE tenant_id = \(tenant.id.uuid)", as: Int.self
            )
            #expect(seen == [0], "no visitor was written")
            let visitor = try await h.visitor(key)
            for (body, field) in [
                ([String: Any](), "url"),
                (["url": ""], "url"),
                (["url": "https://a.example/", "title": String(repeating: "t", count: 501)], "title"),
            ] {
                let reply = try await h.routing.call(.post, "/v1/visitor/page-views", token: visitor.token, json: body)
                #expect(reply.status == .unprocessableContent, "\(field): \(reply.text)")
                #expect(reply.fields.contains(field), "\(field): \(reply.fields)")
            }
            let views = try await TestEnvironment.ownerQuery(
                "SELECT count(*)::int FROM routing.page_views WHERE tenant_id = \(tenant.id.uuid)", as: Int.self
            )
            #expect(views == [0], "no page view was written")
        }
    }

    /// Recent contacts page through every conversation once, whichever sort, even when several
    /// share a millisecond.
    @Test func recentContactsPageThroughEachConversationOnce() async throws {
        try await RoutingHarness.run { h in
            let tenant = try await h.tenant()
            let agent = try await h.agent(in: tenant)
            let (_, key) = try await h.groupWidget(in: tenant, members: [agent], limit: 20)
            try await h.online(agent)
            var started: Set<String> = []
            for _ in 0..<9 { started.insert(try await h.start(try await h.visitor(key)).id!) }
            for sort in ["entry", "last_message"] {
                var seen: [String] = []
                var cursor: String?
                repeat {
                    let query = "/v1/conversations?view=all&sort=\(sort)&limit=2" + (cursor.map { "&cursor=\($0)" } ?? "")
                    let page = try await h.routing.call(.get, query, token: agent.token)
                    #expect(page.status == .ok, "\(page.text)")
                    seen += page.data.compactMap { $0["id"] as? String }
                    cursor = page.json["next_cursor"] as? String
                } while cursor != nil && seen.count <= 20
                #expect(seen.count == 9, "\(sort): \(seen.count) rows")
                #expect(Set(seen) == started, "\(sort): each conversation once")
            }
            let bad = try await h.routing.call(.get, "/v1/conversations?sort=oldest", token: agent.token)
            #expect(bad.fields == ["sort"])
        }
    }

    @Test func startingVisitorsIsLimitedPerAddress() async throws {
        try await RoutingHarness.run(environment: ["KEFU_VISITOR_RATE_LIMIT_PER_ADDRESS": "3"]) { h in
            let tenant = try await h.tenant()
            let agent = try await h.agent(in: tenant)
            let (_, key) = try await h.groupWidget(in: tenant, members: [agent])
            var statuses: [HTTPResponse.Status] = []
            var retryAfter: String?
            for _ in 0..<6 {
                let reply = try await h.routing.call(.post, "/v1/public/widgets/\(key)/visitors", json: [String: Any]())
                statuses.append(reply.status)
                if reply.status == .tooManyRequests { retryAfter = reply.headers[.retryAfter] }
            }
            // Other tests count into the same address too: at most 3 pass, the rest are refused.
            #expect(statuses.filter { $0 == .created }.count <= 3, "\(statuses)")
            #expect(statuses.suffix(3).allSatisfy { $0 == .tooManyRequests }, "\(statuses)")
            #expect(retryAfter != nil)
        }
    }

    @Test func badMessagesAreRefusedNamingTheField() async throws {
        try await RoutingHarness.run { h in
            let tenant = try await h.tenant()
            let agent = try await h.agent(in: tenant)
            let (_, key) = try await h.groupWidget(in: tenant, members: [agent])
            let visitor = try await h.visitor(key)
            let id = try await h.start(visitor).id!
            for (body, field) in [
                (["body": ["type": "text", "text": ""]], "body.text"),
                (["body": ["type": "image", "url": "not a url"]], "body.url"),
                (["body": ["type": "file", "url": "https://f.example/a.pdf"]], "body.name"),
                (["body": ["type": "rich"]], "body.material_id"),
                (["body": ["type": "video"]], "body.type"),
                (["client_message_id": String(repeating: "x", count: 65), "body": ["type": "text", "text": "x"]], "client_message_id"),
            ] as [([String: Any], String)] {
                let reply = try await h.routing.call(.post, "/v1/visitor/conversations/\(id)/messages", token: visitor.token, json: body)
                #expect(reply.status == .unprocessableContent, "\(field): \(reply.text)")
                #expect(reply.fields.contains(field), "\(field): \(reply.fields)")
            }
            let page = try await h.routing.call(.get, "/v1/visitor/conversations/\(id)/messages", token: visitor.token)
            #expect(page.data.isEmpty, "nothing was written")
            #expect(try await h.routing.call(.put, "/v1/agents/me/state", token: agent.token, json: ["status": "asleep"]).fields == ["status"])
        }
    }
}
