import Foundation
import KefuCore
import KefuModels

/// Seats and queues are changed under per-tenant advisory transaction locks, one per reception
/// group and one per agent, always taken in one global order and always before any agent row is
/// touched. Two things follow: a visitor placed in a group and a seat freeing in that group are
/// applied one after the other (so a freed seat always sees the visitor queued just before, and a
/// visitor always sees the seat freed just before: no lost wake-up), and no two transactions can
/// wait on each other in a cycle.
///
/// Which keys: placing into a group takes the group; anything that changes one agent's seats
/// (an assignment to them as a single target, ending or transferring their conversation, their
/// state, filling their seats from the queues) takes the agent and every group they belong to.
struct SeatLocks {
    let snapshot: ReceptionSnapshot

    func groups(of agent: UUID) -> [ConfigItem<ReceptionGroup>] {
        snapshot.groups.filter { $0.document.memberIds.contains(agent) }
    }

    /// The keys to hold before changing `agent`'s seats.
    func keys(forAgent agent: UUID) -> [UUID] {
        [agent] + groups(of: agent).map(\.id)
    }

    /// Takes the locks of `ids` (groups and agents), in the global order.
    static func lock(_ ids: [UUID], in tx: TenantTransaction) async throws {
        for id in Set(ids).sorted(by: { $0.uuidString < $1.uuidString }) {
            try await tx.query("SELECT pg_advisory_xact_lock(hashtextextended(\(tx.tenantID.description + ":" + id.uuidString.lowercased()), 7))")
        }
    }
}
