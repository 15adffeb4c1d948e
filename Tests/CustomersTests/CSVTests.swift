import Foundation
import HTTPTypes
import KefuCore
import KefuModels
import KefuTestSupport
import NIOCore
import Testing

/// CSV import (row results, good rows kept, re-runs change nothing) and streamed export.
@Suite struct CSVTests {
    @Test func importReportsEachRowAndARerunChangesNothing() async throws {
        try await CustomersHarness.run { h in
            let tenant = try await h.tenant()
            #expect(try await h.call(.post, "/v1/customer-fields", token: tenant.admin, json: [
                "api_name": "budget", "display_name": "Budget", "type": "number",
            ]).status == .created)
            // Excel's "CSV UTF-8": a byte-order mark, CRLF, quoted cells with commas and line breaks.
            let csv = "\u{FEFF}Name,Phones,Tags,Age,custom.budget,Remark,id\r\n"
                + "张三,'13800000001;021-5555,vip;wholesale,34,1200,\"Likes tea, not coffee\",\r\n"
                + "李四,13900000002,,abc,,,\r\n"
                + ",13900000003,,,,,\r\n"
                + "\"O'Neil\",,,,,\"'=HYPERLINK(\"\"x\"\")\",\r\n"
                + "王五,not-a-phone,,,lots,,\r\n"
            let first = try await h.upload(csv, token: tenant.admin)
            #expect(first.status == .ok, "\(first.text)")
            #expect(first.json["created"] as? Int == 2 && first.json["failed"] as? Int == 3 && first.json["skipped"] as? Int == 0)
            let rows = first.json["rows"] as? [[String: Any]] ?? []
            #expect(rows.map { $0["line"] as? Int } == [2, 3, 4, 5, 6])
            #expect(rows.map { $0["result"] as? String } == ["created", "failed", "failed", "created", "failed"])
            #expect(((rows[1]["errors"] as? [[String: Any]]) ?? []).map { $0["field"] as? String } == ["age"])
            #expect(((rows[2]["errors"] as? [[String: Any]]) ?? []).map { $0["field"] as? String } == ["name"])
            #expect(Set(((rows[4]["errors"] as? [[String: Any]]) ?? []).compactMap { $0["field"] as? String }) == ["phones[0].value", "custom_fields.budget"])

            let zhang = try await h.call(.get, "/v1/customers/\(rows[0]["customer_id"] as! String)", token: tenant.admin)
            #expect((zhang.json["phones"] as? [[String: Any]])?.map { $0["value"] as? String } == ["13800000001", "021-5555"])
            #expect(zhang.json["tags"] as? [String] == ["vip", "wholesale"] && zhang.string("remark") == "Likes tea, not coffee")
            #expect((zhang.json["custom_fields"] as? [String: Any])?["budget"] as? Double == 1200)
            let oneil = try await h.call(.get, "/v1/customers/\(rows[3]["customer_id"] as! String)", token: tenant.admin)
            #expect(oneil.string("remark") == "=HYPERLINK(\"x\")", "the export's formula guard is undone")

            let imports = try await h.events(AuditRecorded.self, in: tenant).filter { $0.action == "customers.customers.imported" }
            #expect(imports.count == 1, "one audit record per written batch")
            let created = Set(rows.filter { $0["result"] as? String == "created" }.compactMap { $0["customer_id"] as? String })
            #expect(created.allSatisfy { imports.first?.after?.contains($0) == true } && created.count == 2, "it names every created customer")
            let again = try await h.upload(csv, token: tenant.admin)
            #expect(again.json["created"] as? Int == 0 && again.json["skipped"] as? Int == 2 && again.json["failed"] as? Int == 3)
            #expect(try await h.call(.get, "/v1/customers/count", token: tenant.admin).json["count"] as? Int == 2, "a re-run creates nothing")

            #expect(try await h.upload("name,colour\r\nX,red\r\n", token: tenant.admin).fields == ["columns"])
            #expect(try await h.upload("name\r\n\"unclosed\r\n", token: tenant.admin).code == "malformed_csv")
            #expect(try await h.upload("name\r\nX\r\n", token: try await h.token(tenant, [.customersView, .customersEdit])).status == .forbidden)
        }
    }

    /// An owner column gives each row's customer its owner: an active employee of the tenant,
    /// else that row fails naming owner_id and nothing of it is written; empty, the importer.
    @Test func anOwnerColumnSetsEachRowsOwner() async throws {
        try await CustomersHarness.run { h in
            let tenant = try await h.tenant()
            let other = try await h.tenant()
            let agent = try await h.employee(in: tenant)
            let stranger = try await h.employee(in: other)
            let csv = "name,owner_id\r\nOwned,\(agent)\r\nImporter's,\r\nStranger's,\(stranger)\r\nBad,nobody\r\n"
            let imported = try await h.upload(csv, token: tenant.admin)
            #expect(imported.status == .ok, "\(imported.text)")
            #expect(imported.json["created"] as? Int == 2 && imported.json["failed"] as? Int == 2)
            let rows = imported.json["rows"] as? [[String: Any]] ?? []
            #expect(rows.map { $0["result"] as? String } == ["created", "created", "failed", "failed"])
            #expect(rows.dropFirst(2).map { (($0["errors"] as? [[String: Any]]) ?? []).compactMap { $0["field"] as? String } } == [["owner_id"], ["owner_id"]])
            let list = try await h.call(.get, "/v1/customers?limit=10", token: tenant.admin).data
            var owners: [String: String] = [:]
            for customer in list { owners[customer["name"] as? String ?? ""] = customer["owner_id"] as? String }
            #expect(owners == ["Owned": agent.description, "Importer's": tenant.adminID.description])
            #expect(try await h.upload(csv, token: try await h.token(tenant, [.customersView, .customersEdit])).status == .forbidden)
        }
    }

    /// Excel's plain "CSV" on a Chinese Windows is GB18030: decoded, not refused.
    @Test func aGB18030FileIsDecoded() async throws {
        try await CustomersHarness.run { h in
            let tenant = try await h.tenant()
            // "name,region,remark\r\n张三,上海,\"老客户，喜欢茶\"\r\n" in GB18030 (Python's codec).
            let gb18030: [UInt8] = [110, 97, 109, 101, 44, 114, 101, 103, 105, 111, 110, 44, 114, 101, 109, 97, 114, 107, 13, 10, 213, 197, 200, 253,
                                    44, 201, 207, 186, 163, 44, 34, 192, 207, 191, 205, 187, 167, 163, 172, 207, 178, 187, 182, 178, 232, 34, 13, 10]
            let imported = try await h.upload(bytes: gb18030, token: tenant.admin)
            #expect(imported.status == .ok, "\(imported.text)")
            #expect(imported.json["created"] as? Int == 1)
            let list = try await h.call(.get, "/v1/customers", token: tenant.admin)
            #expect(list.data.first?["name"] as? String == "张三")
            #expect(list.data.first?["region"] as? String == "上海")
            #expect(list.data.first?["remark"] as? String == "老客户，喜欢茶")
            // Neither UTF-8 nor GB18030 (0xFF begins no character of either): refused, nothing written.
            let bad = try await h.upload(bytes: Array("name\r\n".utf8) + [0xFF, 0x41, 13, 10], token: tenant.admin)
            #expect(bad.status == .badRequest && bad.code == "malformed_csv")
            #expect(try await h.call(.get, "/v1/customers/count", token: tenant.admin).json["count"] as? Int == 1)
        }
    }

    /// The rows a merged-away customer was imported from are the survivor's: a re-run of the file
    /// brings nothing back.
    @Test func aRerunAfterAMergeCreatesNothing() async throws {
        try await CustomersHarness.run { h in
            let tenant = try await h.tenant()
            let csv = "name,phones\r\n张三,13800000011\r\n张三丰,13800000012\r\n"
            let first = try await h.upload(csv, token: tenant.admin)
            let ids = (first.json["rows"] as? [[String: Any]] ?? []).compactMap { $0["customer_id"] as? String }
            try #require(ids.count == 2, "\(first.text)")
            let merged = try await h.call(.post, "/v1/customers/\(ids[0])/merge", token: tenant.admin, json: ["from": [ids[1]]])
            try #require(merged.status == .ok, "\(merged.text)")
            let again = try await h.upload(csv, token: tenant.admin)
            #expect(again.json["created"] as? Int == 0 && again.json["skipped"] as? Int == 2, "\(again.text)")
            #expect((again.json["rows"] as? [[String: Any]] ?? []).map { $0["customer_id"] as? String } == [ids[0], ids[0]])
            #expect(try await h.call(.get, "/v1/customers/count", token: tenant.admin).json["count"] as? Int == 1)
        }
    }

    @Test func twoImportsOfOneFileAtOnceCreateEachRowOnce() async throws {
        try await CustomersHarness.run { h in
            let tenant = try await h.tenant()
            let csv = "name,phones\r\n" + (0..<20).map { "Customer \($0),1380000\(1000 + $0)\r\n" }.joined()
            let created = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<2 { group.addTask { try await h.upload(csv, token: tenant.admin).json["created"] as? Int ?? -1 } }
                return try await group.reduce(0, +)
            }
            #expect(created == 20)
            #expect(try await h.call(.get, "/v1/customers/count", token: tenant.admin).json["count"] as? Int == 20)
        }
    }

    @Test func exportStreamsAListWithFormulasGuarded() async throws {
        try await CustomersHarness.run { h in
            let tenant = try await h.tenant()
            let other = try await h.tenant()
            for index in 0..<3 { _ = try await h.customer(tenant, ["name": "C\(index)", "tags": ["t\(index)"]]) }
            _ = try await h.customer(tenant, ["name": "Evil", "remark": "=cmd|' /C calc'!A0", "phones": [["value": "+86 138 0000 0000"]]])
            _ = try await h.customer(other, ["name": "Elsewhere"])
            let export = try await h.call(.get, "/v1/customers/export?sort=created_at", token: tenant.admin)
            #expect(export.status == .ok && export.headers[.contentType] == "text/csv; charset=utf-8")
            let records = try CSV.parse(export.text)
            #expect(records.first?.fields.first == "id" && records.count == 5)
            let names = records.dropFirst().map { $0.fields[2] }
            #expect(names == ["C0", "C1", "C2", "Evil"])
            let evil = try #require(records.last?.fields)
            #expect(evil.contains("'=cmd|' /C calc'!A0") && evil.contains("'+86 138 0000 0000"), "formula cells guarded")
            let searched = try await h.call(.get, "/v1/customers/export?q=C1", token: tenant.admin)
            #expect(try CSV.parse(searched.text).count == 2)
            #expect(try await h.call(.get, "/v1/customers/export", token: try await h.token(tenant, [.customersView])).status == .forbidden)
            #expect(try await h.call(.get, "/v1/customers/export?view_id=nope", token: tenant.admin).fields == ["view_id"])
        }
    }
}
