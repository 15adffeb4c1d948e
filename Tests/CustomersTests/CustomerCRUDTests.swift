import Foundation
import HTTPTypes
import KefuCore
import KefuModels
import KefuTestSupport
import Testing

/// `/v1/customers`: create, read, list, update, delete; validation, permissions, scope, tenants.
@Suite struct CustomerCRUDTests {
    @Test func createShowListUpdateDelete() async throws {
        try await CustomersHarness.run { h in
            let tenant = try await h.tenant()
            let created = try await h.call(.post, "/v1/customers", token: tenant.admin, json: [
                "name": "张三", "gender": "male", "age": 34, "birthday": "1991-02-28", "company": "Acme", "region": "上海",
                "phones": [["value": "+86 138 0000 0001"], ["value": "021-5555-0000", "primary": true]],
                "emails": [["value": "Zhang@Example.com", "primary": true]], "tags": ["vip", "vip", "wholesale"],
                "follow_up_status": "to_follow_up", "funnel_stage": "interested", "remark": "Prefers calls",
                "identities": [["kind": "qq", "external_id": "123456"]],
            ])
            #expect(created.status == .created, "\(created.text)")
            let id = try #require(created.id)
            #expect(created.json["entered"] as? Bool == true)
            #expect(created.json["owner_id"] as? String == tenant.adminID.description, "the creator owns it")
            let phones = created.json["phones"] as? [[String: Any]] ?? []
            #expect(phones.map { $0["value"] as? String } == ["021-5555-0000", "+86 138 0000 0001"], "the primary first")
            #expect(phones.map { $0["primary"] as? Bool } == [true, false])
            #expect((created.json["emails"] as? [[String: Any]])?.first?["value"] as? String == "zhang@example.com")
            #expect(created.json["tags"] as? [String] == ["vip", "wholesale"])
            #expect(created.json["birthday"] as? String == "1991-02-28")
            #expect(Set((created.json["identities"] as? [[String: Any]] ?? []).compactMap { $0["external_id"] as? String })
                    == ["123456", "+86 138 0000 0001", "021-5555-0000"], "the profile's phones are identities too")

            let shown = try await h.call(.get, "/v1/customers/\(id)", token: tenant.admin)
            #expect(shown.status == .ok && shown.string("name") == "张三")

            let patched = try await h.call(.patch, "/v1/customers/\(id)", token: tenant.admin, json: ["company": NSNull(), "title": "CTO"])
            #expect(patched.status == .ok, "\(patched.text)")
            #expect(patched.json["company"] == nil && patched.string("title") == "CTO" && patched.string("region") == "上海")
            let updates = try await h.events(CustomerUpdated.self, in: tenant)
            #expect(updates.map(\.fields) == [["company", "title"]])

            #expect(try await h.call(.delete, "/v1/customers/\(id)", token: tenant.admin).status == .noContent)
            #expect(try await h.call(.get, "/v1/customers/\(id)", token: tenant.admin).status == .notFound)
            #expect(try await h.events(CustomerDeleted.self, in: tenant).map(\.customerId.uuidString) == [id.uppercased()])
        }
    }

    /// Customer data writes are audited the way accounts' audit log records every other write:
    /// who, what, the record before and after. A refused write records nothing.
    @Test func customerWritesAreAudited() async throws {
        try await CustomersHarness.run { h in
            let tenant = try await h.tenant()
            let id = try await h.customer(tenant, ["name": "Audited", "phones": [["value": "13700000001"]]])
            #expect(try await h.call(.patch, "/v1/customers/\(id)", token: tenant.admin, json: ["age": 200]).status == .unprocessableContent)
            #expect(try await h.call(.patch, "/v1/customers/\(id)", token: tenant.admin, json: ["company": "Acme"]).status == .ok)
            #expect(try await h.call(.delete, "/v1/customers/\(id)/identities?kind=phone&external_id=nobody", token: tenant.admin).status == .notFound)
            #expect(try await h.call(.delete, "/v1/customers/\(id)", token: tenant.admin).status == .noContent)
            let audits = try await h.events(AuditRecorded.self, in: tenant).filter { $0.targetType == "customer" }
            #expect(audits.map(\.action) == ["customers.customer.created", "customers.customer.updated", "customers.customer.deleted"])
            #expect(Set(audits.map(\.targetId)) == [id])
            #expect(audits.allSatisfy { $0.actorType == "employee" && $0.actorId == tenant.adminID.uuid })
            let updated = try #require(audits.dropFirst().first)
            #expect(updated.before?.contains("Audited") == true && updated.before?.contains("Acme") == false)
            #expect(updated.after?.contains("Acme") == true)
            #expect(audits.last?.before?.contains("Audited") == true && audits.last?.after == nil)
        }
    }

    @Test func listPagesNewestFirstWithACursor() async throws {
        try await CustomersHarness.run { h in
            let tenant = try await h.tenant()
            var ids: [String] = []
            for index in 0..<5 { ids.append(try await h.customer(tenant, ["name": "C\(index)"])) }
            var seen: [String] = []
            var cursor: String?
            repeat {
                let page = try await h.call(.get, "/v1/customers?limit=2" + (cursor.map { "&cursor=\($0)" } ?? ""), token: tenant.admin)
                #expect(page.status == .ok)
                seen += page.data.compactMap { $0["id"] as? String }
                cursor = page.json["next_cursor"] as? String
            } while cursor != nil
            #expect(seen == ids.reversed())
            #expect(try await h.call(.get, "/v1/customers?entered=maybe", token: tenant.admin).fields == ["entered"])
        }
    }

    @Test func invalidFieldsAreNamedAndNothingIsWritten() async throws {
        try await CustomersHarness.run { h in
            let tenant = try await h.tenant()
            let reply = try await h.call(.post, "/v1/customers", token: tenant.admin, json: [
                "gender": "robot", "age": 400, "birthday": "2023-02-30", "phones": [["value": "not a phone"]],
                "emails": [["value": "a@b.c", "primary": true], ["value": "x@y.z", "primary": true]],
                "funnel_stage": "won", "custom_fields": ["nope": 1], "identities": [["kind": "fax", "external_id": "1"]],
            ])
            #expect(reply.status == .unprocessableContent)
            #expect(Set(reply.fields) == [
                "name", "gender", "age", "birthday", "phones[0].value", "emails[1].primary", "funnel_stage", "custom_fields.nope",
                "identities[0].kind",
            ])
            #expect(try await h.call(.post, "/v1/customers", token: tenant.admin, json: ["name": 5]).fields == ["name"])
            #expect(try await h.call(.get, "/v1/customers", token: tenant.admin).data.isEmpty)
            let id = try await h.customer(tenant)
            #expect(try await h.call(.patch, "/v1/customers/\(id)", token: tenant.admin, json: ["name": NSNull()]).fields == ["name"])
        }
    }

    @Test func permissionsAreChecked() async throws {
        try await CustomersHarness.run { h in
            let tenant = try await h.tenant()
            let id = try await h.customer(tenant)
            let viewer = try await h.token(tenant, [.customersView])
            let nobody = try await h.token(tenant, [.clientLogin])
            #expect(try await h.call(.get, "/v1/customers", token: nobody).status == .forbidden)
            #expect(try await h.call(.get, "/v1/customers/\(id)", token: nobody).status == .forbidden)
            #expect(try await h.call(.post, "/v1/customers", token: viewer, json: ["name": "X"]).status == .forbidden)
            #expect(try await h.call(.patch, "/v1/customers/\(id)", token: viewer, json: ["name": "X"]).status == .forbidden)
            #expect(try await h.call(.delete, "/v1/customers/\(id)", token: try await h.token(tenant, [.customersView, .customersEdit])).status == .forbidden)
            #expect(try await h.call(.get, "/v1/customers", token: nil).status == .unauthorized)
        }
    }

    @Test func recordsOutsideTheDataScopeOrTenantAreNotFound() async throws {
        try await CustomersHarness.run { h in
            let tenant = try await h.tenant()
            let other = try await h.tenant()
            let owned = try await h.customer(tenant)
            let pooled = try await h.customer(tenant, ["owner_id": NSNull()])
            let me = EmployeeID()
            let mine = try await h.customer(tenant, token: try await h.token(tenant, employee: me))

            let onlyMine = try await h.token(tenant, employee: me, scopes: [.mine])
            #expect(try await h.call(.get, "/v1/customers/\(mine)", token: onlyMine).status == .ok)
            for id in [owned, pooled] {
                #expect(try await h.call(.get, "/v1/customers/\(id)", token: onlyMine).status == .notFound)
                #expect(try await h.call(.patch, "/v1/customers/\(id)", token: onlyMine, json: ["title": "X"]).status == .notFound)
                #expect(try await h.call(.delete, "/v1/customers/\(id)", token: onlyMine).status == .notFound)
            }
            #expect(try await h.call(.get, "/v1/customers", token: onlyMine).data.compactMap { $0["id"] as? String } == [mine])

            let pool = try await h.token(tenant, scopes: [.companyPool])
            #expect(try await h.call(.get, "/v1/customers", token: pool).data.compactMap { $0["id"] as? String } == [pooled])
            // A customer made outside the creator's own scope would vanish for them: refused.
            #expect(try await h.call(.post, "/v1/customers", token: pool, json: ["name": "Mine?"]).fields == ["owner_id"])

            for id in [owned, pooled, mine] {
                #expect(try await h.call(.get, "/v1/customers/\(id)", token: other.admin).status == .notFound)
                #expect(try await h.call(.patch, "/v1/customers/\(id)", token: other.admin, json: ["title": "X"]).status == .notFound)
                #expect(try await h.call(.delete, "/v1/customers/\(id)", token: other.admin).status == .notFound)
                #expect(try await h.call(.post, "/v1/customers/\(id)/enter", token: other.admin).status == .notFound)
            }
            #expect(try await h.call(.get, "/v1/customers", token: other.admin).data.isEmpty)
            #expect(try await h.call(.get, "/v1/customers/not-a-uuid", token: tenant.admin).status == .notFound)
        }
    }

    @Test func aRetriedCreateWithTheSameIdempotencyKeyWritesOnce() async throws {
        try await CustomersHarness.run { h in
            let tenant = try await h.tenant()
            let key: HTTPFields = [.idempotencyKey: UUID().uuidString]
            let first = try await h.call(.post, "/v1/customers", token: tenant.admin, json: ["name": "Once"], headers: key)
            let retry = try await h.call(.post, "/v1/customers", token: tenant.admin, json: ["name": "Once"], headers: key)
            #expect(first.status == .created && retry.status == .created)
            #expect(retry.id == first.id && retry.headers[.idempotentReplayed] == "true")
            #expect(try await h.call(.get, "/v1/customers", token: tenant.admin).data.count == 1)
        }
    }

    @Test func anIdentityBelongsToOneCustomer() async throws {
        try await CustomersHarness.run { h in
            let tenant = try await h.tenant()
            let identity: [String: Any] = ["kind": "wechat_openid", "channel": "oa-1", "external_id": "o-abc"]
            _ = try await h.customer(tenant, ["identities": [identity]])
            let again = try await h.call(.post, "/v1/customers", token: tenant.admin, json: ["name": "Twin", "identities": [identity]])
            #expect(again.status == .conflict && again.code == "identity_taken")
            // The same openid of another official account is another identity.
            _ = try await h.customer(tenant, ["identities": [["kind": "wechat_openid", "channel": "oa-2", "external_id": "o-abc"]]])
            let noChannel = try await h.call(.post, "/v1/customers", token: tenant.admin, json: [
                "name": "X", "identities": [["kind": "wechat_openid", "external_id": "o-abc"]],
            ])
            #expect(noChannel.fields == ["identities[0].channel"])
        }
    }
}
