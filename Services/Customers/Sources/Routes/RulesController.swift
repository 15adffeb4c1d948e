import Foundation
import Hummingbird
import KefuCore
import KefuModels
import PostgresNIO

/// `/v1/entry-rules` (automatic entry, `customers.entry_rules`) and `/v1/scoring-rules` (value
/// scoring, `customers.scoring_rules`): one controller for both kinds, as reception serves its
/// rules. Rules apply as customers' facts change (routing's events, profile writes, merges,
/// imports), and a rule change is swept over the tenant's customers (`RulesSweep`).
struct RulesController {
    let database: Database
    let kind: CustomerRule.Kind
    let path: String
    let permission: Permission

    func addRoutes(to router: Router<KefuRequestContext>) {
        router.get(RouterPath(path), use: list)
        router.post(RouterPath(path), use: create)
        router.get(RouterPath(path + "/{id}"), use: show)
        router.put(RouterPath(path + "/{id}"), use: replace)
        router.delete(RouterPath(path + "/{id}"), use: delete)
    }

    static let limit = 200

    struct RuleRequest: Decodable, Sendable {
        let name: String?
        let enabled: Bool?
        let position: Int?
        let conditions: ConditionSet
        let points: Int?
    }

    @Sendable func list(request: Request, context: KefuRequestContext) async throws -> Page<CustomerRule> {
        let principal = try context.requirePermission(permission)
        return Page(data: try await database.withTenant(principal.tenantID) { tx in try await tx.rules(kind) }, nextCursor: nil)
    }

    @Sendable func show(request: Request, context: KefuRequestContext) async throws -> CustomerRule {
        let principal = try context.requirePermission(permission)
        let id = try context.parameters.uuid(what: "rule")
        return try await database.withTenant(principal.tenantID) { [kind] tx in try await tx.rule(kind, id) }
    }

    /// Checks the whole rule: name, points (scoring only) and every condition, with JSON paths.
    func checked(_ body: RuleRequest, in tx: TenantTransaction) async throws -> (String, Int?) {
        var v = Validation()
        let name = v.text(body.name, "name", length: 1...30)
        switch kind {
        case .scoring:
            if let points = body.points {
                v.check((-1000...1000).contains(points), "points", "must be from -1000 to 1000", code: "out_of_range")
            } else {
                v.add("points", "is required", code: "required")
            }
        case .entry:
            v.check(body.points == nil, "points", "only scoring rules give points", code: "not_allowed")
        }
        let catalogue = try await tx.ruleCatalogue()
        do { _ = try catalogue.compile(body.conditions, path: "conditions.conditions") } catch {
            for issue in error.issues { v.add(issue.path, issue.message, code: issue.code) }
        }
        try v.throwIfInvalid()
        return (name!, body.points)
    }

    @Sendable func create(request: Request, context: KefuRequestContext) async throws -> EditedResponse<CustomerRule> {
        let principal = try context.requirePermission(permission)
        let body = try await request.decode(as: RuleRequest.self, context: context)
        let id = UUID()
        let actor = AuditActor(context: context)
        let rule = try await database.withTenant(principal.tenantID) { tx in
            let (name, points) = try await checked(body, in: tx)
            try await tx.query("SELECT pg_advisory_xact_lock(hashtextextended(\("customers.rules:\(tx.tenantID):\(kind.rawValue)"), 0))")
            let count = try await tx.query("SELECT count(*)::int FROM customers.rules WHERE kind = \(kind.rawValue)").decode(Int.self).reduce(0, +)
            guard count < Self.limit else { throw Problem.conflict(code: "limit_reached", detail: "At most \(Self.limit) rules of a kind.") }
            try await rejectingDuplicates(as: Self.nameTaken(name)) {
                try await tx.query("""
                    INSERT INTO customers.rules (tenant_id, id, kind, name, enabled, position, conditions, points)
                    VALUES (\(tx.tenantID.uuid), \(id), \(kind.rawValue), \(name), \(body.enabled ?? true), \(body.position ?? count),
                            \(try Self.json(body.conditions))::jsonb, \(points))
                    """)
            }
            let rule = try await tx.rule(kind, id)
            try await tx.publish(CustomerRuleChanged(kind: kind.rawValue, ruleId: id, exists: true))
            try await tx.publishAudit(actor, action: "customers.\(kind.rawValue)_rule.created", targetType: "\(kind.rawValue)_rule",
                                      targetID: id.uuidString.lowercased(), after: rule)
            return rule
        }
        return EditedResponse(status: .created, response: rule)
    }

    @Sendable func replace(request: Request, context: KefuRequestContext) async throws -> CustomerRule {
        let principal = try context.requirePermission(permission)
        let id = try context.parameters.uuid(what: "rule")
        let body = try await request.decode(as: RuleRequest.self, context: context)
        let actor = AuditActor(context: context)
        return try await database.withTenant(principal.tenantID) { tx in
            let before = try await tx.rule(kind, id)
            let (name, points) = try await checked(body, in: tx)
            try await rejectingDuplicates(as: Self.nameTaken(name)) {
                try await tx.query("""
                    UPDATE customers.rules SET name = \(name), enabled = \(body.enabled ?? before.enabled), position = \(body.position ?? before.position),
                        conditions = \(try Self.json(body.conditions))::jsonb, points = \(points), updated_at = now()
                    WHERE id = \(id)
                    """)
            }
            let after = try await tx.rule(kind, id)
            try await tx.publish(CustomerRuleChanged(kind: kind.rawValue, ruleId: id, exists: true))
            try await tx.publishAudit(actor, action: "customers.\(kind.rawValue)_rule.updated", targetType: "\(kind.rawValue)_rule",
                                      targetID: id.uuidString.lowercased(), before: before, after: after)
            return after
        }
    }

    @Sendable func delete(request: Request, context: KefuRequestContext) async throws -> HTTPResponse.Status {
        let principal = try context.requirePermission(permission)
        let id = try context.parameters.uuid(what: "rule")
        let actor = AuditActor(context: context)
        try await database.withTenant(principal.tenantID) { tx in
            let before = try await tx.rule(kind, id)
            try await tx.query("DELETE FROM customers.rules WHERE id = \(id)")
            try await tx.publish(CustomerRuleChanged(kind: kind.rawValue, ruleId: id, exists: false))
            try await tx.publishAudit(actor, action: "customers.\(kind.rawValue)_rule.deleted", targetType: "\(kind.rawValue)_rule",
                                      targetID: id.uuidString.lowercased(), before: before)
        }
        return .noContent
    }

    static func nameTaken(_ name: String) -> Problem {
        .conflict(code: "name_taken", detail: "Another rule is named \(name).")
    }

    static func json(_ conditions: ConditionSet) throws -> String {
        String(decoding: try KefuJSON.encoder().encode(conditions), as: UTF8.self)
    }
}

extension TenantTransaction {
    func rule(_ kind: CustomerRule.Kind, _ id: UUID) async throws -> CustomerRule {
        guard let rule = try await rules(kind, id: id).first else { throw Problem.notFound("rule") }
        return rule
    }
}
