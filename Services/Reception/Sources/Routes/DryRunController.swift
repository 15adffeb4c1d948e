import Foundation
import Hummingbird
import KefuCore
import KefuModels

/// `POST /v1/reception/dry-run`: given a visitor's attributes, which guide rule and which
/// assignment rule would apply, and why (each condition's outcome, rule by rule).
struct DryRunController {
    let reception: Reception

    func addRoutes(to router: Router<KefuRequestContext>) {
        router.post("/v1/reception/dry-run", use: dryRun)
    }

    struct Input: Decodable, Sendable {
        /// Field key (`visitor.region`, `customer.tags`, `custom.vip_level`) → value.
        let attributes: [String: ConditionValue?]
    }

    struct RuleOutcome: Codable, Sendable {
        @LowercaseUUID var id: UUID
        let name: String
        let matched: Bool
        /// Each condition's outcome, in the rule's order.
        let conditions: [ConditionOutcome]
    }

    struct ConditionOutcome: Codable, Sendable {
        let field: String
        let op: ConditionOperator
        let matched: Bool
    }

    struct Result: ResponseEncodable, Sendable {
        /// The first enabled guide rule that matches, and the messages it would push.
        let guideRule: RuleOutcome?
        let messages: [PushMessage]
        /// The first enabled assignment rule that matches, and its targets in order.
        let assignmentRule: RuleOutcome?
        let targets: [AssignmentTarget]
        /// True when no assignment rule matched and the default target applies.
        let usedDefault: Bool
        let ownerFirst: Bool
        /// Every enabled rule, in evaluation order, with why it matched or not.
        let evaluatedGuideRules: [RuleOutcome]
        let evaluatedAssignmentRules: [RuleOutcome]
    }

    @Sendable func dryRun(request: Request, context: KefuRequestContext) async throws -> Result {
        let tenant = try context.requirePermission(.receptionAssignmentRules).tenantID
        let input = try await request.decode(as: Input.self, context: context)
        let (catalogue, guideRules, assignmentRules, settings) = try await reception.database.withTenant(tenant) { tx in
            (try await tx.fieldCatalogue(), try await tx.items(.guideRule, as: GuideRule.self),
             try await tx.items(.assignmentRule, as: AssignmentRule.self),
             try await tx.setting(AssignmentSettings.key, as: AssignmentSettings.self)?.0 ?? .defaults)
        }
        var facts = ConditionFacts(catalogue: catalogue)
        var v = Validation()
        for (key, value) in input.attributes.sorted(by: { $0.key < $1.key }) {
            if let problem = facts.set(key, json: value) { v.add("attributes.\(key)", problem) }
        }
        try v.throwIfInvalid()

        let guides = try guideRules.filter(\.document.enabled).map { try outcome($0.id, $0.document.name, $0.document.conditions, catalogue, facts) }
        let assignments = try assignmentRules.filter(\.document.enabled).map { try outcome($0.id, $0.document.name, $0.document.conditions, catalogue, facts) }
        let guide = guides.first(where: \.matched)
        let assignment = assignments.first(where: \.matched)
        let defaultTargets = settings.defaultTarget.map { [$0] } ?? []
        return Result(
            guideRule: guide,
            messages: guide.flatMap { g in guideRules.first { $0.id == g.id }?.document.messages } ?? [],
            assignmentRule: assignment,
            targets: assignment.flatMap { a in assignmentRules.first { $0.id == a.id }?.document.targets } ?? defaultTargets,
            usedDefault: assignment == nil,
            ownerFirst: settings.ownerFirst,
            evaluatedGuideRules: guides,
            evaluatedAssignmentRules: assignments
        )
    }

    func outcome(_ id: UUID, _ name: String, _ set: ConditionSet, _ catalogue: FieldCatalogue, _ facts: ConditionFacts) throws -> RuleOutcome {
        // Stored rules were valid when written; a custom field removed since makes one invalid,
        // and then it cannot match.
        guard let compiled = try? catalogue.compile(set) else {
            return RuleOutcome(id: id, name: name, matched: false, conditions: [])
        }
        let results = compiled.explain(facts)
        return RuleOutcome(
            id: id, name: name, matched: compiled.matches(facts),
            conditions: zip(set.conditions, results).map { ConditionOutcome(field: $0.field, op: $0.op, matched: $1) }
        )
    }
}
