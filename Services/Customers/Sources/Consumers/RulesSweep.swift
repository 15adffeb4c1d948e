import Foundation
import KefuCore
import KefuModels
import PostgresNIO

/// After an entry or scoring rule changes, applies the tenant's rules to every customer they may
/// now judge otherwise (durable consumer `customers.rules`): contacts for entry rules, everyone
/// for scoring rules. Pages of 200 by id, one transaction each, the rules compiled once per page;
/// applying rules is idempotent, so a replayed event or a restart mid-sweep only repeats work.
struct RulesSweep {
    let database: Database

    static let pageSize = 200

    static let eventTypes: Set<String> = [CustomerRuleChanged.eventType]

    func handle(_ event: StoredEvent) async throws {
        let change = try event.decode(CustomerRuleChanged.self)
        let contactsOnly = change.kind == "entry"
        var after: UUID?
        while true {
            let last = try await database.withTenant(event.tenantID) { [after] tx -> UUID? in
                let ids = try await tx.query("""
                    SELECT id FROM customers.customers
                    WHERE (\(after)::uuid IS NULL OR id > \(after)) AND (NOT \(contactsOnly) OR NOT entered)
                    ORDER BY id LIMIT \(Self.pageSize)
                    """).decode(UUID.self).reduce(into: [UUID]()) { $0.append($1) }
                let rules = try await tx.ruleSet()
                for id in ids { try await tx.applyRules(to: id, rules: rules) }
                return ids.count == Self.pageSize ? ids.last : nil
            }
            guard let last else { return }
            after = last
        }
    }
}
