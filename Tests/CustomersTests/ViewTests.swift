import Foundation
import KefuCore
import KefuModels
import KefuTestSupport
import Testing

/// Views compiled to parameterised SQL, search, sorts, keyset cursors and the count.
@Suite struct ViewTests {
    func field(_ h: CustomersHarness, _ tenant: CustomersHarness.Tenant, _ apiName: String, _ type: String) async throws {
        let reply = try await h.call(.post, "/v1/customer-fields", token: tenant.admin, json: ["api_name": apiName, "display_name": apiName, "type": type])
        try #require(reply.status == .created, "\(reply.text)")
    }

    /// The names of the customers a filter selects (through a saved view), sorted.
    func names(_ h: CustomersHarness, _ tenant: CustomersHarness.Tenant, _ filter: [String: Any]) async throws -> [String] {
        let view = try await h.call(.post, "/v1/customer-views", token: tenant.admin, json: ["name": "V" + UUID().uuidString.prefix(6), "filter": filter])
        try #require(view.status == .created, "\(view.text)")
        let list = try await h.call(.get, "/v1/customers?limit=200&view_id=\(view.id!)", token: tenant.admin)
        try #require(list.status == .ok, "\(list.text)")
        let count = try await h.call(.get, "/v1/customers/count?view_id=\(view.id!)", token: tenant.admin)
        #expect(count.json["count"] as? Int == list.data.count, "the count agrees with the list")
        return list.data.compactMap { $0["name"] as? String }.sorted()
    }

    @Test func conditionsCompileOnTheirTypes() async throws {
        try await CustomersHarness.run { h in
            let tenant = try await h.tenant()
            try await field(h, tenant, "budget", "number")
            try await field(h, tenant, "renewal", "date")
            _ = try await h.customer(tenant, ["name": "A", "region": "上海", "tags": ["vip"], "company": "Acme", "custom_fields": ["budget": 900, "renewal": "2026-02-01"]])
            _ = try await h.customer(tenant, ["name": "B", "region": "上海", "company": "ACME", "custom_fields": ["budget": 10000, "renewal": "2026-10-01"]])
            _ = try await h.customer(tenant, ["name": "C", "region": "上海", "company": ""])
            _ = try await h.customer(tenant, ["name": "D", "region": "北京", "tags": ["vip"], "company": "Other"])

            // Nested ANY inside ALL.
            #expect(try await names(h, tenant, ["join": "all", "conditions": [["field": "customer.location", "op": "equals", "value": "上海"]],
                                                "groups": [["join": "any", "conditions": [
                                                    ["field": "customer.tags", "op": "contains_any", "value": ["vip"]],
                                                    ["field": "custom.budget", "op": "greater_than", "value": 1000],
                                                ]]]]) == ["A", "B"])
            // Not equal includes the customers with no value (C's company is empty, absent).
            #expect(try await names(h, tenant, ["join": "all", "conditions": [["field": "customer.company", "op": "not_equals", "value": "acme"]]]) == ["C", "D"])
            #expect(try await names(h, tenant, ["join": "all", "conditions": [["field": "customer.company", "op": "is_empty"]]]) == ["C"])
            // Numbers as numbers (900 < 1000, though "900" > "1000" as text), dates as dates.
            #expect(try await names(h, tenant, ["join": "all", "conditions": [["field": "custom.budget", "op": "greater_than", "value": 1000]]]) == ["B"])
            #expect(try await names(h, tenant, ["join": "all", "conditions": [["field": "custom.budget", "op": "between", "value": [800, 1000]]]]) == ["A"])
            #expect(try await names(h, tenant, ["join": "all", "conditions": [["field": "custom.renewal", "op": "before", "value": "2026-03-01"]]]) == ["A"])
            #expect(try await names(h, tenant, ["join": "all", "conditions": [
                ["field": "customer.date_added", "op": "after", "value": RFC3339.string(from: Date().addingTimeInterval(-3600))],
            ]]) == ["A", "B", "C", "D"])
            #expect(try await names(h, tenant, ["join": "any", "conditions": [
                ["field": "customer.tags", "op": "contains_none", "value": ["vip"]], ["field": "customer.name", "op": "equals", "value": "d"],
            ]]) == ["B", "C", "D"])
        }
    }

    /// Choices and text without letter case compare exactly (so that an index serves them under
    /// row-level security); text with letter case still ignores it. The sets are the ones the
    /// case-insensitive comparison selected.
    @Test func equalityIgnoresCaseWhereTheValueHasCaseAndIsExactElsewhere() async throws {
        try await CustomersHarness.run { h in
            let tenant = try await h.tenant()
            let level = try await h.call(.post, "/v1/customer-fields", token: tenant.admin, json: [
                "api_name": "level", "display_name": "Level", "type": "single_choice", "choices": ["Gold", "gold", "silver"],
            ])
            try #require(level.status == .created, "\(level.text)")
            _ = try await h.customer(tenant, ["name": "A", "region": "上海", "follow_up_status": "in_progress", "custom_fields": ["level": "Gold"]])
            _ = try await h.customer(tenant, ["name": "B", "region": "上海市", "follow_up_status": "done", "custom_fields": ["level": "gold"]])
            _ = try await h.customer(tenant, ["name": "C", "region": "SHANGHAI", "custom_fields": ["level": "silver"]])
            _ = try await h.customer(tenant, ["name": "D", "region": "Shanghai"])
            _ = try await h.customer(tenant, ["name": "E"])
            func with(_ field: String, _ op: String, _ value: Any) async throws -> [String] {
                try await names(h, tenant, ["join": "all", "conditions": [["field": field, "op": op, "value": value]]])
            }
            #expect(try await with("customer.location", "equals", "上海") == ["A"])
            #expect(try await with("customer.location", "not_equals", "上海") == ["B", "C", "D", "E"])
            #expect(try await with("customer.location", "in", ["上海", "上海市"]) == ["A", "B"])
            #expect(try await with("customer.location", "not_in", ["上海", "上海市"]) == ["C", "D", "E"])
            #expect(try await with("customer.location", "equals", "shanghai") == ["C", "D"])
            #expect(try await with("customer.location", "in", ["上海", "shangHAI"]) == ["A", "C", "D"], "one value with case: all ignore it")
            #expect(try await with("customer.follow_up_status", "equals", "in_progress") == ["A"])
            #expect(try await with("customer.follow_up_status", "not_equals", "in_progress") == ["B", "C", "D", "E"])
            #expect(try await with("customer.follow_up_status", "in", ["in_progress", "done"]) == ["A", "B"])
            // Two choices differing in case only are two choices.
            #expect(try await with("custom.level", "equals", "Gold") == ["A"])
            #expect(try await with("custom.level", "not_in", ["Gold", "silver"]) == ["B", "D", "E"])
        }
    }

    @Test func valuesAreMatchedLiterally() async throws {
        try await CustomersHarness.run { h in
            let tenant = try await h.tenant()
            let tricky = "O'Brien\"; DROP TABLE customers.customers;--"
            _ = try await h.customer(tenant, ["name": tricky])
            _ = try await h.customer(tenant, ["name": "100% pure"])
            _ = try await h.customer(tenant, ["name": "1000 pure"])
            _ = try await h.customer(tenant, ["name": "under_score"])
            _ = try await h.customer(tenant, ["name": "underXscore"])
            #expect(try await names(h, tenant, ["join": "all", "conditions": [["field": "customer.name", "op": "equals", "value": tricky]]]) == [tricky])
            #expect(try await names(h, tenant, ["join": "all", "conditions": [["field": "customer.name", "op": "contains", "value": "'; drop"]]]).isEmpty)
            #expect(try await names(h, tenant, ["join": "all", "conditions": [["field": "customer.name", "op": "contains", "value": "\"; DROP"]]]) == [tricky])
            #expect(try await names(h, tenant, ["join": "all", "conditions": [["field": "customer.name", "op": "contains", "value": "100%"]]]) == ["100% pure"])
            #expect(try await names(h, tenant, ["join": "all", "conditions": [["field": "customer.name", "op": "starts_with", "value": "under_"]]]) == ["under_score"])
            let search = try await h.call(.get, "/v1/customers?q=" + "%".addingPercentEncoding(withAllowedCharacters: .alphanumerics)!, token: tenant.admin)
            #expect(search.data.compactMap { $0["name"] as? String } == ["100% pure"])
            #expect(try await h.call(.get, "/v1/customers/count", token: tenant.admin).json["count"] as? Int == 5, "nothing was dropped")
        }
    }

    @Test func searchFindsNamePhoneRemarkAndTag() async throws {
        try await CustomersHarness.run { h in
            let tenant = try await h.tenant()
            _ = try await h.customer(tenant, ["name": "张三丰", "phones": [["value": "13800001234"]]])
            _ = try await h.customer(tenant, ["name": "李四", "remark": "喜欢太极拳", "tags": ["武当"]])
            _ = try await h.customer(tenant, ["name": "王五"])
            func found(_ q: String) async throws -> [String] {
                let reply = try await h.call(.get, "/v1/customers?q=" + q.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!, token: tenant.admin)
                #expect(reply.status == .ok)
                return reply.data.compactMap { $0["name"] as? String }
            }
            #expect(try await found("三丰") == ["张三丰"])
            #expect(try await found("0012") == ["张三丰"])
            #expect(try await found("太极") == ["李四"])
            #expect(try await found("武当") == ["李四"])
            #expect(try await found("赵六").isEmpty)
            // One or two characters: names and remarks through their characters and pairs, tags whole.
            #expect(try await found("丰") == ["张三丰"])
            #expect(try await found("张三") == ["张三丰"])
            #expect(try await found("四") == ["李四"])
            #expect(try await found("拳") == ["李四"])
            #expect(try await found("三四").isEmpty, "a pair of characters must be adjacent in one name")
            #expect(try await h.call(.get, "/v1/customers/count?q=" + "三".addingPercentEncoding(withAllowedCharacters: .alphanumerics)!, token: tenant.admin).json["count"] as? Int == 1)
        }
    }

    /// The characters a short search looks in are kept by the row itself: every write of a name
    /// or a remark (create, edit, import) changes what finds the customer, and a merge's survivor
    /// keeps its own.
    @Test func aShortSearchFollowsEveryWriteOfTheName() async throws {
        try await CustomersHarness.run { h in
            let tenant = try await h.tenant()
            let other = try await h.tenant()
            let id = try await h.customer(tenant, ["name": "王芳"])
            _ = try await h.customer(other, ["name": "王芳"])
            func found(_ q: String, _ who: CustomersHarness.Tenant = tenant) async throws -> [String] {
                let reply = try await h.call(.get, "/v1/customers?q=" + q.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!, token: who.admin)
                #expect(reply.status == .ok)
                return reply.data.compactMap { $0["id"] as? String }
            }
            #expect(try await found("王芳") == [id], "the other tenant's 王芳 is not found")
            #expect(try await found("Ab").isEmpty)
            #expect(try await h.call(.patch, "/v1/customers/\(id)", token: tenant.admin, json: ["name": "李娜", "remark": "ABC公司"]).status == .ok)
            #expect(try await found("王芳").isEmpty)
            #expect(try await found("李娜") == [id])
            #expect(try await found("ab") == [id], "case is ignored")
            #expect(try await found("公司") == [id])
            #expect(try await h.call(.patch, "/v1/customers/\(id)", token: tenant.admin, json: ["remark": NSNull()]).status == .ok)
            #expect(try await found("公司").isEmpty)
            let imported = try await h.upload("name,remark\n赵敏,\n", token: tenant.admin)
            #expect(imported.status == .ok, "\(imported.text)")
            #expect(try await found("赵敏").count == 1)
        }
    }

    @Test func sortsAndCursorsStayStableWhileRowsAreAdded() async throws {
        try await CustomersHarness.run { h in
            let tenant = try await h.tenant()
            var ids: [String] = []
            for index in 0..<4 { ids.append(try await h.customer(tenant, ["name": "C\(index)"])) }
            let first = try await h.call(.get, "/v1/customers?sort=created_at&limit=2", token: tenant.admin)
            #expect(first.data.compactMap { $0["id"] as? String } == Array(ids.prefix(2)))
            let added = try await h.customer(tenant, ["name": "Late"])
            let second = try await h.call(.get, "/v1/customers?sort=created_at&limit=10&cursor=\(first.json["next_cursor"] as! String)", token: tenant.admin)
            #expect(second.data.compactMap { $0["id"] as? String } == Array(ids.suffix(2)) + [added])
            #expect(try await h.call(.get, "/v1/customers?sort=name", token: tenant.admin).fields == ["sort"])
            // A view's default sort applies unless the request names one.
            let view = try await h.call(.post, "/v1/customer-views", token: tenant.admin, json: [
                "name": "Oldest", "filter": ["join": "all", "conditions": [[String: Any]]()], "sort": "created_at",
            ])
            #expect(try await h.call(.get, "/v1/customers?view_id=\(view.id!)&limit=1", token: tenant.admin).data.first?["id"] as? String == ids[0])
            #expect(try await h.call(.get, "/v1/customers?view_id=\(view.id!)&sort=-created_at&limit=1", token: tenant.admin).data.first?["id"] as? String == added)
            let byReception = try await h.call(.get, "/v1/customers?sort=-last_reception_at&limit=2", token: tenant.admin)
            #expect(byReception.status == .ok && byReception.data.count == 2)
            let rest = try await h.call(.get, "/v1/customers?sort=-last_reception_at&limit=10&cursor=\(byReception.json["next_cursor"] as! String)", token: tenant.admin)
            #expect(Set((byReception.data + rest.data).compactMap { $0["id"] as? String }).count == 5, "customers never received page too")
        }
    }

    /// 我的收藏: the caller's own favourites, within their data scope, counted alike.
    @Test func theFavouritesViewListsTheCallersOwnFavourites() async throws {
        try await CustomersHarness.run { h in
            let tenant = try await h.tenant()
            let other = try await h.tenant()
            let me = EmployeeID(), colleague = EmployeeID()
            let agent = try await h.token(tenant, [.customersView, .customersEdit], employee: me)
            let theirs = try await h.token(tenant, [.customersView, .customersEdit], employee: colleague)
            let liked = try await h.customer(tenant, ["name": "Liked"])
            let other1 = try await h.customer(tenant, ["name": "Theirs"])
            _ = try await h.customer(tenant, ["name": "Nobody's"])
            _ = try await h.customer(other, ["name": "Elsewhere"])
            #expect(try await h.call(.put, "/v1/customers/\(liked)/favourite", token: agent).status == .ok)
            #expect(try await h.call(.put, "/v1/customers/\(other1)/favourite", token: theirs).status == .ok)
            func names(_ token: String) async throws -> [String] {
                let reply = try await h.call(.get, "/v1/customers?view_id=favourites", token: token)
                #expect(reply.status == .ok, "\(reply.text)")
                let count = try await h.call(.get, "/v1/customers/count?view_id=favourites", token: token)
                #expect(count.json["count"] as? Int == reply.data.count)
                return reply.data.compactMap { $0["name"] as? String }
            }
            #expect(try await names(agent) == ["Liked"])
            #expect(try await names(theirs) == ["Theirs"])
            #expect(try await names(other.admin).isEmpty, "another tenant's employee sees none of them")
            #expect(try await h.call(.delete, "/v1/customers/\(liked)/favourite", token: agent).status == .ok)
            #expect(try await names(agent).isEmpty)
            // Outside the caller's data scope a favourite is not listed.
            #expect(try await h.call(.put, "/v1/customers/\(liked)/favourite", token: agent).status == .ok)
            let mineOnly = try await h.token(tenant, [.customersView], employee: me, scopes: [.mine])
            #expect(try await names(mineOnly).isEmpty, "admin owns it, not me")
            #expect(try await h.call(.get, "/v1/customers?view_id=favourites", token: try await h.token(tenant, [.clientLogin])).status == .forbidden)
        }
    }

    @Test func systemViewsAndViewAccess() async throws {
        try await CustomersHarness.run { h in
            let tenant = try await h.tenant()
            let other = try await h.tenant()
            let me = EmployeeID()
            let agent = try await h.token(tenant, [.customersView, .customersEdit], employee: me)
            _ = try await h.customer(tenant, token: agent, ["name": "Mine"])
            _ = try await h.customer(tenant, ["name": "Pooled", "owner_id": NSNull()])
            _ = try await h.customer(tenant, ["name": "Team", "owner_id": NSNull(), "owner_team_id": UUID().uuidString])
            func names(_ view: String, _ token: String) async throws -> [String] {
                try await h.call(.get, "/v1/customers?view_id=\(view)", token: token).data.compactMap { $0["name"] as? String }.sorted()
            }
            #expect(try await names("mine", agent) == ["Mine"])
            #expect(try await names("company_pool", agent) == ["Pooled"])
            #expect(try await names("team_pool", agent) == ["Team"])
            #expect(try await names("owned", agent) == ["Mine"])
            #expect(try await h.call(.get, "/v1/customers?view_id=nope", token: agent).fields == ["view_id"])

            let viewer = try await h.token(tenant, [.customersView])
            let personal = try await h.call(.post, "/v1/customer-views", token: viewer, json: ["name": "Mine", "filter": ["join": "all", "conditions": [[String: Any]]()]])
            #expect(personal.status == .created && personal.json["shared"] as? Bool == false)
            #expect(try await h.call(.post, "/v1/customer-views", token: viewer, json: ["name": "All", "shared": true]).status == .forbidden)
            #expect(try await h.call(.post, "/v1/customer-views", token: try await h.token(tenant, [.clientLogin]), json: ["name": "X"]).status == .forbidden)
            let bad = try await h.call(.post, "/v1/customer-views", token: viewer, json: [
                "name": "", "sort": "random", "filter": ["join": "all", "conditions": [
                    ["field": "customer.nothing", "op": "equals", "value": "x"], ["field": "customer.age", "op": "contains", "value": "x"],
                    ["field": "customer.age", "op": "greater_than", "value": "ten"],
                ], "groups": [["join": "any", "conditions": [["field": "customer.birthday", "op": "before", "value": "2020-13-01"]]]]],
            ])
            #expect(Set(bad.fields) == ["name", "sort"], "the request's own fields first")
            let badFilter = try await h.call(.post, "/v1/customer-views", token: viewer, json: [
                "name": "Bad", "filter": ["join": "all", "conditions": [
                    ["field": "customer.nothing", "op": "equals", "value": "x"], ["field": "customer.age", "op": "contains", "value": "x"],
                    ["field": "customer.age", "op": "greater_than", "value": "ten"],
                ], "groups": [["join": "any", "conditions": [["field": "customer.birthday", "op": "before", "value": "2020-13-01"]]]]],
            ])
            #expect(Set(badFilter.fields) == ["filter.conditions[0].field", "filter.conditions[1].op", "filter.conditions[2].value",
                                              "filter.groups[0].conditions[0].value"])
            let id = try #require(personal.id)
            #expect(try await h.call(.get, "/v1/customer-views/\(id)", token: tenant.admin).status == .notFound, "another's personal view")
            #expect(try await h.call(.get, "/v1/customers?view_id=\(id)", token: tenant.admin).fields == ["view_id"])
            #expect(try await h.call(.get, "/v1/customer-views/\(id)", token: other.admin).status == .notFound)
            #expect(try await h.call(.patch, "/v1/customer-views/\(id)", token: other.admin, json: ["name": "X"]).status == .notFound)
            #expect(try await h.call(.delete, "/v1/customer-views/\(id)", token: other.admin).status == .notFound)
            let renamed = try await h.call(.patch, "/v1/customer-views/\(id)", token: viewer, json: ["name": "Renamed", "sort": "-last_reception_at"])
            #expect(renamed.status == .ok && renamed.string("name") == "Renamed")
            let listed = try await h.call(.get, "/v1/customer-views", token: viewer).data.compactMap { $0["id"] as? String }
            #expect(listed == ["all", "owned", "mine", "company_pool", "team_pool", "favourites", id])
            #expect(try await h.call(.delete, "/v1/customer-views/\(id)", token: viewer).status == .noContent)
            #expect(try await h.call(.get, "/v1/customer-views/\(id)", token: viewer).status == .notFound)
        }
    }
}
