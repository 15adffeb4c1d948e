import Foundation
import HTTPTypes
import Hummingbird
import KefuTestSupport
import Testing

extension AccountsHarness {
    func csv(_ uri: String, token: String, _ text: String) async throws -> APIReply {
        try await client.execute(
            uri: uri, method: .post,
            headers: [.authorization: "Bearer \(token)", .contentType: "text/csv"], body: ByteBuffer(string: text)
        ) { response in
            APIReply(status: response.status, headers: response.headers, body: Data(buffer: response.body))
        }
    }

    func rows(_ reply: APIReply) -> [(line: Int, result: String, fields: [String])] {
        (reply.json["rows"] as? [[String: Any]] ?? []).map { row in
            (row["line"] as? Int ?? 0, row["result"] as? String ?? "",
             (row["errors"] as? [[String: Any]] ?? []).compactMap { $0["field"] as? String })
        }
    }
}

@Suite struct OrganisationCSVTests {
    @Test func importKeepsGoodRowsReportsBadOnesAndARerunCreatesNoDuplicates() async throws {
        try await AccountsHarness.run { h in
            let tenant = try await h.createTenant()
            let sales = try await h.department(in: tenant, name: "Sales")
            _ = try await h.department(in: tenant, name: "East", parent: sales)
            let file = """
                account,password,display_name,department,phone,hide_phone,roles
                li.si,Start1234,李四,Sales/East,13800000001,yes,在线客服
                wang.wu,Start1234,"Wang, Wu",Sales,,no,
                bad one,short,,Nowhere,phone?,maybe,No such role
                zhao.liu,Start1234,"Zhao
                Liu",,13800000002,,

                """
            let first = try await h.csv("/v1/employees/import", token: tenant.adminToken, file)
            #expect(first.status == .ok)
            #expect(first.json["created"] as? Int == 3)
            #expect(first.json["failed"] as? Int == 1)
            let rows = h.rows(first)
            #expect(rows.map(\.line) == [2, 3, 4, 5])
            #expect(rows[2].result == "failed")
            #expect(Set(rows[2].fields) == ["account", "password", "display_name", "department", "phone", "hide_phone", "roles"])
            let li = try await h.call(.get, "/v1/employees?q=li.si", token: tenant.adminToken).data.first
            #expect(li?["display_name"] as? String == "李四")
            #expect(li?["hide_phone"] as? Bool == true)
            #expect((li?["role_ids"] as? [String])?.count == 1)
            #expect(try await h.signIn(slug: tenant.slug, account: "wang.wu", password: "Start1234").status == .ok)

            let again = try await h.csv("/v1/employees/import", token: tenant.adminToken, file)
            #expect(again.json["created"] as? Int == 0)
            #expect(again.json["skipped"] as? Int == 3)
            let counts = try await h.call(.get, "/v1/employees/counts", token: tenant.adminToken)
            #expect(counts.json["active"] as? Int == 4, "admin + three imported, once")
        }
    }

    @Test func badFilesAreRefusedWhole() async throws {
        try await AccountsHarness.run { h in
            let tenant = try await h.createTenant()
            let missing = try await h.csv("/v1/employees/import", token: tenant.adminToken, "account,colour\nx,y\n")
            #expect(missing.status == .unprocessableContent)
            #expect(missing.fields == ["columns", "columns"])
            let unclosed = try await h.csv("/v1/employees/import", token: tenant.adminToken, "account,password,display_name\n\"x,y,z\n")
            #expect(unclosed.code == "malformed_csv")
            let empty = try await h.csv("/v1/employees/import", token: tenant.adminToken, "")
            #expect(empty.fields == ["file"])
        }
    }

    @Test func theSeatLimitStopsAnImportRowByRow() async throws {
        try await AccountsHarness.run { h in
            let tenant = try await h.createTenant(seats: 2)
            let reply = try await h.csv("/v1/employees/import", token: tenant.adminToken, """
                account,password,display_name
                one,Start1234,One
                two,Start1234,Two
                """)
            #expect(h.rows(reply).map(\.result) == ["created", "failed"])
        }
    }

    @Test func batchUpdateChangesExistingEmployeesOnly() async throws {
        try await AccountsHarness.run { h in
            let tenant = try await h.createTenant()
            let team = try await h.department(in: tenant, name: "Team")
            let agent = try await h.employee(in: tenant, permissions: ["client.login"], phone: "13700000009")
            let reply = try await h.csv("/v1/employees/batch-update", token: tenant.adminToken, """
                account,display_name,department,phone
                \(agent.account),Renamed,Team,
                ghost,Nobody,,
                \(agent.account),,Team,
                """)
            #expect(h.rows(reply).map(\.result) == ["updated", "failed", "failed"])
            #expect(h.rows(reply)[1].fields == ["account"])
            #expect(h.rows(reply)[2].fields == ["display_name"])
            let shown = try await h.call(.get, "/v1/employees/\(agent.id)", token: tenant.adminToken)
            #expect(shown.string("display_name") == "Renamed")
            #expect(shown.string("department_id") == team)
            #expect(shown.json["phone"] == nil, "an empty cell clears")
        }
    }

    @Test func theOrganisationExportsAndReimportsAsItIs() async throws {
        try await AccountsHarness.run { h in
            let tenant = try await h.createTenant()
            let sales = try await h.department(in: tenant, name: "Sales")
            _ = try await h.employee(in: tenant, permissions: ["client.login"], departmentID: sales, account: "visible", phone: "+8613800000003")
            _ = try await h.employee(in: tenant, permissions: ["client.login"], account: "private", phone: "13800000004", hidePhone: true)
            let export = try await h.client.execute(uri: "/v1/organisation/export", method: .get,
                                                     headers: [.authorization: "Bearer \(tenant.adminToken)"]) { response in
                (response.headers[.contentType], String(buffer: response.body))
            }
            #expect(export.0?.hasPrefix("text/csv") == true)
            let lines = export.1.split(separator: "\r\n").map(String.init)
            #expect(lines[0] == "account,display_name,department,position,phone,email,hide_phone,roles,status")
            #expect(lines.contains { $0.hasPrefix("visible,Employee visible,Sales,,'+8613800000003,,false,") })
            #expect(lines.contains { $0.hasPrefix("private,Employee private,,,,,true,") }, "hidden phones stay hidden")
            // Fed back, the export changes nothing: everyone is already there.
            let reimport = try await h.csv("/v1/employees/import", token: tenant.adminToken, export.1)
            #expect(reimport.json["skipped"] as? Int == 3)
            #expect(reimport.json["failed"] as? Int == 0)
            let reupdate = try await h.csv("/v1/employees/batch-update", token: tenant.adminToken, export.1)
            #expect(reupdate.json["updated"] as? Int == 3)
            let visible = try await h.call(.get, "/v1/employees?q=visible", token: tenant.adminToken).data.first
            #expect(visible?["phone"] as? String == "+8613800000003", "the formula guard is undone on the way back")
        }
    }
}

@Suite struct HandoverTests {
    @Test func businessIsHandedOverRecordedAndPublished() async throws {
        try await AccountsHarness.run { h in
            let tenant = try await h.createTenant()
            let leaving = try await h.employee(in: tenant, permissions: ["client.login"])
            let taking = try await h.employee(in: tenant, permissions: ["client.login"])
            let handover = try await h.call(.post, "/v1/employees/\(leaving.id)/handover", token: tenant.adminToken, json: [
                "to_employee_id": taking.id, "note": "leaving on Friday",
            ])
            #expect(handover.status == .created)
            #expect(handover.string("from_employee_id") == leaving.id)
            #expect(handover.string("to_employee_id") == taking.id)
            let listed = try await h.call(.get, "/v1/handovers", token: tenant.adminToken)
            #expect(listed.data.count == 1)
            let published = try await TestEnvironment.ownerQuery("""
                SELECT payload->>'to_employee_id' FROM kefu.events
                WHERE type = 'employee.business_transferred' AND payload->>'handover_id' = \(handover.string("id")!)
                """, as: String.self)
            #expect(published == [taking.id])

            let toSelf = try await h.call(.post, "/v1/employees/\(leaving.id)/handover", token: tenant.adminToken, json: ["to_employee_id": leaving.id])
            #expect(toSelf.fields == ["to_employee_id"])
            let toNobody = try await h.call(.post, "/v1/employees/\(leaving.id)/handover", token: tenant.adminToken, json: ["to_employee_id": UUID().uuidString])
            #expect(toNobody.fields == ["to_employee_id"])
            _ = try await h.call(.post, "/v1/employees/\(taking.id)/disable", token: tenant.adminToken)
            let toDisabled = try await h.call(.post, "/v1/employees/\(leaving.id)/handover", token: tenant.adminToken, json: ["to_employee_id": taking.id])
            #expect(toDisabled.fields == ["to_employee_id"])
        }
    }
}
