import Foundation
import KefuCore
import KefuModels
import PostgresNIO

/// The durable consumer `analytics.facts`: hands each batch of events, tenant by tenant, to
/// `analytics.apply_events` (schema/analytics/0002_facts.sql), one transaction and one statement
/// per tenant run. The function stores facts idempotently and recomputes the conversations they
/// touch, so redelivery (at least once) and any arrival order give the same rows.
struct FactsFromEvents {
    let database: Database

    static let eventTypes: Set<String> = [
        ConversationCreated.eventType, ConversationQueued.eventType, ConversationAssigned.eventType, MessageCreated.eventType,
        ConversationEnded.eventType, ConversationUpdated.eventType, SatisfactionRated.eventType, AgentStateChanged.eventType,
        EmployeeCreated.eventType, EmployeeUpdated.eventType, EmployeeStatusChanged.eventType, DepartmentChanged.eventType,
        VisitorSeen.eventType, CustomerOwnerChanged.eventType, CustomerMerged.eventType, CustomerStageChanged.eventType,
        CustomerDeleted.eventType,
    ]

    func handle(_ events: [StoredEvent]) async throws {
        var run: [StoredEvent] = []
        for event in events {
            if let tenant = run.first?.tenantID, tenant != event.tenantID {
                try await apply(run)
                run = []
            }
            run.append(event)
        }
        if !run.isEmpty { try await apply(run) }
    }

    private func apply(_ run: [StoredEvent]) async throws {
        try await database.withTenant(run[0].tenantID) { tx in
            try await tx.query("SELECT analytics.apply_events(\(run.map(\.type))::text[], \(run.map(\.payload))::jsonb[])")
        }
    }
}
