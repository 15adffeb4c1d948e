import Foundation
import Hummingbird
import KefuCore
import KefuModels
import PostgresNIO

/// A customer as the API shows it. A contact (`entered: false`) shows only what routing and its
/// channels reported (`contactKeys`): its library fields (profile, tags, follow-up, custom values)
/// appear once it is entered, and nothing is editable before.
struct CustomerView: ResponseEncodable, Codable, Sendable {
    struct Contact: Codable, Sendable, Equatable {
        let value: String
        let primary: Bool
    }

    struct Identity: Codable, Sendable, Equatable {
        let kind: String
        let channel: String?
        let externalId: String
    }

    @LowercaseUUID var id: UUID
    let entered: Bool
    let enteredAt: Date?
    let name: String?
    let gender: String?
    let age: Int?
    /// `YYYY-MM-DD`.
    let birthday: String?
    let education: String?
    let region: String?
    let address: String?
    let company: String?
    let title: String?
    let phones: [Contact]
    let emails: [Contact]
    let status: String?
    let tags: [String]
    let remark: String?
    let source: String?
    let followUpStatus: String?
    let funnelStage: String?
    let valueScore: Int
    /// The scoring rules the customer matched when last scored.
    let scoreReasons: [ScoreReason]
    let customFields: [String: JSONValue]
    @LowercaseUUID var ownerId: UUID?
    @LowercaseUUID var ownerTeamId: UUID?
    let receptionCount: Int
    let lastReceptionAt: Date?
    let visitCount: Int
    let lastSeenAt: Date?
    var identities: [Identity]
    let createdAt: Date
    let updatedAt: Date

    /// What a contact shows: who it is, where it came from, how often it came, its score.
    private static let contactKeys: Set<CodingKeys> = [
        .id, .entered, .name, .region, .source, .valueScore, .scoreReasons, .ownerId, .ownerTeamId, .receptionCount, .lastReceptionAt,
        .visitCount, .lastSeenAt, .identities, .createdAt, .updatedAt,
    ]

    /// Every field of a customer in the library, a contact's few (`contactKeys`); a field without
    /// a value is left out, as everywhere.
    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        func put<T: Encodable>(_ value: T?, _ key: CodingKeys) throws {
            guard entered || Self.contactKeys.contains(key) else { return }
            try c.encodeIfPresent(value, forKey: key)
        }
        try c.encode(_id, forKey: .id)
        try put(entered, .entered); try put(enteredAt, .enteredAt); try put(name, .name); try put(gender, .gender)
        try put(age, .age); try put(birthday, .birthday); try put(education, .education); try put(region, .region)
        try put(address, .address); try put(company, .company); try put(title, .title); try put(phones, .phones)
        try put(emails, .emails); try put(status, .status); try put(tags, .tags); try put(remark, .remark); try put(source, .source)
        try put(followUpStatus, .followUpStatus); try put(funnelStage, .funnelStage); try put(valueScore, .valueScore)
        try put(scoreReasons, .scoreReasons); try put(customFields, .customFields); try put(ownerId?.uuidString.lowercased(), .ownerId)
        try put(ownerTeamId?.uuidString.lowercased(), .ownerTeamId); try put(receptionCount, .receptionCount)
        try put(lastReceptionAt, .lastReceptionAt); try put(visitCount, .visitCount); try put(lastSeenAt, .lastSeenAt)
        try put(identities, .identities); try put(createdAt, .createdAt); try put(updatedAt, .updatedAt)
    }

    /// Arrays keep the primary first.
    static func contacts(_ values: [String]) -> [Contact] {
        values.enumerated().map { Contact(value: $1, primary: $0 == 0) }
    }
}

extension TenantTransaction {
    static let customerColumns = """
        c.id, c.entered, c.entered_at, c.name, c.gender, c.age, to_char(c.birthday, 'YYYY-MM-DD'), c.education, c.region,
        c.address, c.company, c.title, c.phones, c.emails, c.status, c.tags, c.remark, c.source, c.follow_up_status,
        c.funnel_stage, c.value_score, c.score_reasons::text, c.custom::text, c.owner_id, c.owner_team_id, c.reception_count, c.last_reception_at,
        c.visit_count, c.last_seen_at, c.created_at, c.updated_at
        """

    /// Customers matching `filter` (SQL over `c`, binds from $1), in `order`, with their identities.
    func customers(where filter: PostgresQuery, order: String = "c.created_at DESC, c.id DESC", limit: Int = 1) async throws -> [CustomerView] {
        var query = PostgresQuery(unsafeSQL: "SELECT \(Self.customerColumns) FROM customers.customers c WHERE ")
        query.sql += filter.sql + " ORDER BY \(order) LIMIT \(limit)"
        query.binds = filter.binds
        var views: [CustomerView] = []
        for try await row in try await self.query(query) {
            views.append(try CustomerView(row: row))
        }
        let identities = try await self.identities(of: views.map(\.id))
        for index in views.indices { views[index].identities = identities[views[index].id] ?? [] }
        return views
    }

    /// The customer if it exists in the tenant and within `reach`, else 404 — or 410 with
    /// `merged_into` for an id merged into a customer the caller reaches.
    func customer(_ id: UUID, reach: CustomerReach) async throws -> CustomerView {
        if let view = try await customers(where: "c.id = \(id) AND \(reach: reach)").first { return view }
        let survivors = try await query("""
            SELECT m.survivor_id FROM customers.merged_ids m JOIN customers.customers c ON c.tenant_id = m.tenant_id AND c.id = m.survivor_id
            WHERE m.merged_id = \(id) AND \(reach: reach)
            """).decode(UUID.self).reduce(into: [UUID]()) { $0.append($1) }
        if let survivor = survivors.first { throw Self.merged(into: survivor) }
        throw Problem.notFound("customer")
    }

    static func merged(into survivor: UUID) -> Problem {
        Problem(.gone, code: "merged", detail: "This customer was merged into another: use merged_into.",
                extensions: ["merged_into": survivor.uuidString.lowercased()])
    }

    func identities(of customers: [UUID]) async throws -> [UUID: [CustomerView.Identity]] {
        guard !customers.isEmpty else { return [:] }
        var result: [UUID: [CustomerView.Identity]] = [:]
        let rows = try await query("""
            SELECT customer_id, kind, channel, external_id FROM customers.identities
            WHERE customer_id = ANY(\(customers)::uuid[]) ORDER BY created_at, kind, channel, external_id
            """)
        for try await (customer, kind, channel, external) in rows.decode((UUID, String, String, String).self) {
            result[customer, default: []].append(.init(kind: kind, channel: channel.isEmpty ? nil : channel, externalId: external))
        }
        return result
    }

    /// The web visitors known to be this customer (routing's owner-first lookup is by visitor).
    func visitorIDs(of customer: UUID) async throws -> [VisitorID] {
        var ids: [VisitorID] = []
        let rows = try await query("""
            SELECT external_id FROM customers.identities WHERE customer_id = \(customer) AND kind = 'web_visitor' ORDER BY external_id
            """)
        for try await id in rows.decode(String.self) {
            if let visitor = VisitorID(id) { ids.append(visitor) }
        }
        return ids
    }
}

extension CustomerView {
    /// One row of `customerColumns`, in order; identities are read after.
    init(row: PostgresRow) throws {
        var cells = row.makeIterator()
        func next<T: PostgresDecodable>(_: T.Type) throws -> T { try cells.next()!.decode(T.self, context: .default) }
        id = try next(UUID.self)
        entered = try next(Bool.self)
        enteredAt = try next(Date?.self)
        name = try next(String?.self)
        gender = try next(String?.self)
        age = try next(Int?.self)
        birthday = try next(String?.self)
        education = try next(String?.self)
        region = try next(String?.self)
        address = try next(String?.self)
        company = try next(String?.self)
        title = try next(String?.self)
        phones = Self.contacts(try next([String].self))
        emails = Self.contacts(try next([String].self))
        status = try next(String?.self)
        tags = try next([String].self)
        remark = try next(String?.self)
        source = try next(String?.self)
        followUpStatus = try next(String?.self)
        funnelStage = try next(String?.self)
        valueScore = try next(Int.self)
        scoreReasons = (try? KefuJSON.decoder().decode([ScoreReason].self, from: Data(try next(String.self).utf8))) ?? []
        if case .object(let object) = JSONValue(json: try next(String.self)) { customFields = object } else { customFields = [:] }
        ownerId = try next(UUID?.self)
        ownerTeamId = try next(UUID?.self)
        receptionCount = try next(Int.self)
        lastReceptionAt = try next(Date?.self)
        visitCount = try next(Int.self)
        lastSeenAt = try next(Date?.self)
        createdAt = try next(Date.self)
        updatedAt = try next(Date.self)
        identities = []
    }
}
