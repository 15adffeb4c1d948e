import Foundation
import HTTPTypes
import KefuModels
import KefuTestSupport
import Testing

/// Quick replies by reference (issue 11): an agent sends an enterprise quick reply or one of their
/// own personal ones by id; nobody else's, and no other tenant's.
@Suite struct QuickReplyTests {
    @Test func anAgentSendsEnterpriseAndTheirOwnQuickRepliesByReference() async throws {
        try await RoutingHarness.run { h in
            let tenant = try await h.tenant(), other = try await h.tenant()
            let agent = try await h.agent(in: tenant), colleague = try await h.agent(in: tenant, name: "Colleague")
            let (_, key) = try await h.groupWidget(in: tenant, members: [agent])
            try await h.online(agent)
            let visitor = try await h.visitor(key)
            let conversation = try #require(try await h.start(visitor).id)

            func reply(_ path: String, token: String, _ text: String) async throws -> String {
                let created = try await h.reception.call(.post, path, token: token, json: ["category": "Greetings", "title": "Hi", "text": text])
                try #require(created.status == .created, "\(created.text)")
                return created.id!
            }
            let enterprise = try await reply("/v1/quick-replies", token: tenant.admin, "Welcome to Kefu!")
            let mine = try await reply("/v1/me/quick-replies", token: agent.token, "I will check and come back to you.")
            let theirs = try await reply("/v1/me/quick-replies", token: colleague.token, "Not yours to send.")
            let foreign = try await reply("/v1/quick-replies", token: other.admin, "Another tenant's.")

            func send(_ json: [String: Any]) async throws -> APIReply {
                try await h.routing.call(.post, "/v1/conversations/\(conversation)/messages", token: agent.token, json: json)
            }
            let first = try await send(["client_message_id": "q1", "quick_reply_id": enterprise])
            #expect(first.status == .created && (first.json["body"] as? [String: Any])?["text"] as? String == "Welcome to Kefu!", "\(first.text)")
            let second = try await send(["client_message_id": "q2", "quick_reply_id": mine])
            #expect(second.status == .created && (second.json["body"] as? [String: Any])?["text"] as? String == "I will check and come back to you.")
            for refused in [theirs, foreign, UUID().uuidString] {
                let answer = try await send(["client_message_id": "q-\(refused)", "quick_reply_id": refused])
                #expect(answer.status == .unprocessableContent && answer.fields == ["quick_reply_id"], "\(answer.text)")
            }
            let both = try await send(["client_message_id": "q3", "quick_reply_id": mine, "body": ["type": "text", "text": "x"]])
            #expect(both.status == .unprocessableContent && both.fields == ["body"] && both.text.contains("not_allowed"), "\(both.text)")
            let neither = try await send(["client_message_id": "q4"])
            #expect(neither.status == .unprocessableContent && neither.fields == ["body"] && neither.text.contains("required"), "\(neither.text)")
            // Reception's door for it is the platform's alone.
            let door = "/v1/platform/tenants/\(tenant.id)/quick-replies/\(enterprise)?employee=\(agent.id)"
            #expect([.unauthorized, .forbidden].contains(try await h.reception.call(.get, door, token: tenant.admin).status))
            #expect(try await h.reception.call(.get, door, token: agent.token).status != .ok)
            // The visitor got exactly the two that were sent.
            let seen = try await h.routing.call(.get, "/v1/visitor/conversations/\(conversation)/messages", token: visitor.token)
            #expect(seen.data.compactMap { $0["client_message_id"] as? String } == ["q1", "q2"], "\(seen.text)")
        }
    }
}
