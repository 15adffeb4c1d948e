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
}
