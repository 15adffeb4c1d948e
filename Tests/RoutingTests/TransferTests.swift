import Foundation
import HTTPTypes
import KefuModels
import KefuTestSupport
import Testing

/// Transfers (issue 11, "During and after"): by the holder to an agent or a group, forced by a
/// supervisor (also racing on two replicas), and interrupts.
@Suite struct TransferTests {
    func events(_ type: String, _ tenant: RoutingHarness.Tenant) async throws -> [[String: Any]] {
        try await TestEnvironment.ownerQuery(
            "SELECT payload::text FROM kefu.events WHERE tenant_id = \(tenant.id.uuid) AND type = \(type) ORDER BY id", as: String.self
        ).map { (try JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] ?? [:] }
    }

    func supervisor(_ h: RoutingHarness, _ tenant: RoutingHarness.Tenant) async throws -> String {
        try await TestKeys.shared.token(tenant: tenant.id, permissions: [.analyticsMonitoring, .analyticsForcedTransfer, .clientLogin])
    }

    @Test func toAnAgentWithAFreeSeatFreesTheSendersSeatAtOnce() async throws {
        try await RoutingHarness.run { h in
            let tenant = try await h.tenant()
            let ann = try await h.agent(in: tenant, name: "Ann"), bo = try await h.agent(in: tenant, name: "Bo")
            let (_, key) = try await h.groupWidget(in: tenant, members: [ann], limit: 1)
            _ = try await h.groupWidget(in: tenant, members: [bo], limit: 1)
            try await h.online(ann)
            try await h.online(bo)
            let first = try await h.start(try await h.visitor(key))
            #expect(first.agentID == ann.id.description)
            let second = try await h.start(try await h.visitor(key))
            #expect(second.string("status") == "queued")
            let path = "/v1/conversations/\(first.id!)/transfer"

            // Bad input names the field and moves nothing.
            let bad: [([String: Any], String)] = [
                ([:], "to_agent_id"),
                (["to_agent_id": bo.id.description, "to_group_id": UUID().uuidString], "to_group_id"),
                (["to_agent_id": UUID().uuidString], "to_agent_id"),
                (["to_group_id": UUID().uuidString], "to_group_id"),
                (["to_agent_id": ann.id.description], "to_agent_id"),
                (["to_agent_id": bo.id.description, "note": String(repeating: "x", count: 501)], "note"),
                (["to_agent_id": "not-a-uuid"], "to_agent_id"),
            ]
            for (payload, field) in bad {
                let reply = try await h.routing.call(.post, path, token: ann.token, json: payload)
                #expect(reply.status == .unprocessableContent && reply.fields == [field], "\(payload): \(reply.text)")
            }
            // Only the holder transfers.
            #expect(try await h.routing.call(.post, path, token: bo.token, json: ["to_agent_id": bo.id.description]).status == .notFound)
            #expect(try await events("conversation.transferred", tenant).isEmpty)

            let moved = try await h.routing.call(.post, path, token: ann.token, json: ["to_agent_id": bo.id.description, "note": "VIP, billing question"])
            #expect(moved.status == .ok, "\(moved.text)")
            #expect(moved.agentID == bo.id.description)
            // Ann's freed seat took the waiting visitor at once.
            let promoted = try await h.routing.call(.get, "/v1/conversations/\(second.id!)", token: tenant.admin)
            #expect(promoted.string("status") == "open")
            #expect(promoted.agentID == ann.id.description)
            let transferred = try await events("conversation.transferred", tenant)
            #expect(transferred.count == 1)
            #expect(transferred.first?["note"] as? String == "VIP, billing question")
            #expect(transferred.first?["forced"] as? Bool == false)
            #expect(transferred.first?["from_agent_id"] as? String == ann.id.description)
            #expect(transferred.first?["to_agent_id"] as? String == bo.id.description)
            let assigned = try await events("conversation.assigned", tenant).filter { $0["conversation_id"] as? String == first.id }
            #expect(assigned.map { $0["reason"] as? String } == ["widget", "transfer"])
            // The visitor reads a system notice, not the note.
            let messages = try await h.routing.call(.get, "/v1/conversations/\(first.id!)/messages", token: bo.token)
            #expect(messages.data.count == 1)
            #expect(messages.data.first?["sender"] as? String == "system")
            #expect(messages.data.first?["automatic"] as? Bool == true)
            #expect(!messages.text.contains("VIP"))
            #expect(((messages.data.first?["body"] as? [String: Any])?["text"] as? String)?.hasPrefix("You have been transferred") == true)
            // Ann no longer holds it; she still sees it among everything she held.
            #expect(try await h.routing.call(.post, "/v1/conversations/\(first.id!)/messages", token: ann.token, json: [
                "body": ["type": "text", "text": "still there?"],
            ]).code == "not_your_conversation")

            // A full target agent: 409, nothing moved.
            let full = try await h.routing.call(.post, "/v1/conversations/\(second.id!)/transfer", token: ann.token, json: ["to_agent_id": bo.id.description])
            #expect(full.status == .conflict && full.code == "agent_unavailable", "\(full.text)")
            #expect(full.string("detail")?.contains("(full)") == true, "\(full.text)")
            #expect(try await h.routing.call(.get, "/v1/conversations/\(second.id!)", token: ann.token).agentID == ann.id.description)
            try await AssignmentTests().expectConsistent(h, tenant, limit: 1)
        }
    }

    @Test func toAFullGroupQueuesAtTheFrontAndAFreedSeatTakesIt() async throws {
        try await RoutingHarness.run { h in
            let tenant = try await h.tenant()
            let ann = try await h.agent(in: tenant, name: "Ann"), bo = try await h.agent(in: tenant, name: "Bo")
            let (_, annKey) = try await h.groupWidget(in: tenant, members: [ann], limit: 1)
            let (boGroup, boKey) = try await h.groupWidget(in: tenant, members: [bo], limit: 1)
            try await h.online(ann)
            try await h.online(bo)
            let mine = try await h.start(try await h.visitor(annKey))
            let bos = try await h.start(try await h.visitor(boKey))
            let waiting = try await h.start(try await h.visitor(boKey))
            #expect(waiting.queuePosition == 1)

            let moved = try await h.routing.call(.post, "/v1/conversations/\(mine.id!)/transfer", token: ann.token, json: ["to_group_id": boGroup])
            #expect(moved.status == .ok, "\(moved.text)")
            // Already being served: ahead of the visitor who arrived after it.
            let queued = try await h.routing.call(.get, "/v1/conversations/\(mine.id!)", token: tenant.admin)
            #expect(queued.string("status") == "queued")
            #expect(queued.queuePosition == 1)
            #expect(try await h.routing.call(.get, "/v1/conversations/\(waiting.id!)", token: tenant.admin).queuePosition == 2)
            #expect(try await h.routing.call(.get, "/v1/agents/me/state", token: ann.token).json["open_conversations"] as? Int == 0)
            #expect(try await events("conversation.queued", tenant).last?["conversation_id"] as? String == mine.id)

            // Bo's seat frees: the transferred conversation is next.
            #expect(try await h.routing.call(.post, "/v1/conversations/\(bos.id!)/end", token: bo.token).status == .ok)
            let taken = try await h.routing.call(.get, "/v1/conversations/\(mine.id!)", token: bo.token)
            #expect(taken.string("status") == "open")
            #expect(taken.agentID == bo.id.description)
            #expect(try await h.routing.call(.get, "/v1/conversations/\(waiting.id!)", token: tenant.admin).queuePosition == 1)
            try await AssignmentTests().expectConsistent(h, tenant, limit: 1)
        }
    }

    @Test func twoSupervisorsForcingTheSameConversationOnTwoReplicasOneWins() async throws {
        try await RoutingHarness.run(replicas: 2) { h in
            let tenant = try await h.tenant()
            let ann = try await h.agent(in: tenant, name: "Ann")
            let bo = try await h.agent(in: tenant, name: "Bo"), cy = try await h.agent(in: tenant, name: "Cy")
            let (_, key) = try await h.groupWidget(in: tenant, members: [ann], limit: 3)
            _ = try await h.groupWidget(in: tenant, members: [bo, cy], limit: 3)
            for agent in [ann, bo, cy] { try await h.online(agent) }
            let first = try await supervisor(h, tenant), second = try await supervisor(h, tenant)
            for round in 0..<3 {
                let conversation = try await h.start(try await h.visitor(key)).id!
                let path = "/v1/conversations/\(conversation)/forced-transfer"
                async let a = h.replicas[0].call(.post, path, token: first, json: [
                    "to_agent_id": bo.id.description, "note": "round \(round)", "expected_agent_id": ann.id.description,
                ])
                async let b = h.replicas[1].call(.post, path, token: second, json: [
                    "to_agent_id": cy.id.description, "note": "round \(round)", "expected_agent_id": ann.id.description,
                ])
                let replies = [try await a, try await b]
                #expect(replies.map(\.status.code).sorted() == [200, 409], "\(replies.map(\.text))")
                let loser = replies.first { $0.status == .conflict }
                #expect(loser?.code == "conversation_changed")
                let winner = replies.first { $0.status == .ok }
                let now = try await h.routing.call(.get, "/v1/conversations/\(conversation)", token: tenant.admin)
                #expect(now.agentID == winner?.agentID && [bo.id.description, cy.id.description].contains(now.agentID ?? ""))
            }
            let forced = try await events("conversation.transferred", tenant)
            #expect(forced.count == 3)
            #expect(forced.allSatisfy { $0["forced"] as? Bool == true })
            let reasons = try await events("conversation.assigned", tenant).compactMap { $0["reason"] as? String }
            #expect(reasons.filter { $0 == "forced_transfer" }.count == 3)
            #expect(try await h.routing.call(.get, "/v1/agents/me/state", token: ann.token).json["open_conversations"] as? Int == 0)
            try await AssignmentTests().expectConsistent(h, tenant, limit: 3)
        }
    }

    @Test func aForcedTransferPastTheLimitOnlyWhenAskedAndInterrupting() async throws {
        try await RoutingHarness.run { h in
            let tenant = try await h.tenant()
            let ann = try await h.agent(in: tenant, name: "Ann"), bo = try await h.agent(in: tenant, name: "Bo")
            let (annGroup, key) = try await h.groupWidget(in: tenant, members: [ann], limit: 1)
            let (_, boKey) = try await h.groupWidget(in: tenant, members: [bo], limit: 1)
            try await h.online(ann)
            try await h.online(bo)
            let mine = try await h.start(try await h.visitor(key)).id!
            _ = try await h.start(try await h.visitor(boKey))
            let supervisor = try await supervisor(h, tenant)
            // Only with the permission; an agent may not force.
            #expect(try await h.routing.call(.post, "/v1/conversations/\(mine)/forced-transfer", token: ann.token, json: [
                "to_agent_id": bo.id.description,
            ]).status == .forbidden)
            // A stale expectation is refused before anything moves.
            let stale = try await h.routing.call(.post, "/v1/conversations/\(mine)/forced-transfer", token: supervisor, json: [
                "to_agent_id": bo.id.description, "expected_agent_id": bo.id.description,
            ])
            #expect(stale.code == "conversation_changed")
            let refused = try await h.routing.call(.post, "/v1/conversations/\(mine)/forced-transfer", token: supervisor, json: [
                "to_agent_id": bo.id.description,
            ])
            #expect(refused.status == .conflict && refused.code == "agent_unavailable", "\(refused.text)")
            let forced = try await h.routing.call(.post, "/v1/conversations/\(mine)/forced-transfer", token: supervisor, json: [
                "to_agent_id": bo.id.description, "over_limit": true, "note": "Bo knows this customer",
            ])
            #expect(forced.status == .ok, "\(forced.text)")
            #expect(forced.agentID == bo.id.description)
            #expect((forced.json["routing_trace"] as? [[String: Any]])?.last?["step"] as? String == "forced_transfer")
            #expect(try await h.routing.call(.get, "/v1/agents/me/state", token: bo.token).json["open_conversations"] as? Int == 2)

            // A queued conversation can be forced too: to Ann's group, where she has a seat again.
            let queued = try await h.start(try await h.visitor(boKey))
            #expect(queued.string("status") == "queued")
            let pulled = try await h.routing.call(.post, "/v1/conversations/\(queued.id!)/forced-transfer", token: supervisor, json: ["to_group_id": annGroup])
            #expect(pulled.status == .ok, "\(pulled.text)")
            #expect(pulled.agentID == ann.id.description)

            // Interrupting ends it (reason interrupted) and frees the seat.
            let interrupted = try await h.routing.call(.post, "/v1/conversations/\(mine)/interrupt", token: supervisor, json: ["note": "abusive visitor"])
            #expect(interrupted.status == .ok, "\(interrupted.text)")
            #expect(interrupted.string("status") == "ended")
            #expect(interrupted.string("end_reason") == "interrupted")
            #expect(((interrupted.json["routing_trace"] as? [[String: Any]])?.last?["detail"] as? String)?.hasSuffix(": abusive visitor") == true)
            #expect(try await h.routing.call(.get, "/v1/agents/me/state", token: bo.token).json["open_conversations"] as? Int == 1)
            let again = try await h.routing.call(.post, "/v1/conversations/\(mine)/interrupt", token: supervisor, json: [String: Any]())
            #expect(again.status == .conflict && again.code == "conversation_ended")
            let late = try await h.routing.call(.post, "/v1/conversations/\(mine)/forced-transfer", token: supervisor, json: ["to_agent_id": ann.id.description])
            #expect(late.code == "conversation_ended")
            let badNote = try await h.routing.call(.post, "/v1/conversations/\(queued.id!)/interrupt", token: supervisor, json: ["note": String(repeating: "x", count: 501)])
            #expect(badNote.status == .unprocessableContent && badNote.fields == ["note"])
            #expect(try await events("conversation.ended", tenant).map { $0["reason"] as? String } == ["interrupted"])
        }
    }

    @Test func supervisorsListOngoingConversationsPageByPage() async throws {
        try await RoutingHarness.run { h in
            let tenant = try await h.tenant()
            let ann = try await h.agent(in: tenant, name: "Ann")
            let (group, key) = try await h.groupWidget(in: tenant, members: [ann], limit: 1)
            try await h.online(ann)
            let open = try await h.start(try await h.visitor(key)).id!
            let queued = try await h.start(try await h.visitor(key)).id!
            let ended = try await h.start(try await h.visitor(key)).id!
            #expect(try await h.routing.call(.delete, "/v1/queue/\(ended)", token: tenant.admin).status == .noContent)
            let supervisor = try await supervisor(h, tenant)
            let page = try await h.routing.call(.get, "/v1/monitor/conversations?limit=1", token: supervisor)
            #expect(page.status == .ok, "\(page.text)")
            #expect(page.data.map { $0["id"] as? String } == [open])
            // (By id: routing learns display names from accounts' events, which may still be on their way.)
            #expect((page.data.first?["agent"] as? [String: Any])?["id"] as? String == ann.id.description)
            let cursor = try #require(page.json["next_cursor"] as? String)
            let next = try await h.routing.call(.get, "/v1/monitor/conversations?limit=1&cursor=\(cursor)", token: supervisor)
            #expect(next.data.map { $0["id"] as? String } == [queued])
            #expect(next.data.first?["status"] as? String == "queued")
            #expect(next.data.first?["group_id"] as? String == group)
            #expect((next.data.first?["waited_seconds"] as? Int ?? -1) >= 0)
            #expect(next.json["next_cursor"] is NSNull)
            #expect(try await h.routing.call(.get, "/v1/monitor/conversations?cursor=nope", token: supervisor).fields == ["cursor"])
            // A department scope reaches only its agents' conversations (these agents have none).
            let narrow = try await TestKeys.shared.token(
                tenant: tenant.id, permissions: [.analyticsMonitoring, .analyticsForcedTransfer],
                scopes: DataScopes(customers: [.all], organisation: .myDepartment)
            )
            #expect(try await h.routing.call(.get, "/v1/monitor/conversations", token: narrow).data.isEmpty)
            #expect(try await h.routing.call(.post, "/v1/conversations/\(open)/interrupt", token: narrow, json: [String: Any]()).status == .notFound)
        }
    }
}
