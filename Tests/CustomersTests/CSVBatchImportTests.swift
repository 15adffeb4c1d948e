import Foundation
import HTTPTypes
import KefuCore
import KefuModels
import KefuTestSupport
import NIOCore
import Testing

/// An import of several batches (250 rows per transaction) with bad rows and repeated
/// rows among the good ones: what it reports is what the tables hold (Chatwoot #10186 reported
/// 1579 imported and stored nothing).
@Suite struct CSVBatchImportTests {
    @Test func aLargeImportReportsExactlyWhatItStored() async throws {
        try await CustomersHarness.run { h in
            let tenant = try await h.tenant()
            #expect(try await h.call(.post, "/v1/scoring-rules", token: tenant.admin, json: [
                "name": "VIP", "points": 7,
                "conditions": ["join": "all", "conditions": [["field": "customer.tags", "op": "contains_any", "value": ["vip"]]]],
            ]).status == .created)
            var csv = "name,phones,tags,age,funnel_stage\r\n"
            var expected = (created: 0, failed: 0, skipped: 0, vip: 0, staged: 0)
            var badLines: [Int] = []
            var sharedPhones = 0
            var repeats: [Int: Int] = [:]  // line of a repeated row → line of the row it repeats
            var previous = ""
            var previousLine = 0
            var previousN = -1
            var line = 1
            for n in 0..<2600 {
                line += 1
                if n % 97 == 5 {
                    // A bad row (in every batch): reported with its field, nothing of it written.
                    csv += "Bad \(n),1360000\(String(format: "%04d", n)),,not-a-number,\r\n"
                    badLines.append(line)
                    expected.failed += 1
                    continue
                }
                if n % 50 == 7, !previous.isEmpty {
                    // The last good row, again: the same customer, skipped.
                    csv += previous
                    repeats[line] = previousLine
                    expected.skipped += 1
                    continue
                }
                // Every 10th row shares the phone of the row before: a customer of its own, the
                // identity staying with the first.
                let phone = n % 10 == 3 && previousN == n - 1 ? n - 1 : n
                if phone != n { sharedPhones += 1 }
                let vip = n % 3 == 0
                let stage = n % 4 == 0 ? "interested" : ""
                previous = "Bulk \(n),1370000\(String(format: "%04d", phone)),\(vip ? "vip;bulk" : "bulk"),\(20 + n % 50),\(stage)\r\n"
                csv += previous
                (previousLine, previousN) = (line, n)
                expected.created += 1
                if vip { expected.vip += 1 }
                if !stage.isEmpty { expected.staged += 1 }
            }
            let reply = try await h.client.execute(
                uri: "/v1/customers/import", method: .post,
                headers: [.authorization: "Bearer \(tenant.admin)", .contentType: "text/csv"], body: ByteBuffer(string: csv)
            ) { APIReply(status: $0.status, headers: $0.headers, body: Data(buffer: $0.body)) }
            #expect(reply.status == .ok, "\(reply.text.prefix(300))")
            #expect(reply.json["created"] as? Int == expected.created)
            #expect(reply.json["failed"] as? Int == expected.failed)
            #expect(reply.json["skipped"] as? Int == expected.skipped)
            let rows = reply.json["rows"] as? [[String: Any]] ?? []
            #expect(rows.map { $0["line"] as? Int ?? 0 } == Array(2...line), "one result per row, in the file's order")
            var ids: [Int: String] = [:]
            for row in rows { ids[row["line"] as? Int ?? 0] = row["customer_id"] as? String }
            let failures = rows.filter { $0["result"] as? String == "failed" }
            #expect(failures.map { $0["line"] as? Int ?? 0 } == badLines)
            let failedFields = Set(failures.flatMap { (($0["errors"] as? [[String: Any]]) ?? []).compactMap { $0["field"] as? String } })
            #expect(failedFields == ["age"])
            let repeatsPointAtTheirRow = repeats.allSatisfy { repeated, original in ids[repeated] != nil && ids[repeated] == ids[original] }
            #expect(repeatsPointAtTheirRow, "a repeated row reports the customer of the row it repeats")

            func first(_ rows: [Int]) -> Int { rows.first ?? -1 }
            let t = tenant.id.uuid
            #expect(try await first(TestEnvironment.ownerQuery("SELECT count(*)::int FROM customers.customers WHERE tenant_id = \(t)", as: Int.self)) == expected.created)
            #expect(try await first(TestEnvironment.ownerQuery("SELECT count(*)::int FROM customers.imported_rows WHERE tenant_id = \(t)", as: Int.self)) == expected.created)
            #expect(try await first(TestEnvironment.ownerQuery("SELECT count(*)::int FROM customers.customers WHERE tenant_id = \(t) AND name LIKE 'Bad %'", as: Int.self)) == 0)
            #expect(try await first(TestEnvironment.ownerQuery("SELECT count(*)::int FROM customers.customers WHERE tenant_id = \(t) AND value_score = 7", as: Int.self)) == expected.vip,
                    "scoring rules applied to every row")
            #expect(try await first(TestEnvironment.ownerQuery("""
                SELECT count(*)::int FROM customers.customers WHERE tenant_id = \(t) AND owner_id = \(tenant.adminID.uuid) AND entered
                """, as: Int.self)) == expected.created)
            // One phone identity per distinct number, held by the first customer that had it.
            let t0 = t
            let phoneIdentities = first(try await TestEnvironment.ownerQuery(
                "SELECT count(*)::int FROM customers.identities WHERE tenant_id = \(t0) AND kind = 'phone'", as: Int.self))
            let distinctPhones = first(try await TestEnvironment.ownerQuery(
                "SELECT count(DISTINCT p)::int FROM customers.customers, unnest(phones) p WHERE tenant_id = \(t0)", as: Int.self))
            let heldByTheirFirst = first(try await TestEnvironment.ownerQuery("""
                SELECT count(*)::int FROM customers.identities i
                JOIN customers.customers c ON c.tenant_id = i.tenant_id AND c.id = i.customer_id
                WHERE i.tenant_id = \(t0) AND i.kind = 'phone' AND c.name = 'Bulk ' || right(i.external_id, 4)::int
                """, as: Int.self))
            #expect(phoneIdentities == distinctPhones && phoneIdentities == expected.created - sharedPhones)
            #expect(heldByTheirFirst == phoneIdentities)
            #expect(try await h.events(CustomerCreated.self, in: tenant).count == expected.created)
            #expect(try await h.events(CustomerOwnerChanged.self, in: tenant).count == expected.created)
            #expect(try await h.events(CustomerUpdated.self, in: tenant).count == expected.vip, "each scored row's score published")
            let stages = try await h.events(CustomerStageChanged.self, in: tenant)
            #expect(stages.count == expected.staged)
            let stagesAreInterested = stages.allSatisfy { $0.stageAfter == "interested" && $0.positionAfter == 1 && !$0.won && $0.stageBefore == nil }
            #expect(stagesAreInterested)

            let again = try await h.client.execute(
                uri: "/v1/customers/import", method: .post,
                headers: [.authorization: "Bearer \(tenant.admin)", .contentType: "text/csv"], body: ByteBuffer(string: csv)
            ) { APIReply(status: $0.status, headers: $0.headers, body: Data(buffer: $0.body)) }
            #expect(again.json["created"] as? Int == 0)
            #expect(again.json["skipped"] as? Int == expected.created + expected.skipped)
            #expect(again.json["failed"] as? Int == expected.failed)
            #expect(try await first(TestEnvironment.ownerQuery("SELECT count(*)::int FROM customers.customers WHERE tenant_id = \(t)", as: Int.self)) == expected.created, "a re-run creates nothing")
            #expect(try await h.events(CustomerCreated.self, in: tenant).count == expected.created, "and publishes nothing")
        }
    }
}
