import Foundation
import KefuTestSupport
import Testing

/// Routing's replicas keep reception's configuration and hear its changes as events; an item
/// made a moment ago can be newer than what a replica heard. It serves at once all the same.
@Suite struct FreshConfigurationTests {
    @Test func aWidgetMadeWhileTheReplicasAreBehindTakesVisitorsOnEitherReplica() async throws {
        try await RoutingHarness.run(replicas: 2) { h in
            let tenant = try await h.tenant()
            let agent = try await h.agent(in: tenant)
            let (_, first) = try await h.groupWidget(in: tenant, members: [agent], limit: 5)
            try await h.online(agent)
            // Both replicas hold the tenant's configuration as it is now.
            for replica in 0..<2 { _ = try await h.start(try await h.visitor(first, on: replica), on: replica) }
            try await TestEnvironment.withEventsHeldBack {
                let (_, second) = try await h.groupWidget(in: tenant, members: [agent], limit: 5)
                // Begun on one replica, the conversation started on the other: neither has heard
                // of the widget.
                let visitor = try await h.visitor(second, on: 0)
                let started = try await h.start(visitor, on: 1)
                #expect(started.status == .created, "\(started.text)")
            }
        }
    }

    @Test func aGroupMadeWhileTheReplicaIsBehindTakesATransfer() async throws {
        try await RoutingHarness.run { h in
            let tenant = try await h.tenant()
            let ann = try await h.agent(in: tenant, name: "Ann"), bo = try await h.agent(in: tenant, name: "Bo")
            let (_, key) = try await h.groupWidget(in: tenant, members: [ann], limit: 5)
            try await h.online(ann)
            try await h.online(bo)
            let held = try await h.start(try await h.visitor(key))
            #expect(held.agentID == ann.id.description)
            try await TestEnvironment.withEventsHeldBack {
                let (group, _) = try await h.groupWidget(in: tenant, members: [bo], limit: 5)
                let moved = try await h.routing.call(.post, "/v1/conversations/\(held.id!)/transfer", token: ann.token, json: ["to_group_id": group])
                #expect(moved.status == .ok && moved.agentID == bo.id.description, "\(moved.text)")
            }
        }
    }

    @Test func aVisitorQueuedInAGroupMadeAMomentAgoIsListedOnEitherReplica() async throws {
        try await RoutingHarness.run(replicas: 2) { h in
            let tenant = try await h.tenant()
            let agent = try await h.agent(in: tenant)
            let (_, first) = try await h.groupWidget(in: tenant, members: [agent], limit: 5)
            for replica in 0..<2 { _ = try await h.start(try await h.visitor(first, on: replica), on: replica) }
            // Made before the events are held back: its projection travels by event.
            let offline = try await h.agent(in: tenant)
            try await TestEnvironment.withEventsHeldBack {
                // Nobody online in the new group: its first visitor waits there.
                let (group, second) = try await h.groupWidget(in: tenant, members: [offline], limit: 5)
                let queued = try await h.start(try await h.visitor(second, on: 1), on: 1)
                #expect(queued.string("status") == "queued", "\(queued.text)")
                let listed = try await h.routing.call(.get, "/v1/queue", token: tenant.admin)
                let waiting = listed.data.first { $0["group_id"] as? String == group }?["waiting"] as? [[String: Any]]
                #expect(waiting?.map { $0["conversation_id"] as? String } == [queued.id], "\(listed.text)")
            }
        }
    }
}
