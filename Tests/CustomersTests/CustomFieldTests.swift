import Foundation
import KefuCore
import KefuModels
import KefuTestSupport
import Testing

/// `/v1/customer-fields` and the values customers hold for them.
@Suite struct CustomFieldTests {
    @Test func fieldsAreDefinedPublishedAndValidateValues() async throws {
        try await CustomersHarness.run { h in
            let tenant = try await h.tenant()
            let level = try await h.call(.post, "/v1/customer-fields", token: tenant.admin, json: [
                "api_name": "level", "display_name": "Level", "type": "single_choice", "choices": ["gold", "silver"],
            ])
            #expect(level.status == .created, "\(level.text)")
            for body: [String: Any] in [
                ["api_name": "budget", "display_name": "Budget", "type": "number"],
                ["api_name": "renewal", "display_name": "Renewal", "type": "date"],
                ["api_name": "interests", "display_name": "Interests", "type": "multiple_choice", "choices": ["a", "b"]],
            ] {
                #expect(try await h.call(.post, "/v1/customer-fields", token: tenant.admin, json: body).status == .created)
            }
            let duplicate = try await h.call(.post, "/v1/customer-fields", token: tenant.admin, json: [
                "api_name": "level", "display_name": "Again", "type": "number",
            ])
            #expect(duplicate.status == .conflict && duplicate.code == "api_name_taken")
            let invalid = try await h.call(.post, "/v1/customer-fields", token: tenant.admin, json: [
                "api_name": "Bad Name", "display_name": "", "type": "colour", "choices": ["x"],
            ])
            #expect(Set(invalid.fields) == ["api_name", "display_name", "type"])
            #expect(try await h.call(.post, "/v1/customer-fields", token: tenant.admin, json: [
                "api_name": "source", "display_name": "S", "type": "number",
            ]).code == "validation_failed", "system names are reserved")
            #expect(try await h.call(.post, "/v1/customer-fields", token: try await h.token(tenant, [.customersView]), json: [
                "api_name": "x", "display_name": "X", "type": "number",
            ]).status == .forbidden)

            let listed = try await h.call(.get, "/v1/customer-fields", token: tenant.admin)
            #expect(listed.data.compactMap { $0["api_name"] as? String } == ["source", "follow_up_status", "funnel_stage", "level", "budget", "renewal", "interests"])
            let published = try await h.events(CustomerFieldChanged.self, in: tenant)
            #expect(published.map(\.apiName) == ["level", "budget", "renewal", "interests"])
            #expect(published.first?.type == .singleChoice && published.first?.choices == ["gold", "silver"])

            let bad = try await h.call(.post, "/v1/customers", token: tenant.admin, json: [
                "name": "V", "custom_fields": ["level": "bronze", "budget": "much", "renewal": "2026-13-01", "interests": ["a", "z"]],
            ])
            #expect(Set(bad.fields) == ["custom_fields.level", "custom_fields.budget", "custom_fields.renewal", "custom_fields.interests"])
            let id = try await h.customer(tenant, ["custom_fields": ["level": "gold", "budget": 1200.5, "interests": ["b", "a", "b"]]])
            let patched = try await h.call(.patch, "/v1/customers/\(id)", token: tenant.admin, json: ["custom_fields": ["budget": NSNull(), "renewal": "2027-01-31"]])
            #expect(patched.status == .ok, "\(patched.text)")
            let values = patched.json["custom_fields"] as? [String: Any] ?? [:]
            #expect(values["level"] as? String == "gold" && values["budget"] == nil && values["renewal"] as? String == "2027-01-31")
            #expect(values["interests"] as? [String] == ["b", "a"])

            let levelID = try #require(level.id)
            let renamed = try await h.call(.patch, "/v1/customer-fields/\(levelID)", token: tenant.admin, json: ["display_name": "Tier", "choices": ["gold", "silver", "platinum"]])
            #expect(renamed.status == .ok && renamed.string("display_name") == "Tier")
            #expect(try await h.call(.patch, "/v1/customer-fields/\(levelID)", token: tenant.admin, json: ["api_name": "tier", "type": "number"]).fields.sorted() == ["api_name", "type"])
            #expect(try await h.call(.delete, "/v1/customer-fields/\(levelID)", token: tenant.admin).status == .noContent)
            #expect((try await h.call(.get, "/v1/customers/\(id)", token: tenant.admin).json["custom_fields"] as? [String: Any])?["level"] == nil)
            let removal = try await h.events(CustomerFieldChanged.self, in: tenant).last
            #expect(removal?.apiName == "level" && removal?.exists == false)

            let other = try await h.tenant()
            let budget = try #require(listed.data.first { $0["api_name"] as? String == "budget" }?["id"] as? String)
            #expect(try await h.call(.get, "/v1/customer-fields/\(budget)", token: other.admin).status == .notFound)
            #expect(try await h.call(.patch, "/v1/customer-fields/\(budget)", token: other.admin, json: ["display_name": "X"]).status == .notFound)
            #expect(try await h.call(.delete, "/v1/customer-fields/\(budget)", token: other.admin).status == .notFound)
        }
    }
}
