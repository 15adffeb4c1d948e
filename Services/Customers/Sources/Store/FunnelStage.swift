import Foundation
import KefuCore
import KefuModels
import PostgresNIO

extension CustomerStageChanged {
    /// A change of a customer's funnel stage, placed in the tenant's funnel `stages` (its last
    /// stage is the closed deal).
    static func set(
        customer: UUID, owner: UUID?, channel: String?, source: String?, from before: String?, to after: String?,
        stages: [String], at: Date, by: EmployeeID?
    ) -> CustomerStageChanged {
        CustomerStageChanged(
            customerId: customer, ownerId: owner.map(EmployeeID.init), channel: channel, source: source, stageBefore: before,
            stageAfter: after, positionBefore: before.flatMap(stages.firstIndex(of:)), positionAfter: after.flatMap(stages.firstIndex(of:)),
            won: after != nil && after == stages.last, at: at, by: by
        )
    }
}

extension TenantTransaction {
    /// Publishes `customer.stage_changed` when the stage went from `before` to something else,
    /// with the customer's owner, source and first reception's channel as they are now (after
    /// the change, in its transaction).
    func publishStageChange(of customer: UUID, from before: String?, by: EmployeeID?) async throws {
        let rows = try await query("""
            SELECT c.funnel_stage, c.owner_id, c.source,
                (SELECT r.channel FROM customers.receptions r WHERE r.customer_id = c.id ORDER BY r.started_at, r.conversation_id LIMIT 1)
            FROM customers.customers c WHERE c.id = \(customer)
            """)
        let found = try await rows.decode((String?, UUID?, String?, String?).self).reduce(into: [(String?, UUID?, String?, String?)]()) { $0.append($1) }
        for (after, owner, source, channel) in found where after != before {
            try await publish(CustomerStageChanged.set(
                customer: customer, owner: owner, channel: channel, source: source, from: before, to: after,
                stages: try await librarySettings().funnelStages, at: Date(), by: by
            ))
        }
    }
}
