import Foundation
import KefuCore
import KefuModels

/// A reception group changed (a raised per-agent limit, a new member): seats may have freed, and
/// they take the longest-waiting visitors at once. Durable, so one replica applies each change;
/// filling is idempotent (a full seat takes nobody), so a replay changes nothing.
struct GroupChanges {
    let routing: Routing

    static let eventTypes: Set<String> = [ReceptionConfigChanged.eventType]

    func handle(_ event: StoredEvent) async throws {
        let change = try event.decode(ReceptionConfigChanged.self)
        guard change.kind == "group", let id = change.id, change.action != "deleted" else { return }
        routing.reception.announce(event.tenantID, version: change.version)
        let snapshot = try await routing.reception.snapshot(for: event.tenantID)
        guard let group = snapshot.groups.first(where: { $0.id == id }) else { return }
        let placer = ConversationPlacer(snapshot: snapshot)
        for member in group.document.memberIds {
            try await routing.database.withTenant(event.tenantID) { tx in
                try await SeatLocks.lock(placer.locks.keys(forAgent: member), in: tx)
                _ = try await placer.fillSeats(of: member, in: tx)
            }
        }
    }
}
