import Foundation
import Hummingbird
import KefuCore
import KefuModels
import PostgresNIO

/// A merge as recorded: who survived, who went, what moved, and each loser's profile as it was.
struct MergeView: ResponseEncodable, Codable, Sendable {
    struct Moved: Codable, Sendable {
        let identities: Int
        let receptions: Int
        let tags: [String]
        let phones: [String]
        let emails: [String]
        /// Survivor fields that were empty and took a loser's value (`custom.<api_name>` for custom values).
        let filled: [String]
    }

    @LowercaseUUID var id: UUID
    @LowercaseUUID var survivorId: UUID
    @LowercaseUUID var mergedIds: [UUID]
    let reason: String
    let moved: Moved
    /// Each merged-away customer as it was just before (its API view then), keyed by its id:
    /// kept as JSON, so records stay readable when the view gains fields.
    let losers: [String: JSONValue]
    @LowercaseUUID var by: UUID?
    let at: Date
}

extension TenantTransaction {
    /// Merges `losers` into `survivor`. Every customer involved is locked first, in id order, so
    /// two merges touching the same customers (even opposite ones) run one after the other and
    /// never deadlock; the second then finds its survivor or a loser gone (410 / 422) and changes
    /// nothing. The survivor's values win; a value only a loser had fills the survivor's empty
    /// field; lists (identities, receptions, tags, phones, emails) are joined.
    func merge(_ losers: [UUID], into survivor: UUID, reach: CustomerReach, reason: String, by: EmployeeID?) async throws -> MergeView {
        _ = try await query("SELECT id FROM customers.customers WHERE id = ANY(\(losers + [survivor])::uuid[]) ORDER BY id FOR UPDATE")
            .decode(UUID.self).reduce(0) { count, _ in count + 1 }
        let target = try await customer(survivor, reach: reach)
        let found = Dictionary(uniqueKeysWithValues: try await customers(
            where: "c.id = ANY(\(losers)::uuid[]) AND \(reach: reach)", limit: losers.count
        ).map { ($0.id, $0) })
        var v = Validation()
        for (index, loser) in losers.enumerated() where found[loser] == nil {
            let merged = try await query("SELECT survivor_id FROM customers.merged_ids WHERE merged_id = \(loser)").decode(UUID.self)
                .reduce(into: [UUID]()) { $0.append($1) }
            if merged.isEmpty {
                v.add("from[\(index)]", "does not exist", code: "not_found")
            } else {
                v.add("from[\(index)]", "was already merged into \(merged[0].uuidString.lowercased())", code: "already_merged")
            }
        }
        try v.throwIfInvalid()
        let gone = losers.map { found[$0]! }

        var profile = Profile(target)
        var filled: [String] = []
        func fill(_ keyPath: WritableKeyPath<Profile, String?>, _ name: String) {
            guard profile[keyPath: keyPath] == nil, let value = gone.lazy.compactMap({ Profile($0)[keyPath: keyPath] }).first else { return }
            profile[keyPath: keyPath] = value
            filled.append(name)
        }
        fill(\.name, "name"); fill(\.gender, "gender"); fill(\.birthday, "birthday"); fill(\.education, "education")
        fill(\.region, "region"); fill(\.address, "address"); fill(\.company, "company"); fill(\.title, "title")
        fill(\.status, "status"); fill(\.remark, "remark"); fill(\.source, "source"); fill(\.followUpStatus, "follow_up_status")
        fill(\.funnelStage, "funnel_stage")
        if profile.age == nil, let age = gone.compactMap(\.age).first { profile.age = age; filled.append("age") }
        let before = (tags: profile.tags, phones: profile.phones, emails: profile.emails)
        for loser in gone {
            profile.tags += loser.tags.filter { !profile.tags.contains($0) }
            profile.phones += loser.phones.map(\.value).filter { !profile.phones.contains($0) }
            profile.emails += loser.emails.map(\.value).filter { !profile.emails.contains($0) }
            for (key, value) in loser.customFields.sorted(by: { $0.key < $1.key }) where profile.custom[key] == nil {
                profile.custom[key] = value
                filled.append("custom.\(key)")
            }
        }
        let owner = target.ownerId != nil || target.ownerTeamId != nil
            ? (target.ownerId, target.ownerTeamId)
            : gone.first { $0.ownerId != nil || $0.ownerTeamId != nil }.map { ($0.ownerId, $0.ownerTeamId) } ?? (nil, nil)

        let identities = try await query("""
            UPDATE customers.identities SET customer_id = \(survivor) WHERE customer_id = ANY(\(losers)::uuid[]) RETURNING kind
            """).decode(String.self).reduce(0) { count, _ in count + 1 }
        let receptions = try await query("""
            UPDATE customers.receptions SET customer_id = \(survivor) WHERE customer_id = ANY(\(losers)::uuid[]) RETURNING conversation_id
            """).decode(UUID.self).reduce(0) { count, _ in count + 1 }
        // Follow-ups and pages move; each employee's own remark and favourite on the survivor win.
        try await query("UPDATE customers.follow_ups SET customer_id = \(survivor) WHERE customer_id = ANY(\(losers)::uuid[])")
        try await query("UPDATE customers.page_views SET customer_id = \(survivor) WHERE customer_id = ANY(\(losers)::uuid[])")
        try await query("UPDATE customers.menu_clicks SET customer_id = \(survivor) WHERE customer_id = ANY(\(losers)::uuid[])")
        // Rows the losers were imported from now name the survivor: a re-run of that file finds
        // them and brings the merged-away customer back no more. (Moved by delete and insert: the
        // service may not update the table.)
        try await query("""
            WITH moved AS (DELETE FROM customers.imported_rows WHERE customer_id = ANY(\(losers)::uuid[]) RETURNING tenant_id, digest, imported_at)
            INSERT INTO customers.imported_rows (tenant_id, digest, customer_id, imported_at) SELECT tenant_id, digest, \(survivor), imported_at FROM moved
            """)
        // An employee's private remarks: the survivor's wins, else the newest loser's; every other
        // one of theirs is kept in `merged_names` (theirs alone to read, so not in the record).
        try await query("""
            WITH l AS (
                SELECT employee_id, name, updated_at, merged_names FROM customers.private_remarks WHERE customer_id = ANY(\(losers)::uuid[])
            ), grouped AS (
                SELECT employee_id, (array_agg(name ORDER BY updated_at DESC))[1] AS name, max(updated_at) AS updated_at,
                       (array_agg(name ORDER BY updated_at DESC))[2:]
                       || (SELECT coalesce(array_agg(m), '{}') FROM l AS e, unnest(e.merged_names) AS m WHERE e.employee_id = l.employee_id) AS merged_names
                FROM l GROUP BY employee_id
            )
            INSERT INTO customers.private_remarks (tenant_id, customer_id, employee_id, name, updated_at, merged_names)
            SELECT \(tenantID.uuid), \(survivor), employee_id, name, updated_at, merged_names FROM grouped
            ON CONFLICT (tenant_id, customer_id, employee_id) DO UPDATE
            SET merged_names = array_prepend(excluded.name, excluded.merged_names) || customers.private_remarks.merged_names
            """)
        try await query("""
            INSERT INTO customers.favourites (tenant_id, customer_id, employee_id, created_at)
            SELECT tenant_id, \(survivor), employee_id, min(created_at) FROM customers.favourites
            WHERE customer_id = ANY(\(losers)::uuid[]) GROUP BY tenant_id, employee_id
            ON CONFLICT DO NOTHING
            """)
        try await updateProfile(survivor, profile)
        try await query("""
            UPDATE customers.customers c SET entered = c.entered OR l.entered, entered_at = coalesce(c.entered_at, l.entered_at),
                owner_id = \(owner.0), owner_team_id = \(owner.1), created_at = least(c.created_at, l.created_at),
                value_score = greatest(c.value_score, l.value_score), visit_count = c.visit_count + l.visit_count,
                last_seen_at = greatest(c.last_seen_at, l.last_seen_at), visitor_facts = l.visitor_facts || c.visitor_facts,
                reception_count = (SELECT count(*) FROM customers.receptions r WHERE r.customer_id = c.id),
                last_reception_at = (SELECT max(r.started_at) FROM customers.receptions r WHERE r.customer_id = c.id)
            FROM (SELECT bool_or(entered) AS entered, min(entered_at) AS entered_at, min(created_at) AS created_at,
                         max(value_score) AS value_score, sum(visit_count)::int AS visit_count, max(last_seen_at) AS last_seen_at,
                         -- The losers' last visit facts; the survivor's own win.
                         (array_agg(visitor_facts ORDER BY last_seen_at DESC NULLS LAST))[1] AS visitor_facts
                  FROM customers.customers WHERE id = ANY(\(losers)::uuid[])) l
            WHERE c.id = \(survivor)
            """)

        let record = MergeView(
            id: UUID(), survivorId: survivor, mergedIds: losers, reason: reason,
            moved: .init(identities: identities, receptions: receptions, tags: profile.tags.filter { !before.tags.contains($0) },
                         phones: profile.phones.filter { !before.phones.contains($0) },
                         emails: profile.emails.filter { !before.emails.contains($0) }, filled: filled),
            losers: Dictionary(uniqueKeysWithValues: try gone.map {
                ($0.id.uuidString.lowercased(), try KefuJSON.decoder().decode(JSONValue.self, from: try KefuJSON.encoder().encode($0)))
            }), by: by?.uuid, at: Date()
        )
        let encoder = KefuJSON.encoder()
        try await query("""
            INSERT INTO customers.merges (tenant_id, id, survivor_id, merged_ids, reason, moved, losers, by_employee, at)
            VALUES (\(tenantID.uuid), \(record.id), \(survivor), \(losers), \(reason),
                    \(String(decoding: try encoder.encode(record.moved), as: UTF8.self))::jsonb,
                    \(String(decoding: try encoder.encode(record.losers), as: UTF8.self))::jsonb, \(by?.uuid), \(record.at))
            """)
        // Ids merged into a loser earlier now live on the survivor too.
        try await query("UPDATE customers.merged_ids SET survivor_id = \(survivor) WHERE survivor_id = ANY(\(losers)::uuid[])")
        for loser in losers {
            try await query("""
                INSERT INTO customers.merged_ids (tenant_id, merged_id, survivor_id, merge_id) VALUES (\(tenantID.uuid), \(loser), \(survivor), \(record.id))
                """)
        }
        try await query("DELETE FROM customers.customers WHERE id = ANY(\(losers)::uuid[])")
        try await publish(CustomerMerged(
            mergeId: record.id, survivorId: survivor, mergedIds: losers, reason: reason, visitorIds: try await visitorIDs(of: survivor), by: by
        ))
        // The losers' visitors now belong to the survivor's owner (routing's owner first).
        try await publishOwner(of: survivor)
        // The survivor took a loser's stage (it had none): the funnel follows it.
        if profile.funnelStage != target.funnelStage { try await publishStageChange(of: survivor, from: target.funnelStage, by: by) }
        try await applyRules(to: survivor)
        return record
    }

    func merges(of survivor: UUID) async throws -> [MergeView] {
        let rows = try await query("""
            SELECT id, survivor_id, merged_ids, reason, moved::text, losers::text, by_employee, at FROM customers.merges
            WHERE survivor_id = \(survivor)
               -- Merges into a customer that was merged here later are this one's history too.
               OR survivor_id IN (SELECT merged_id FROM customers.merged_ids WHERE survivor_id = \(survivor))
            ORDER BY at, id
            """)
        let decoder = KefuJSON.decoder()
        var views: [MergeView] = []
        for try await r in rows.decode((UUID, UUID, [UUID], String, String, String, UUID?, Date).self) {
            views.append(MergeView(
                id: r.0, survivorId: r.1, mergedIds: r.2, reason: r.3,
                moved: try decoder.decode(MergeView.Moved.self, from: Data(r.4.utf8)),
                losers: try decoder.decode([String: JSONValue].self, from: Data(r.5.utf8)), by: r.6, at: r.7
            ))
        }
        return views
    }
}
