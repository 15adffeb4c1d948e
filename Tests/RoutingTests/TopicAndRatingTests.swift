import Foundation
import HTTPTypes
import KefuModels
import KefuTestSupport
import Testing

/// Topic and status while open, locked once ended; the satisfaction survey (asked by the agent,
/// sent by ending) and the visitor's one rating.
@Suite struct TopicAndRatingTests {
    /// Changes a reception settings document (GET, edit, PUT) before routing first reads the
    /// tenant's snapshot.
    func settings(_ h: RoutingHarness, _ tenant: RoutingHarness.Tenant, _ path: String, _ edit: (inout [String: Any]) -> Void) async throws {
        var document = try await h.reception.call(.get, path, token: tenant.admin).json
        edit(&document)
        let reply = try await h.reception.call(.put, path, token: tenant.admin, json: document)
        try #require(reply.status == .ok, "\(reply.text)")
    }

    func texts(_ h: RoutingHarness, _ conversation: String, _ token: String) async throws -> [String] {
        try await h.routing.call(.get, "/v1/conversations/\(conversation)/messages", token: token).data
            .compactMap { ($0["body"] as? [String: Any])?["text"] as? String }
    }

    @Test func theHolderSetsTopicAndStatusWhileOpenThenTheyAreLocked() async throws {
        try await RoutingHarness.run { h in
            let tenant = try await h.tenant()
            try await settings(h, tenant, "/v1/reception/conversation-settings") { $0["topics"] = ["Billing", "Shipping"] }
            let ann = try await h.agent(in: tenant, name: "Ann")
            let (_, key) = try await h.groupWidget(in: tenant, members: [ann])
            try await h.online(ann)
            let id = try await h.start(try await h.visitor(key)).id!
            let path = "/v1/conversations/\(id)"

            for (payload, field) in [(["topic": "Gossip"], "topic"), ([String: Any](), "topic"), (["resolved": "yes"], "resolved")] as [([String: Any], String)] {
                let reply = try await h.routing.call(.patch, path, token: ann.token, json: payload)
                #expect(reply.status == .unprocessableContent && reply.fields == [field], "\(payload): \(reply.text)")
            }
            let colleague = try await h.agent(in: tenant)
            #expect(try await h.routing.call(.patch, path, token: colleague.token, json: ["resolved": true]).status == .notFound)
            // A supervisor sees it but does not hold it.
            #expect(try await h.routing.call(.patch, path, token: tenant.admin, json: ["resolved": true]).code == "not_your_conversation")
            #expect(try await h.routing.call(.get, path, token: ann.token).json["topic"] == nil)

            let set = try await h.routing.call(.patch, path, token: ann.token, json: ["topic": "Billing"])
            #expect(set.status == .ok, "\(set.text)")
            #expect(set.string("topic") == "Billing")
            let resolved = try await h.routing.call(.patch, path, token: ann.token, json: ["resolved": true])
            #expect(resolved.string("topic") == "Billing", "a field left out is kept")
            #expect(resolved.json["resolved"] as? Bool == true)
            let updates = try await TestEnvironment.ownerQuery(
                "SELECT count(*)::int FROM kefu.events WHERE tenant_id = \(tenant.id.uuid) AND type = 'conversation.updated'", as: Int.self
            )
            #expect(updates == [2])

            #expect(try await h.routing.call(.post, "\(path)/end", token: ann.token).status == .ok)
            let locked = try await h.routing.call(.patch, path, token: ann.token, json: ["resolved": false])
            #expect(locked.status == .conflict && locked.code == "conversation_ended")
            #expect(try await h.routing.call(.get, path, token: ann.token).json["resolved"] as? Bool == true)
        }
    }

    @Test func theVisitorRatesOnceAfterTheEndWithThatLevelsLabels() async throws {
        try await RoutingHarness.run { h in
            let tenant = try await h.tenant()
            let ann = try await h.agent(in: tenant, name: "Ann")
            let (_, key) = try await h.groupWidget(in: tenant, members: [ann])
            try await h.online(ann)
            let visitor = try await h.visitor(key)
            let id = try await h.start(visitor).id!
            let rating = "/v1/visitor/conversations/\(id)/rating"
            // Not yet: neither ended nor asked.
            let early = try await h.routing.call(.post, rating, token: visitor.token, json: ["stars": 5, "solved": true])
            #expect(early.status == .conflict && early.code == "rating_not_open", "\(early.text)")

            // The default survey is sent when the agent ends: the invitation is the last message.
            #expect(try await h.routing.call(.post, "/v1/conversations/\(id)/end", token: ann.token).status == .ok)
            #expect(try await texts(h, id, ann.token).last == "How did we do? Please rate this conversation.")

            let bad: [([String: Any], String)] = [
                (["solved": true], "stars"),
                (["stars": 6, "solved": true], "stars"),
                (["stars": 5, "labels": ["Rude"], "solved": true], "labels[0]"),
                (["stars": 5], "solved"),
                (["stars": 5, "solved": true, "comment": String(repeating: "x", count: 501)], "comment"),
            ]
            for (payload, field) in bad {
                let reply = try await h.routing.call(.post, rating, token: visitor.token, json: payload)
                #expect(reply.status == .unprocessableContent && reply.fields == [field], "\(payload): \(reply.text)")
            }
            let rated = try await h.routing.call(.post, rating, token: visitor.token, json: [
                "stars": 5, "labels": ["Attentive", "Professional"], "solved": true, "comment": "Thanks!",
            ])
            #expect(rated.status == .created, "\(rated.text)")
            #expect(rated.headers[.accessControlAllowOrigin] == "*")
            let stored = rated.json["rating"] as? [String: Any]
            #expect(stored?["stars"] as? Int == 5)
            #expect(stored?["labels"] as? [String] == ["Attentive", "Professional"])
            #expect(stored?["requested_at"] != nil)
            let again = try await h.routing.call(.post, rating, token: visitor.token, json: ["stars": 1, "solved": false])
            #expect(again.status == .conflict && again.code == "already_rated")
            let events = try await TestEnvironment.ownerQuery(
                "SELECT payload::text FROM kefu.events WHERE tenant_id = \(tenant.id.uuid) AND type = 'satisfaction.rated'", as: String.self
            )
            #expect(events.count == 1)
            let event = events.first.flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            #expect(event?["agent_id"] as? String == ann.id.description)
            #expect(event?["stars"] as? Int == 5)
            // The agent sees it with the conversation.
            #expect((try await h.routing.call(.get, "/v1/conversations/\(id)", token: ann.token).json["rating"] as? [String: Any])?["comment"] as? String == "Thanks!")
        }
    }

    @Test func theAgentAsksForARatingDuringTheConversation() async throws {
        try await RoutingHarness.run { h in
            let tenant = try await h.tenant()
            // Asked by the agent only, without the solved question.
            try await settings(h, tenant, "/v1/reception/satisfaction-survey") {
                $0["send_when"] = ["agent_invites"]
                $0["ask_solved"] = false
            }
            let ann = try await h.agent(in: tenant, name: "Ann")
            let (_, key) = try await h.groupWidget(in: tenant, members: [ann])
            try await h.online(ann)
            let visitor = try await h.visitor(key)
            let id = try await h.start(visitor).id!
            let asked = try await h.routing.call(.post, "/v1/conversations/\(id)/satisfaction-request", token: ann.token)
            #expect(asked.status == .ok, "\(asked.text)")
            #expect(try await texts(h, id, ann.token) == ["How did we do? Please rate this conversation."])
            let rating = "/v1/visitor/conversations/\(id)/rating"
            #expect(try await h.routing.call(.post, rating, token: visitor.token, json: ["stars": 2, "solved": true]).fields == ["solved"])
            let rated = try await h.routing.call(.post, rating, token: visitor.token, json: ["stars": 2, "labels": ["Slow response"]])
            #expect(rated.status == .created, "\(rated.text)")
            #expect(rated.string("status") == "open")
            #expect(try await h.routing.call(.post, "/v1/conversations/\(id)/satisfaction-request", token: ann.token).code == "already_rated")
            // Ending does not send the survey again (not configured for the end).
            #expect(try await h.routing.call(.post, "/v1/conversations/\(id)/end", token: ann.token).status == .ok)
            #expect(try await texts(h, id, ann.token).count == 1)
        }
    }

    @Test func aSwitchedOffSurveyTakesNoRating() async throws {
        try await RoutingHarness.run { h in
            let tenant = try await h.tenant()
            try await settings(h, tenant, "/v1/reception/satisfaction-survey") { $0["enabled"] = false }
            let ann = try await h.agent(in: tenant, name: "Ann")
            let (_, key) = try await h.groupWidget(in: tenant, members: [ann])
            try await h.online(ann)
            let visitor = try await h.visitor(key)
            let id = try await h.start(visitor).id!
            #expect(try await h.routing.call(.post, "/v1/conversations/\(id)/satisfaction-request", token: ann.token).code == "survey_disabled")
            #expect(try await h.routing.call(.post, "/v1/conversations/\(id)/end", token: ann.token).status == .ok)
            #expect(try await texts(h, id, ann.token).isEmpty, "no invitation when the survey is off")
            let refused = try await h.routing.call(.post, "/v1/visitor/conversations/\(id)/rating", token: visitor.token, json: ["stars": 4, "solved": true])
            #expect(refused.status == .conflict && refused.code == "survey_disabled")
        }
    }
}

/// Topic, status and rating reach the sockets as the conversation's new state.
@Suite(.serialized) struct ConversationUpdatePushTests {
    @Test func aTopicChangeReachesTheVisitorsSocketAsTheNewState() async throws {
        try await RoutingHarness.run(replicas: 2, live: true) { h in
            let tenant = try await h.tenant()
            let agent = try await h.agent(in: tenant)
            let (_, key) = try await h.groupWidget(in: tenant, members: [agent])
            try await h.online(agent)
            let visitor = try await h.visitor(key)
            let conversation = try await h.start(visitor).id!
            let settings = try await h.reception.call(.put, "/v1/reception/conversation-settings", token: tenant.admin, json: [
                "timeout_minutes": 30, "topics": ["Billing", "Delivery"],
                "high_quality": ["min_visitor_messages": 1, "min_agent_messages": 1],
            ])
            try #require(settings.status == .ok, "\(settings.text)")
            try await h.socket(on: 1, visitor: visitor.token) { socket in
                _ = try await socket.resume([conversation: 0])
                let patched = try await h.eventuallyReply {
                    try await h.replicas[0].call(.patch, "/v1/conversations/\(conversation)", token: agent.token, json: ["topic": "Billing", "resolved": true])
                }
                #expect(patched.status == .ok, "\(patched.text)")
                #expect(try await socket.waitFor { frames in
                    frames.contains { ($0["type"] as? String) == "conversation.state" && (($0["conversation"] as? [String: Any])?["topic"] as? String) == "Billing" }
                })
            }
        }
    }
}

extension RoutingHarness {
    /// Retries `call` until it is not a 422 (reception's new settings travel by event).
    func eventuallyReply(_ call: () async throws -> APIReply) async throws -> APIReply {
        var reply = try await call()
        for _ in 0..<100 where reply.status == .unprocessableContent {
            try await Task.sleep(for: .milliseconds(100))
            reply = try await call()
        }
        return reply
    }
}
