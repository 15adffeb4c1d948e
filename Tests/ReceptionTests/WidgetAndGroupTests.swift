import Foundation
import KefuCore
import KefuModels
import KefuTestSupport
import Testing

@Suite struct WidgetAndGroupTests {
    @Test func widgetsAreValidatedFilteredAndPublishedByPublicKey() async throws {
        try await ReceptionHarness.run { h in
            let tenant = try await h.tenant()
            let group = try await h.create("/v1/groups", token: tenant.admin, Bodies.group("Sales"))
            let pricing: [[String: Any]] = [["page_name": "Pricing", "url": "https://shop.example.com/pricing"]]
            let byGroup = try await h.create("/v1/widgets", token: tenant.admin, Bodies.widget("Sales", mode: ["mode": "group", "group_id": group], mounts: pricing))
            let navigation = try await h.create("/v1/widgets", token: tenant.admin, Bodies.widget("Help", mode: [
                "mode": "self_service", "navigation": [["label": "Buy", "group_id": group], ["label": "Support", "group_id": group]],
            ]))

            let tooMany = (0...Widget.maxMountPositions).map { ["page_name": "P\($0)", "url": "https://example.com/\($0)"] }
            let bad = try await h.call(.post, "/v1/widgets", token: tenant.admin, json: Bodies.widget("A name too long", mode: ["mode": "agent"], mounts: tooMany))
            #expect(bad.status == .unprocessableContent)
            #expect(Set(bad.fields) == ["name", "mount_positions", "reception.agent_id"], "\(bad.fields)")

            let other = try await h.tenant()
            let foreignGroup = try await h.create("/v1/groups", token: other.admin, Bodies.group("Theirs"))
            let foreign = try await h.call(.post, "/v1/widgets", token: tenant.admin, json: Bodies.widget("X", mode: ["mode": "group", "group_id": foreignGroup]))
            #expect(foreign.status == .unprocessableContent && foreign.fields == ["reception.group_id"])

            let groupMode = try await h.call(.get, "/v1/widgets?reception_mode=group", token: tenant.admin)
            #expect(groupMode.data.map { $0["id"] as? String } == [byGroup])
            let mounted = try await h.call(.get, "/v1/widgets?mount_url=https://shop.example.com/pricing", token: tenant.admin)
            #expect(mounted.data.map { $0["id"] as? String } == [byGroup])
            #expect(try await h.call(.get, "/v1/widgets?reception_mode=nope", token: tenant.admin).fields == ["reception_mode"])

            let widget = try await h.call(.get, "/v1/widgets/\(navigation)", token: tenant.admin)
            let key = try #require(widget.json["public_key"] as? String)
            let visitor = try await h.call(.get, "/v1/public/widgets/\(key)", token: nil)
            #expect(visitor.status == .ok && visitor.headers[.accessControlAllowOrigin] == "*")
            #expect(visitor.json["name"] as? String == "Help" && visitor.json["navigation"] as? [String] == ["Buy", "Support"])
            #expect(!visitor.text.contains(group) && !visitor.text.contains(navigation) && !visitor.text.contains(tenant.id.description))
            #expect(try await h.call(.get, "/v1/public/widgets/wk_unknown", token: nil).status == .notFound)

            // The key survives edits and dies with the widget.
            let edited = try await h.call(.put, "/v1/widgets/\(navigation)", token: tenant.admin, json: Bodies.widget("Help 2", mode: ["mode": "rules"]))
            #expect(edited.json["public_key"] as? String == key)
            #expect(try await h.call(.get, "/v1/public/widgets/\(key)", token: nil).json["reception_mode"] as? String == "rules")

            // The group is in use by the first widget.
            let inUse = try await h.call(.delete, "/v1/groups/\(group)", token: tenant.admin)
            #expect(inUse.status == .conflict && inUse.code == "in_use" && inUse.text.contains(byGroup))
            #expect(try await h.call(.delete, "/v1/widgets/\(navigation)", token: tenant.admin).status == .noContent)
            #expect(try await h.call(.get, "/v1/public/widgets/\(key)", token: nil).status == .notFound)
        }
    }

    @Test func groupMembersMustBeActiveEmployeesOfTheTenant() async throws {
        try await ReceptionHarness.run { h in
            let tenant = try await h.tenant()
            let agent = try await h.agent(in: tenant)
            let other = try await h.tenant()
            let stranger = try await h.agent(in: other)
            let bad = try await h.call(.post, "/v1/groups", token: tenant.admin, json: Bodies.group("G", members: [agent, stranger, EmployeeID()]))
            #expect(bad.status == .unprocessableContent && Set(bad.fields) == ["member_ids[1]", "member_ids[2]"])
            let created = try await h.call(.post, "/v1/groups", token: tenant.admin, json: Bodies.group("G", members: [agent, agent]))
            #expect(created.status == .created && created.json["member_ids"] as? [String] == [agent.description])
        }
    }

    @Test func disabledAndDeletedEmployeesLeaveGroupsAndHandoversMoveThem() async throws {
        try await ReceptionHarness.run { h in
            let tenant = try await h.tenant()
            let (leaver, stayer, successor, deleted) = (try await h.agent(in: tenant), try await h.agent(in: tenant), try await h.agent(in: tenant), try await h.agent(in: tenant))
            let sales = try await h.create("/v1/groups", token: tenant.admin, Bodies.group("Sales", members: [leaver, stayer, deleted]))
            let rule = try await h.create("/v1/assignment-rules", token: tenant.admin, Bodies.assignmentRule("VIP", targets: [["type": "agent", "id": leaver.description]]))

            try await h.publish(EmployeeStatusChanged(employee: h.snapshot(deleted, status: "deleted"), previousStatus: "active"), in: tenant)
            #expect(try await h.eventually {
                try await h.call(.get, "/v1/groups/\(sales)", token: tenant.admin).json["member_ids"] as? [String] == [leaver.description, stayer.description]
            })
            // A deleted employee can no longer be added.
            let readd = try await h.call(.put, "/v1/groups/\(sales)", token: tenant.admin, json: Bodies.group("Sales", members: [deleted]))
            #expect(readd.status == .unprocessableContent && readd.fields == ["member_ids[0]"])

            try await h.publish(EmployeeBusinessTransferred(handoverId: UUID(), fromEmployeeId: leaver, toEmployeeId: successor, note: nil), in: tenant)
            #expect(try await h.eventually {
                try await h.call(.get, "/v1/groups/\(sales)", token: tenant.admin).json["member_ids"] as? [String] == [successor.description, stayer.description]
            })
            let moved = try await h.call(.get, "/v1/assignment-rules/\(rule)", token: tenant.admin)
            #expect((moved.json["targets"] as? [[String: String]])?.first?["id"] == successor.description)

            try await h.publish(EmployeeStatusChanged(employee: h.snapshot(successor, status: "disabled"), previousStatus: "active"), in: tenant)
            #expect(try await h.eventually {
                try await h.call(.get, "/v1/groups/\(sales)", token: tenant.admin).json["member_ids"] as? [String] == [stayer.description]
            })
            // The rule lost its only target: it is switched off rather than left to fall through.
            let disabledRule = try await h.call(.get, "/v1/assignment-rules/\(rule)", token: tenant.admin)
            #expect(disabledRule.json["enabled"] as? Bool == false && (disabledRule.json["targets"] as? [Any])?.isEmpty == true)
            #expect(try await h.configEvents(tenant).contains { $0.kind == "group" && $0.action == "members_changed" })
        }
    }
}
