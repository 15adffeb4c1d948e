import Foundation
import KefuCore
import KefuModels
import PostgresNIO

/// Where a conversation goes: the targets in order (the first free seat wins), else the queue of
/// the first group target that queues, else the no-agent fallback. Also the other direction — a
/// seat frees and takes the longest-waiting visitor of the agent's groups at once.
///
/// A seat is claimed in one conditional UPDATE of the agent's row (`open_count < limit`), under
/// the locks of `SeatLocks`: two replicas can never hand one conversation to two agents or take
/// an agent past their limit.
struct ConversationPlacer {
    let snapshot: ReceptionSnapshot

    /// A group or an agent to try, and why it is tried (the reason of the assignment it makes).
    struct Target: Sendable, Equatable {
        enum Kind: Sendable { case group, agent }
        let kind: Kind
        let id: UUID
        let reason: AssignmentReason

        static func group(_ id: UUID, _ reason: AssignmentReason) -> Target { Target(kind: .group, id: id, reason: reason) }
        static func agent(_ id: UUID, _ reason: AssignmentReason) -> Target { Target(kind: .agent, id: id, reason: reason) }
    }

    /// One step of `routing_trace`.
    struct TraceStep: Codable, Sendable {
        var step: String
        var detail: String
        var candidates: [Candidate]? = nil

        struct Candidate: Codable, Sendable {
            @LowercaseUUID var agentId: UUID
            /// `taken`, `offline`, `suspended`, `reception_off`, `full`, `disabled`, `unknown`.
            var outcome: String
        }
    }

    enum Placement: Sendable {
        case assigned(agent: UUID, group: UUID?)
        case queued(group: UUID, position: Int)
        case fallback(ConversationStatus)
    }

    static let defaultAgentLimit = 10
    var locks: SeatLocks { SeatLocks(snapshot: snapshot) }

    func group(_ id: UUID) -> ConfigItem<ReceptionGroup>? { snapshot.groups.first { $0.id == id } }

    /// An agent's limit outside a group: the largest per-agent limit of their groups.
    func limit(of agent: UUID) -> Int {
        locks.groups(of: agent).map(\.document.perAgentLimit).max() ?? Self.defaultAgentLimit
    }

    /// Places `conversation` (new, or back from an agent who left) and records how in its trace.
    /// `front`: a conversation that was already being served queues by its creation time, ahead
    /// of visitors who arrived after it.
    func place(
        _ conversation: UUID, targets: [Target], fallback: FallbackPolicy,
        front: Bool = false, trace: inout [TraceStep], in tx: TenantTransaction
    ) async throws -> Placement {
        let lockKeys = targets.flatMap { $0.kind == .group ? [$0.id] : locks.keys(forAgent: $0.id) }
        try await SeatLocks.lock(lockKeys, in: tx)
        for target in targets {
            let (members, limit, groupID): ([UUID], Int, UUID?) = switch target.kind {
            case .group: (group(target.id)?.document.memberIds ?? [], group(target.id)?.document.perAgentLimit ?? 0, target.id)
            case .agent: ([target.id], limit(of: target.id), nil)
            }
            var step = TraceStep(step: "target", detail: "\(target.kind) \(target.id.uuidString.lowercased()) (\(target.reason.rawValue))")
            if target.kind == .group, group(target.id) == nil { step.detail += ": no such group"; trace.append(step); continue }
            let (agent, candidates) = try await claimSeat(members: members, limit: limit, in: tx)
            step.candidates = candidates
            if target.kind == .agent, candidates.first?.outcome == AgentStatus.suspended.rawValue,
               try await sendSuspendedReply(of: target.id, to: conversation, in: tx) {
                step.detail += ": suspended, their automatic reply sent"
            }
            trace.append(step)
            if let agent {
                try await tx.assign(conversation, to: agent, group: groupID, reason: target.reason, previous: nil, note: nil, by: nil)
                return .assigned(agent: agent, group: groupID)
            }
        }
        // No seat anywhere: the queue of the first group target that queues, while it has room.
        if fallback.mode == .queue {
            for target in targets where target.kind == .group {
                let id = target.id
                guard let group = group(id), group.document.queue.enabled else { continue }
                let waiting = try await tx.queueLength(group: id)
                guard waiting < min(group.document.queue.maxLength, fallback.queue.maxLength) else {
                    trace.append(TraceStep(step: "queue", detail: "group \(id.uuidString.lowercased()) queue full (\(waiting))"))
                    continue
                }
                let position = try await tx.enqueue(conversation, group: id, front: front)
                try await tx.scheduleQueueWait(conversation, seconds: min(group.document.queue.maxWaitSeconds, fallback.queue.maxWaitSeconds))
                trace.append(TraceStep(step: "queue", detail: "queued in group \(id.uuidString.lowercased()) at \(position)"))
                return .queued(group: id, position: position)
            }
        }
        let status: ConversationStatus = fallback.mode == .bot ? .withBot : .awaitingMessage
        // It keeps the group it was meant for: that group's agents may pick it up.
        let meantFor = targets.first { $0.kind == .group && group($0.id) != nil }?.id
        try await tx.query("""
            UPDATE routing.conversations SET status = \(status.rawValue), group_id = coalesce(group_id, \(meantFor)::uuid) WHERE id = \(conversation)
            """)
        trace.append(TraceStep(step: "fallback", detail: status.rawValue))
        return .fallback(status)
    }

    /// A customer meant for this agent (owner, or named by a widget or rule) finds them
    /// suspended: their automatic reply, if they set one, once per conversation.
    func sendSuspendedReply(of agent: UUID, to conversation: UUID, in tx: TenantTransaction) async throws -> Bool {
        let reply = try await tx.query("SELECT suspended_reply FROM routing.agents WHERE employee_id = \(agent)")
            .collect().first.flatMap { try $0.decode(String?.self) }
        guard let reply else { return false }
        _ = try await tx.append(NewMessage(
            sender: .system, senderID: nil, clientMessageID: "suspended:\(agent.uuidString.lowercased())", body: .text(reply), automatic: true
        ), to: conversation)
        return true
    }

    /// The one atomic step: the available member with the fewest open conversations (ties: who
    /// waited longest since their last assignment) takes a seat if under `limit`. The row is
    /// re-checked under its lock, so a concurrent claim never pushes an agent past the limit.
    func claimSeat(members: [UUID], limit: Int, in tx: TenantTransaction) async throws -> (UUID?, [TraceStep.Candidate]) {
        guard !members.isEmpty, limit > 0 else { return (nil, []) }
        // The claim, and beside it why each member was or was not taken (for the trace: the
        // members as the claim saw them), in one statement.
        let rows = try await tx.query("""
            WITH claimed AS (
                UPDATE routing.agents a SET open_count = open_count + 1, last_assigned_at = clock_timestamp()
                WHERE a.employee_id = (
                    SELECT employee_id FROM routing.agents
                    WHERE employee_id = ANY(\(members)) AND active AND status = 'online' AND reception = 'on' AND open_count < \(limit)
                    ORDER BY open_count, last_assigned_at NULLS FIRST, employee_id
                    LIMIT 1 FOR UPDATE
                ) AND a.open_count < \(limit)
                RETURNING a.employee_id
            )
            SELECT employee_id, active, status, reception, open_count, employee_id IN (SELECT employee_id FROM claimed)
            FROM routing.agents WHERE employee_id = ANY(\(members))
            """).collect().map { try $0.decode((UUID, Bool, String, String, Int, Bool).self) }
        let claimed = rows.first { $0.5 }?.0
        var known: [UUID: String] = [:]
        for (id, active, status, reception, open, _) in rows {
            known[id] = id == claimed ? "taken"
                : !active ? "disabled"
                : status != "online" ? status
                : reception != "on" ? "reception_off"
                : open >= limit ? "full" : "not_chosen"
        }
        return (claimed, members.map { TraceStep.Candidate(agentId: $0, outcome: known[$0] ?? "unknown") })
    }

    /// A seat of `agent` freed (or they became available): the longest-waiting visitors of their
    /// groups take their free seats, oldest first. Call with `locks.keys(forAgent:)` held.
    func fillSeats(of agent: UUID, in tx: TenantTransaction) async throws -> [UUID] {
        var assigned: [UUID] = []
        let groups = locks.groups(of: agent)
        guard !groups.isEmpty else { return [] }
        while true {
            let state = try await tx.query("""
                SELECT open_count FROM routing.agents
                WHERE employee_id = \(agent) AND active AND status = 'online' AND reception = 'on'
                """).collect().first.map { try $0.decode(Int.self) }
            guard let open = state else { return assigned }
            let roomy = groups.filter { open < $0.document.perAgentLimit }.map(\.id)
            guard !roomy.isEmpty,
                  let (conversation, group) = try await tx.query("""
                    SELECT id, group_id FROM routing.conversations WHERE status = 'queued' AND group_id = ANY(\(roomy))
                    ORDER BY queued_at, id LIMIT 1 FOR UPDATE
                    """).collect().first.map({ try $0.decode((UUID, UUID).self) }),
                  let limit = self.group(group)?.document.perAgentLimit
            else { return assigned }
            let claimed = try await tx.query("""
                UPDATE routing.agents SET open_count = open_count + 1, last_assigned_at = clock_timestamp()
                WHERE employee_id = \(agent) AND open_count < \(limit) RETURNING 1
                """).collect().count == 1
            guard claimed else { return assigned }
            try await tx.assign(conversation, to: agent, group: group, reason: .queue, previous: nil, note: nil, by: nil)
            assigned.append(conversation)
        }
    }

    /// An agent's open and queued conversations go elsewhere: to `successor` (a handover), or
    /// back through their group (a disabled agent).
    func replaceAll(of agent: UUID, with successor: UUID?, in tx: TenantTransaction) async throws {
        try await SeatLocks.lock(locks.keys(forAgent: agent) + (successor.map(locks.keys(forAgent:)) ?? []), in: tx)
        let open = try await tx.query("""
            SELECT id, group_id FROM routing.conversations WHERE agent_id = \(agent) AND status = 'open' ORDER BY assigned_at FOR UPDATE
            """).collect().map { try $0.decode((UUID, UUID?).self) }
        for (conversation, group) in open {
            try await tx.releaseSeat(of: agent)
            if let successor {
                // A handover is the business's decision: the receiver gets them even past their limit.
                try await tx.query("UPDATE routing.agents SET open_count = open_count + 1 WHERE employee_id = \(successor)")
                try await tx.assign(conversation, to: successor, group: group, reason: .handover, previous: agent, note: nil, by: nil)
            } else {
                // Unassigned (a legal resting state) until placed again through its group.
                try await tx.query("UPDATE routing.conversations SET status = 'awaiting_message', agent_id = NULL WHERE id = \(conversation)")
                var trace: [TraceStep] = [TraceStep(step: "agent_left", detail: "agent \(agent.uuidString.lowercased()) is no longer active")]
                let targets: [Target] = group.map { [.group($0, .transfer)] } ?? []
                _ = try await place(conversation, targets: targets, fallback: snapshot.fallback, front: true, trace: &trace, in: tx)
                try await tx.appendTrace(conversation, trace)
            }
        }
    }
}
