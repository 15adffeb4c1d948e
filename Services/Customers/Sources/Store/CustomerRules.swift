import Foundation
import Hummingbird
import KefuCore
import KefuModels
import PostgresNIO

/// An automatic entry rule or a value-scoring rule: a condition set of the one language (over
/// visitor and customer fields and `custom.<api_name>`), evaluated in memory.
struct CustomerRule: ResponseEncodable, Codable, Sendable {
    enum Kind: String, Codable, Sendable { case entry, scoring }

    @LowercaseUUID var id: UUID
    let name: String
    let enabled: Bool
    let position: Int
    let conditions: ConditionSet
    /// Scoring rules: the points a match gives.
    let points: Int?
    let createdAt: Date
    let updatedAt: Date
}

/// One reason for a customer's value score: a scoring rule it matched.
struct ScoreReason: Codable, Sendable, Equatable {
    @LowercaseUUID var ruleId: UUID
    let name: String
    let points: Int
}

extension TenantTransaction {
    func rules(_ kind: CustomerRule.Kind, id: UUID? = nil) async throws -> [CustomerRule] {
        let rows = try await query("""
            SELECT id, name, enabled, position, conditions::text, points, created_at, updated_at FROM customers.rules
            WHERE kind = \(kind.rawValue) AND (\(id)::uuid IS NULL OR id = \(id)) ORDER BY position, created_at, id
            """)
        let decoder = KefuJSON.decoder()
        var rules: [CustomerRule] = []
        for try await r in rows.decode((UUID, String, Bool, Int, String, Int?, Date, Date).self) {
            rules.append(CustomerRule(id: r.0, name: r.1, enabled: r.2, position: r.3,
                                      conditions: try decoder.decode(ConditionSet.self, from: Data(r.4.utf8)), points: r.5,
                                      createdAt: r.6, updatedAt: r.7))
        }
        return rules
    }

    /// What rules may test: routing's visitor fields, the customer's, and the tenant's custom fields.
    func ruleCatalogue() async throws -> FieldCatalogue {
        FieldCatalogue.with(customFields: try await customFields().map {
            FieldDefinition(key: $0.apiName, type: $0.conditionType, choices: $0.choices)
        })
    }

    /// The tenant's enabled rules, compiled once for many customers. A rule a field change broke
    /// (a custom field removed) matches nothing until it is edited.
    func ruleSet() async throws -> RuleSet {
        let catalogue = try await ruleCatalogue()
        func compiled(_ kind: CustomerRule.Kind) async throws -> [(CustomerRule, CompiledConditions)] {
            try await rules(kind).filter(\.enabled).compactMap { rule in (try? catalogue.compile(rule.conditions)).map { (rule, $0) } }
        }
        return RuleSet(catalogue: catalogue, entry: try await compiled(.entry), scoring: try await compiled(.scoring))
    }

    /// Applies the tenant's rules to a customer whose facts may have changed: a contact matching
    /// an enabled entry rule is entered (the rule named in `customer.entered`), and the value score
    /// becomes the sum of the points of the scoring rules it matches, with them as its reasons.
    /// The `visitor.*` facts are what routing last reported (`rememberVisit`).
    func applyRules(to id: UUID, rules given: RuleSet? = nil) async throws {
        guard let customer = try await customers(where: "c.id = \(id)").first else { return }
        let rules: RuleSet
        if let given { rules = given } else { rules = try await ruleSet() }
        guard !rules.scoring.isEmpty || (!customer.entered && !rules.entry.isEmpty) || customer.valueScore != 0 else { return }
        let stored = try await query("SELECT visitor_facts::text FROM customers.customers WHERE id = \(id)").collect().first
        let visitor = try stored.map { try KefuJSON.decoder().decode([String: String].self, from: Data(try $0.decode(String.self).utf8)) } ?? [:]
        let facts = CustomerFacts.of(customer, visitor: visitor, catalogue: rules.catalogue)
        if !customer.entered, let (rule, _) = rules.entry.first(where: { $0.1.matches(facts) }) {
            try await query("UPDATE customers.customers SET entered = true, entered_at = now(), updated_at = now() WHERE id = \(id)")
            try await publish(CustomerEntered(customerId: id, by: nil, ruleId: rule.id))
        }
        let (score, reasons) = rules.score(facts)
        guard score != customer.valueScore || reasons != customer.scoreReasons else { return }
        try await query("""
            UPDATE customers.customers SET value_score = \(score),
                score_reasons = \(String(decoding: try KefuJSON.encoder().encode(reasons), as: UTF8.self))::jsonb WHERE id = \(id)
            """)
        try await publish(CustomerUpdated(customerId: id, fields: ["value_score"], by: nil))
    }

    /// Keeps what routing reported of the customer's visit (only what rules test; a fact not
    /// reported this time keeps its earlier value), for this and every later rescoring.
    func rememberVisit(of id: UUID, _ reported: [String: String]) async throws {
        let kept = reported.filter { CustomerFacts.visitorKeys.contains($0.key) && !$0.value.isEmpty }
        guard !kept.isEmpty else { return }
        let json = String(decoding: try KefuJSON.encoder().encode(kept), as: UTF8.self)
        try await query("UPDATE customers.customers SET visitor_facts = visitor_facts || \(json)::jsonb WHERE id = \(id)")
    }
}

/// A tenant's enabled rules of both kinds, compiled, with the catalogue they were compiled for.
struct RuleSet: Sendable {
    let catalogue: FieldCatalogue
    let entry: [(CustomerRule, CompiledConditions)]
    let scoring: [(CustomerRule, CompiledConditions)]

    /// The value score of these facts: the sum of the points of the scoring rules they match, with those rules as its reasons.
    func score(_ facts: ConditionFacts) -> (Int, [ScoreReason]) {
        let reasons = scoring.filter { $0.1.matches(facts) }.map { ScoreReason(ruleId: $0.0.id, name: $0.0.name, points: $0.0.points ?? 0) }
        return (reasons.reduce(0) { $0 + $1.points }, reasons)
    }
}

/// A customer's facts as rules test them.
enum CustomerFacts {
    /// The visit facts rules test, as `rememberVisit` keeps them: the visitor's attributes
    /// `page_url`, `source` and `region`, and the conversation's `channel`.
    static let visitorKeys: Set<String> = ["page_url", "source", "region", "channel"]

    static func of(_ c: CustomerView, visitor: [String: String], catalogue: FieldCatalogue) -> ConditionFacts {
        of(Profile(c), createdAt: c.createdAt, hasOwner: c.ownerId != nil, visitCount: c.visitCount, visitor: visitor, catalogue: catalogue)
    }

    /// A profile's facts, before it is stored (an import scores its rows before writing them).
    static func of(
        _ c: Profile, createdAt: Date, hasOwner: Bool, visitCount: Int = 0, visitor: [String: String] = [:], catalogue: FieldCatalogue
    ) -> ConditionFacts {
        var facts = ConditionFacts(catalogue: catalogue)
        func text(_ key: String, _ value: String?) { if let value, !value.isEmpty { facts.set(key, .text(value)) } }
        text("visitor.channel", visitor["channel"])
        text("visitor.page_url", visitor["page_url"])
        text("visitor.source_ad", visitor["source"])
        text("visitor.region", visitor["region"])
        if visitCount > 0 { facts.set("visitor.visit_count", .number(Double(visitCount))) }
        facts.set("customer.tags", .set(Set(c.tags)))
        text("customer.gender", c.gender)
        if let age = c.age { facts.set("customer.age", .number(Double(age))) }
        if let birthday = c.birthday { _ = facts.set("customer.birthday", json: .string(birthday)) }
        text("customer.education", c.education)
        text("customer.location", c.region)
        text("customer.address", c.address)
        text("customer.company", c.company)
        text("customer.title", c.title)
        text("customer.status", c.status)
        text("customer.remark", c.remark)
        facts.set("customer.date_added", .date(createdAt))
        facts.set("customer.has_owner", .bool(hasOwner))
        for (key, value) in c.custom {
            let condition: ConditionValue? = switch value {
            case .string(let s): .string(s)
            case .number(let n): .number(n)
            case .bool(let b): .bool(b)
            case .array(let items): .list(items.compactMap { if case .string(let s) = $0 { .string(s) } else { nil } })
            default: nil
            }
            _ = facts.set("custom.\(key)", json: condition)
        }
        return facts
    }
}
