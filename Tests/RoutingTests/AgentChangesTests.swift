import Foundation
import HTTPTypes
import KefuModels
import KefuTestSupport
import Testing

/// What accounts and reception change reaches routing through events: a disabled agent's
/// conversations are placed again, a handover moves them, a raised limit takes from the queue.
@Suite struct AgentChangesTests {
    func status(_ h: RoutingHarness, _ tenant: RoutingHarness.Tenant, _ id: String) async throws -> (String?, String?) {
        let reply = try await h.routing.call(.get, "/v1/conversations/\(id)", token: tenant.admin)
        return (reply.string("status"), reply.agentID)
    }

    @Test func aDisabledAgentsConversationsGoBackThroughTheirGroup() async throws {
        try await RoutingHarness.run { h in
            let tenant = try await h.tenant()
            let leaving = try await h.agent(in: tenant, name: "Leaving")
            let staying = try await h.agent(in: tenant, name: "Staying")
            let (_, key) = try await h.groupWidget(in: tenant, members: [leaving, staying], limit: 1)
            try await h.online(leaving)
            let first = try await h.start(try await h.visitor(key))
            #expect(first.agentID == leaving.id.description)
            try await h.database.withTenant(tenant.id) { tx in
                try await tx.publish(EmployeeStatusChanged(employee: EmployeeSnapshot(
                    employeeId: leaving.id, account: "leaving", displayName: "Leaving", departmentId: nil, status: "disabled"
                ), previousStatus: "active"))
            }
            // Nobody else is online: back in the queue, at its front.
            #expect(try await h.eventually { try await status(h, tenant, first.id!).0 == "queued" })
            // The colleague comes online and takes it.
            try await h.online(staying)
            #expect(try await status(h, tenant, first.id!) == ("open", staying.id.description))
            let state = try await TestEnvironment.ownerQuery(
                "SELECT status || ':' || open_count::text FROM routing.agents WHERE employee_id = \(leaving.id.uuid)", as: String.self
            )
            #expect(state == ["offline:0"])
        }
    }

    @Test func aHandoverMovesOpenConversationsToTheReceiver() async throws {
        try await RoutingHarness.run { h in
            let tenant = try await h.tenant()
            let from = try await h.agent(in: tenant, name: "From")
            let to = try await h.agent(in: tenant, name: "To")
            let (_, key) = try await h.groupWidget(in: tenant, members: [from, to], limit: 2)
            try await h.online(from)
            let a = try await h.start(try await h.visitor(key))
            let b = try await h.start(try await h.visitor(key))
            #expect(a.agentID == from.id.description && b.agentID == from.id.description)
            try await h.database.withTenant(tenant.id) { tx in
                try await tx.publish(EmployeeBusinessTransferred(handoverId: UUID(), fromEmployeeId: from.id, toEmployeeId: to.id, note: "leaving"))
            }
            #expect(try await h.eventually { try await status(h, tenant, b.id!).1 == to.id.description })
            #expect(try await status(h, tenant, a.id!) == ("open", to.id.description))
            let counts = try await TestEnvironment.ownerQuery("""
                SELECT open_count FROM routing.agents WHERE employee_id IN (\(from.id.uuid), \(to.id.uuid)) ORDER BY display_name
                """, as: Int.self)
            #expect(counts == [0, 2], "From gave both seats, To took both")
            let reasons = try await TestEnvironment.ownerQuery(
                "SELECT reason FROM routing.assignments WHERE conversation_id = \(UUID(uuidString: a.id!)!) ORDER BY id", as: String.self
            )
            #expect(reasons == ["widget", "handover"])
        }
    }

    @Test func aRaisedGroupLimitTakesTheLongestWaitingAtOnce() async throws {
        try await RoutingHarness.run { h in
            let tenant = try await h.tenant()
            let agent = try await h.agent(in: tenant)
            let (group, key) = try await h.groupWidget(in: tenant, members: [agent], limit: 1)
            try await h.online(agent)
            _ = try await h.start(try await h.visitor(key))
            let waiting = try await h.start(try await h.visitor(key))
            #expect(waiting.string("status") == "queued")
            let raised = try await h.reception.call(.put, "/v1/groups/\(group)", token: tenant.admin, json: [
                "name": "Raised", "member_ids": [agent.id.description], "per_agent_limit": 2,
                "queue": ["enabled": true, "max_length": 50, "max_wait_seconds": 600],
            ])
            #expect(raised.status == .ok, "\(raised.text)")
            #expect(try await h.eventually { try await status(h, tenant, waiting.id!) == ("open", agent.id.description) })
        }
    }
}

/// Reception's configuration reaches routing without a restart (the snapshot is refetched when a
/// `reception.config_changed` event announces a newer version).
@Suite struct ReceptionChangesTests {
    @Test func aChangedWidgetAppliesToTheNextVisitor() async throws {
        try await RoutingHarness.run { h in
            let tenant = try await h.tenant()
            let first = try await h.agent(in: tenant, name: "First")
            let second = try await h.agent(in: tenant, name: "Second")
            let (_, key) = try await h.groupWidget(in: tenant, members: [first])
            try await h.online(first)
            try await h.online(second)
            #expect(try await h.start(try await h.visitor(key)).agentID == first.id.description)
            // The widget now receives into a group of the second agent only.
            let group = try await h.reception.call(.post, "/v1/groups", token: tenant.admin, json: [
                "name": "Second's", "member_ids": [second.id.description], "per_agent_limit": 3,
                "queue": ["enabled": true, "max_length": 50, "max_wait_seconds": 600],
            ])
            let widgets = try await h.reception.call(.get, "/v1/widgets", token: tenant.admin).data
            var widget = widgets[0]
            widget["reception"] = ["mode": "group", "group_id": group.id!]
            for field in ["id", "created_at", "updated_at", "public_key"] { widget.removeValue(forKey: field) }
            let updated = try await h.reception.call(.put, "/v1/widgets/\(widgets[0]["id"] as! String)", token: tenant.admin, json: widget)
            try #require(updated.status == .ok, "\(updated.text)")
            #expect(try await h.eventually { try await h.start(try await h.visitor(key)).agentID == second.id.description })
        }
    }
}
