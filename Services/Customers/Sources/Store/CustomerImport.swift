import Foundation
import KefuCore
import KefuModels
import PostgresNIO

/// A CSV row that passed validation, ready to be written: its profile, owner and value score.
struct ImportRow: Sendable {
    /// The row's place in the sheet (its result goes there).
    let index: Int
    let profile: Profile
    let owner: UUID?
    /// The profile as JSON with sorted keys: the same content gives the same digest, so a re-run
    /// finds what it imported (`customers.imported_rows`).
    let digest: String
    let score: Int
    let reasons: [ScoreReason]
}

/// What became of an `ImportRow`: created now, or imported before (by this file's earlier row, a
/// re-run or a concurrent import of the same content).
struct ImportOutcome: Sendable {
    let index: Int
    let created: Bool
    let customerId: UUID
}

extension TenantTransaction {
    /// Writes a batch of validated rows in a few set-based statements: every row of the batch
    /// commits or none does, and nothing in it can fail a single row (validation, owners and
    /// custom values were checked before), so a good row is never lost to a bad one.
    ///
    /// A row's content is claimed by inserting its digest into `imported_rows` (sorted, so two
    /// imports sharing rows take them in one order and never deadlock): of two imports of one file
    /// at once, the second waits on the first's uncommitted digests and then finds them taken. The
    /// customers are inserted in the same statement (the foreign key is checked at its end), their
    /// phones become phone identities as `syncPhoneIdentities` makes them (one another customer
    /// holds stays a profile value), and the events a single create publishes are published, in
    /// one statement, in the same order.
    func importRows(_ rows: [ImportRow], by: EmployeeID?, stages: [String]) async throws -> [ImportOutcome] {
        guard !rows.isEmpty else { return [] }
        // A row repeating an earlier row of the batch is that row's customer, as it is across batches.
        var first: [String: Int] = [:]
        var candidates: [ImportRow] = []
        for row in rows where first[row.digest] == nil {
            first[row.digest] = row.index
            candidates.append(row)
        }
        let ids = candidates.map { _ in UUID() }
        let records = try zip(candidates, ids).enumerated().map { n, pair in try ImportRecord(pair.0, id: pair.1, n: n) }
        let batch = String(decoding: try KefuJSON.encoder().encode(records), as: UTF8.self)
        let created = try await query("""
            WITH input AS (
                SELECT * FROM jsonb_to_recordset(\(batch)::jsonb) AS r(
                    id uuid, digest text, name text, gender text, age int, birthday date, education text, region text, address text,
                    company text, title text, phones text[], emails text[], status text, tags text[], remark text, source text,
                    follow_up_status text, funnel_stage text, custom text, owner_id uuid, value_score int, score_reasons jsonb, n int)
            ), claimed AS (
                INSERT INTO customers.imported_rows (tenant_id, digest, customer_id)
                SELECT \(tenantID.uuid), hashed, id FROM (
                    SELECT encode(sha256(convert_to(digest, 'UTF8')), 'hex') AS hashed, id FROM input
                ) h ORDER BY hashed
                ON CONFLICT DO NOTHING
                RETURNING customer_id
            ), inserted AS (
                INSERT INTO customers.customers (tenant_id, id, entered, entered_at, name, gender, age, birthday, education, region,
                    address, company, title, phones, search_phones, emails, status, tags, remark, source, follow_up_status, funnel_stage,
                    custom, owner_id, owner_team_id, value_score, score_reasons)
                SELECT \(tenantID.uuid), r.id, true, now(), r.name, r.gender, r.age, r.birthday, r.education, r.region, r.address,
                    r.company, r.title, r.phones, array_to_string(r.phones, ' '), r.emails, r.status, r.tags, r.remark, r.source,
                    r.follow_up_status, r.funnel_stage, r.custom::jsonb, r.owner_id, NULL, r.value_score, r.score_reasons
                FROM input r
                WHERE r.id IN (SELECT customer_id FROM claimed)
                ORDER BY r.n
                RETURNING id
            )
            SELECT id FROM inserted
            """).decode(UUID.self).reduce(into: Set<UUID>()) { $0.insert($1) }

        let made = zip(candidates, ids).filter { created.contains($0.1) }
        // Phones held by nobody yet become this customer's identities; in the phones' order, so
        // two imports at once wait on each other in one order.
        let phoneOwners = made.flatMap { row, id in row.profile.phones.map { ($0, id) } }
        if !phoneOwners.isEmpty {
            try await query("""
                INSERT INTO customers.identities (tenant_id, kind, channel, external_id, customer_id)
                SELECT \(tenantID.uuid), 'phone', '', phone, customer FROM unnest(\(phoneOwners.map(\.0))::text[], \(phoneOwners.map(\.1))::uuid[])
                    WITH ORDINALITY AS p(phone, customer, n)
                ORDER BY phone, n
                ON CONFLICT DO NOTHING
                """)
        }

        // Content imported before (or by an import that committed while this one waited) is that customer's.
        var existing: [String: UUID] = [:]
        let taken = zip(candidates, ids).filter { !created.contains($0.1) }.map(\.0)
        if !taken.isEmpty {
            let found = try await query("""
                SELECT d.digest, r.customer_id FROM unnest(\(taken.map(\.digest))::text[]) AS d(digest)
                JOIN customers.imported_rows r ON r.digest = encode(sha256(convert_to(d.digest, 'UTF8')), 'hex')
                """)
            for try await (digest, customer) in found.decode((String, UUID).self) { existing[digest] = customer }
        }

        var events: [any KefuEvent] = []
        let now = Date()
        for (row, id) in made {
            events.append(CustomerCreated(customerId: id, entered: true, by: by))
            // A new customer has no web visitors yet: routing has nobody to re-point.
            if let owner = row.owner {
                events.append(CustomerOwnerChanged(customerId: id, ownerId: EmployeeID(owner), ownerTeamId: nil, visitorIds: []))
            }
            if row.score != 0 || !row.reasons.isEmpty { events.append(CustomerUpdated(customerId: id, fields: ["value_score"], by: nil)) }
            if let stage = row.profile.funnelStage {
                events.append(CustomerStageChanged.set(customer: id, owner: row.owner, channel: nil, source: row.profile.source,
                                                       from: nil, to: stage, stages: stages, at: now, by: by))
            }
        }
        try await publish(events)

        var createdIds: [String: UUID] = [:]
        for (row, id) in made { createdIds[row.digest] = id }
        return try rows.map { row in
            if first[row.digest] == row.index, let id = createdIds[row.digest] {
                return ImportOutcome(index: row.index, created: true, customerId: id)
            }
            guard let id = createdIds[row.digest] ?? existing[row.digest] else {
                // Claimed by an import whose customer was deleted before this one looked: nothing to report as its.
                throw Problem.conflict(code: "import_raced", detail: "A row was imported and deleted while this import ran: run it again.")
            }
            return ImportOutcome(index: row.index, created: false, customerId: id)
        }
    }
}

/// One row of a batch as the insert reads it (`jsonb_to_recordset`: one parameter however many
/// rows, arrays and JSON columns included).
private struct ImportRecord: Encodable {
    let id: UUID
    let digest: String
    let name, gender: String?
    let age: Int?
    let birthday, education, region, address, company, title: String?
    let phones, emails: [String]
    let status: String?
    let tags: [String]
    let remark, source, followUpStatus, funnelStage: String?
    /// As `insertCustomer` writes it (keys as given, not snake-cased).
    let custom: String
    let ownerId: UUID?
    let valueScore: Int
    let scoreReasons: [ScoreReason]
    let n: Int

    init(_ row: ImportRow, id: UUID, n: Int) throws {
        let p = row.profile
        self.id = id; digest = row.digest; name = p.name; gender = p.gender; age = p.age; birthday = p.birthday
        education = p.education; region = p.region; address = p.address; company = p.company; title = p.title
        phones = p.phones; emails = p.emails; status = p.status; tags = p.tags; remark = p.remark; source = p.source
        followUpStatus = p.followUpStatus; funnelStage = p.funnelStage; custom = try TenantTransaction.json(p.custom); ownerId = row.owner
        valueScore = row.score; scoreReasons = row.reasons; self.n = n
    }
}
