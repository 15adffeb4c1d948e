import Foundation
import KefuCore
import KefuModels
import KefuReceptionClient
import PostgresNIO

/// Keeps `customers.group_members` as reception's groups say (durable consumer
/// `customers.groups`): on each `reception.config_changed` of kind group, the group's members are
/// read from reception's snapshot (at least as new as the event) and replace the stored ones; a
/// deleted group loses them all. Replaying an event writes the same rows again.
struct GroupsFromReception {
    let database: Database
    let reception: ReceptionDirectory

    static let eventTypes: Set<String> = [ReceptionConfigChanged.eventType]

    func handle(_ event: StoredEvent) async throws {
        let change = try event.decode(ReceptionConfigChanged.self)
        guard change.kind == "group" else { return }
        reception.announce(event.tenantID, version: change.version)
        let snapshot = try await reception.snapshot(for: event.tenantID)
        // Without an id (a change of several groups) every group is refreshed.
        let groups = snapshot.groups.filter { change.id == nil || $0.id == change.id }
        try await database.withTenant(event.tenantID) { tx in
            if let id = change.id {
                try await tx.query("DELETE FROM customers.group_members WHERE group_id = \(id)")
            } else {
                try await tx.query("DELETE FROM customers.group_members")
            }
            for group in groups {
                try await tx.query("""
                    INSERT INTO customers.group_members (tenant_id, group_id, employee_id)
                    SELECT \(tx.tenantID.uuid), \(group.id), unnest(\(group.document.memberIds)::uuid[])
                    ON CONFLICT DO NOTHING
                    """)
            }
        }
    }
}
