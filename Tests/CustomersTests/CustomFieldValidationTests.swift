import Foundation
import KefuCore
import KefuModels
import KefuTestSupport
import Testing

/// A custom field's type and its `validation`: every type's values are checked (long text,
/// date-time and employee included), each bound names the field, and a validation that does not
/// fit its type is refused when the field is defined.
@Suite struct CustomFieldValidationTests {
    @Test func valuesAreHeldToTheirTypeAndBounds() async throws {
        try await CustomersHarness.run { h in
            let tenant = try await h.tenant()
            for body: [String: Any] in [
                ["api_name": "code", "display_name": "Code", "type": "short_text", "validation": ["min_length": 3, "max_length": 5]],
                ["api_name": "story", "display_name": "Story", "type": "long_text"],
                ["api_name": "seats", "display_name": "Seats", "type": "number", "validation": ["min": 1, "max": 500, "integer": true]],
                ["api_name": "signed", "display_name": "Signed", "type": "date", "validation": ["earliest": "2020-01-01", "latest": "2030-12-31"]],
                ["api_name": "call_at", "display_name": "Call at", "type": "date_time", "validation": ["earliest": "2026-01-01T00:00:00Z"]],
                ["api_name": "picks", "display_name": "Picks", "type": "multiple_choice", "choices": ["a", "b", "c"], "validation": ["max_items": 2]],
                ["api_name": "manager", "display_name": "Manager", "type": "employee"],
            ] {
                let made = try await h.call(.post, "/v1/customer-fields", token: tenant.admin, json: body)
                #expect(made.status == .created, "\(made.text)")
            }
            let listed = try await h.call(.get, "/v1/customer-fields", token: tenant.admin)
            let seats = listed.data.first { $0["api_name"] as? String == "seats" }
            #expect((seats?["validation"] as? [String: Any])?["integer"] as? Bool == true, "the validation is shown with the field")

            let colleague = try await h.employee(in: tenant)
            let leaver = try await h.employee(in: tenant)
            try await h.publish(EmployeeStatusChanged(employee: h.snapshot(leaver, status: "deleted"), previousStatus: "active"), in: tenant)
            #expect(try await h.eventually { try await h.employeeStatus(leaver, in: tenant) == "deleted" })
            let other = try await h.tenant()
            let stranger = try await h.employee(in: other)

            let story = String(repeating: "长", count: 4000)
            let good = try await h.call(.post, "/v1/customers", token: tenant.admin, json: ["name": "Good", "custom_fields": [
                "code": "AB1", "story": story, "seats": 12, "signed": "2024-02-29", "call_at": "2026-12-03T09:30:00+08:00",
                "picks": ["a", "c"], "manager": colleague.description.uppercased(),
            ]])
            #expect(good.status == .created, "\(good.text)")
            let values = good.json["custom_fields"] as? [String: Any] ?? [:]
            #expect(values["story"] as? String == story, "a long text holds thousands of characters")
            #expect(values["call_at"] as? String == "2026-12-03T01:30:00.000Z", "a date-time is stored in UTC")
            #expect(values["manager"] as? String == colleague.description, "an employee id is stored lowercased")

            let bad = try await h.call(.post, "/v1/customers", token: tenant.admin, json: ["name": "Bad", "custom_fields": [
                "code": "ABCDEF", "story": String(repeating: "x", count: 5001), "seats": 2.5, "signed": "2019-12-31",
                "call_at": "2025-12-31T23:59:59Z", "picks": ["a", "b", "c"], "manager": leaver.description,
            ]])
            #expect(bad.status == .unprocessableContent)
            #expect(Set(bad.fields) == Set(["code", "story", "seats", "signed", "call_at", "picks", "manager"].map { "custom_fields.\($0)" }))
            #expect(Set((bad.json["errors"] as? [[String: Any]] ?? []).compactMap { $0["code"] as? String }) == ["too_long", "not_integer", "out_of_range", "too_many", "not_found"], "\(bad.text)")
            for (field, value) in [("code", "AB"), ("seats", 0), ("seats", 501), ("signed", "2031-01-01"), ("call_at", "tomorrow"),
                                   ("manager", stranger.description), ("manager", "not-an-id")] as [(String, Any)] {
                let reply = try await h.call(.post, "/v1/customers", token: tenant.admin, json: ["name": "B", "custom_fields": [field: value]])
                #expect(reply.fields == ["custom_fields.\(field)"], "\(field) = \(value): \(reply.text)")
            }
            let count = try await h.call(.get, "/v1/customers/count", token: tenant.admin)
            #expect(count.json["count"] as? Int == 1, "nothing invalid was written")

            // The same checks hold for an import, row by row.
            let csv = "name,custom.manager,custom.seats\nRow1,\(colleague),3\nRow2,\(leaver),3\nRow3,\(colleague),3.5\n"
            let imported = try await h.upload(csv, token: tenant.admin)
            #expect(imported.status == .ok, "\(imported.text)")
            let rows = imported.json["rows"] as? [[String: Any]] ?? []
            #expect(rows.map { $0["result"] as? String } == ["created", "failed", "failed"], "\(imported.text)")
            let reasons = rows.map { (($0["errors"] as? [[String: Any]]) ?? []).compactMap { $0["field"] as? String } }
            #expect(reasons == [[], ["custom_fields.manager"], ["custom_fields.seats"]])
        }
    }

    @Test func aValidationMustFitItsField() async throws {
        try await CustomersHarness.run { h in
            let tenant = try await h.tenant()
            for (body, fields) in [
                (["type": "number", "validation": ["max_length": 3]], ["validation.max_length"]),
                (["type": "short_text", "validation": ["min_length": 10, "max_length": 3]], ["validation.max_length"]),
                (["type": "short_text", "validation": ["max_length": 201]], ["validation.max_length"]),
                (["type": "number", "validation": ["min": 5, "max": 1]], ["validation.max"]),
                (["type": "date", "validation": ["earliest": "2026-02-30"]], ["validation.earliest"]),
                (["type": "date_time", "validation": ["latest": "2026-01-01"]], ["validation.latest"]),
                (["type": "multiple_choice", "choices": ["a"], "validation": ["max_items": 2]], ["validation.max_items"]),
                (["type": "employee", "validation": ["min": 1]], ["validation.min"]),
            ] as [([String: Any], [String])] {
                var json = body
                json["api_name"] = "f"
                json["display_name"] = "F"
                let reply = try await h.call(.post, "/v1/customer-fields", token: tenant.admin, json: json)
                #expect(reply.status == .unprocessableContent && reply.fields == fields, "\(body): \(reply.text)")
            }
            #expect(try await h.call(.get, "/v1/customer-fields", token: tenant.admin).data.count == 3, "only the system fields")

            // A validation changes with the field (null removes it) and holds the next writes.
            let made = try await h.call(.post, "/v1/customer-fields", token: tenant.admin, json: [
                "api_name": "code", "display_name": "Code", "type": "short_text", "validation": ["max_length": 3],
            ])
            let id = try #require(made.id)
            let customer = try await h.customer(tenant, ["custom_fields": ["code": "ABC"]])
            let tighter = try await h.call(.patch, "/v1/customer-fields/\(id)", token: tenant.admin, json: ["validation": ["max_length": 2]])
            #expect(tighter.status == .ok && (tighter.json["validation"] as? [String: Any])?["max_length"] as? Int == 2)
            #expect(try await h.call(.patch, "/v1/customers/\(customer)", token: tenant.admin, json: ["custom_fields": ["code": "ABC"]])
                .fields == ["custom_fields.code"])
            let cleared = try await h.call(.patch, "/v1/customer-fields/\(id)", token: tenant.admin, json: ["validation": NSNull()])
            #expect(cleared.status == .ok && cleared.json["validation"] == nil, "\(cleared.text)")
            #expect(try await h.call(.patch, "/v1/customers/\(customer)", token: tenant.admin, json: ["custom_fields": ["code": "ABCD"]]).status == .ok)
        }
    }
}
