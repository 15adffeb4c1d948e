import Foundation
import KefuCore
import KefuModels

extension ConversationPlacer {
    /// Where a transfer sends a conversation.
    enum TransferTarget: Sendable, Equatable {
        case agent(UUID)
        case group(UUID)
    }

    struct Transfer: Sendable {
        let conversation: UUID
        let target: TransferTarget
        let note: String?
        /// The employee transferring: the holder, or a supervisor when `forced`.
        let by: UUID
        /// 强行转接: a supervisor moves a conversation that is not theirs.
        let forced: Bool
        /// Forced only: a target agent at their limit takes it anyway (the supervisor's decision,
        /// like a handover); they must still be online.
        let overLimit: Bool
        /// Who the caller saw holding it (nil: nobody, e.g. queued). Under the row lock it must
        /// still be so, else 409 `conversation_changed` — two supervisors acting on what they saw
        /// cannot both win.
        let expectedHolder: UUID?
    }

    enum TransferOutcome: Sendable, Equatable {
        case assigned(agent: UUID)
        case queued(group: UUID, position: Int)
    }

    /// Moves a live conversation to an agent with a free seat, or to a group (its first free seat,
    /// else the front of its queue: by creation time, ahead of visitors who arrived after it). The
    /// holder's seat frees and takes the longest-waiting visitor of their groups. Nothing is
    /// written when it fails (the caller's transaction rolls back).
    ///
    /// Locks (`SeatLocks`): the holder's keys, the target's keys (an agent) or the target group,
    /// and a queued conversation's group — all at once, before any agent row; then the
    /// conversation row, where the holder is checked against `expectedHolder`.
    func transfer(_ transfer: Transfer, in tx: TenantTransaction) async throws -> TransferOutcome {
        let id = transfer.conversation
        guard let (status, holder, queueGroup) = try await tx.query("""
            SELECT status, agent_id, group_id FROM routing.conversations WHERE id = \(id)
            """).collect().first.map({ try $0.decode((String, UUID?, UUID?).self) })
        else { throw Problem.notFound("conversation") }
        guard status != ConversationStatus.ended.rawValue else { throw Self.ended }
        guard holder == transfer.expectedHolder else { throw Self.changed }
        if case .agent(let target) = transfer.target, target == holder {
            throw Problem.invalid("to_agent_id", "already holds this conversation", code: "same_agent")
        }
        var keys: [UUID] = holder.map(locks.keys(forAgent:)) ?? []
        if status == ConversationStatus.queued.rawValue, let queueGroup { keys.append(queueGroup) }
        switch transfer.target {
        case .agent(let agent): keys += locks.keys(forAgent: agent)
        case .group(let group): keys.append(group)
        }
        try await SeatLocks.lock(keys, in: tx)
        let now = try await tx.query("SELECT status, agent_id FROM routing.conversations WHERE id = \(id) FOR UPDATE")
            .collect().first.map { try $0.decode((String, UUID?).self) }
        guard let now, now.0 == status, now.1 == holder else { throw Self.changed }

        let reason: AssignmentReason = transfer.forced ? .forcedTransfer : .transfer
        var step = TraceStep(
            step: transfer.forced ? "forced_transfer" : "transfer",
            detail: "from \(holder.map { "agent \($0.uuidString.lowercased())" } ?? status) to \(transfer.target.description)"
                + " by \(transfer.by.uuidString.lowercased())" + (transfer.note.map { ": \($0)" } ?? "")
        )
        try await tx.publish(ConversationTransferred(
            conversationId: ConversationID(id), fromAgentId: holder.map(EmployeeID.init),
            toAgentId: transfer.target.agent.map(EmployeeID.init), toGroupId: transfer.target.group,
            forced: transfer.forced, note: transfer.note, by: EmployeeID(transfer.by), transferredAt: Date()
        ))
        let outcome: TransferOutcome
        switch transfer.target {
        case .agent(let agent):
            let claimed: Bool
            if transfer.forced && transfer.overLimit {
                claimed = try await tx.query("""
                    UPDATE routing.agents SET open_count = open_count + 1, last_assigned_at = clock_timestamp()
                    WHERE employee_id = \(agent) AND active AND status = 'online' RETURNING 1
                    """).collect().count == 1
            } else {
                let (taken, candidates) = try await claimSeat(members: [agent], limit: limit(of: agent), in: tx)
                claimed = taken != nil
                step.candidates = candidates
            }
            guard claimed else {
                // Why, as the trace would say it (`full`, `suspended`, `offline`, `reception_off`).
                let why = step.candidates?.first.map { " (\($0.outcome))" } ?? ""
                throw Problem.conflict(code: "agent_unavailable", detail: "That agent cannot take it now\(why): they need to be online with reception on and a free seat.")
            }
            try await tx.assign(id, to: agent, group: nil, reason: reason, previous: holder, note: transfer.note, by: transfer.by)
            if let holder { try await freeSeat(of: holder, in: tx) }
            outcome = .assigned(agent: agent)
        case .group(let groupID):
            guard let group = group(groupID) else { throw Problem.invalid("to_group_id", "does not exist", code: "not_found") }
            // The holder's seat first: it takes a waiting visitor of their groups, never this
            // conversation (not queued yet), and the holder is no candidate of the group below.
            if let holder { try await freeSeat(of: holder, in: tx) }
            let members = group.document.memberIds.filter { $0 != holder }
            let (agent, candidates) = try await claimSeat(members: members, limit: group.document.perAgentLimit, in: tx)
            step.candidates = candidates
            if let agent {
                try await tx.assign(id, to: agent, group: groupID, reason: reason, previous: holder, note: transfer.note, by: transfer.by)
                outcome = .assigned(agent: agent)
            } else {
                let waiting = try await tx.queueLength(group: groupID)
                guard group.document.queue.enabled, waiting < min(group.document.queue.maxLength, snapshot.fallback.queue.maxLength) else {
                    throw Problem.conflict(code: "group_unavailable", detail: "That group has no free seat and its queue is off or full.")
                }
                outcome = .queued(group: groupID, position: try await tx.enqueue(id, group: groupID, front: true))
                try await tx.scheduleQueueWait(id, seconds: min(group.document.queue.maxWaitSeconds, snapshot.fallback.queue.maxWaitSeconds))
            }
        }
        try await tx.appendTrace(id, [step])
        _ = try await tx.append(NewMessage(
            sender: .system, senderID: nil, clientMessageID: nil, body: .text(try await transferNotice(outcome, in: tx)), automatic: true
        ), to: id)
        return outcome
    }

    /// Gives back one of `agent`'s seats and fills it from their groups' queues.
    private func freeSeat(of agent: UUID, in tx: TenantTransaction) async throws {
        try await tx.releaseSeat(of: agent)
        _ = try await fillSeats(of: agent, in: tx)
    }

    /// What the visitor reads (never the note: it is for the agents).
    private func transferNotice(_ outcome: TransferOutcome, in tx: TenantTransaction) async throws -> String {
        switch outcome {
        case .assigned(let agent):
            let name = try await tx.query("SELECT display_name FROM routing.agents WHERE employee_id = \(agent)")
                .collect().first.map { try $0.decode(String.self) } ?? ""
            return name.isEmpty ? "You have been transferred to another agent." : "You have been transferred to \(name)."
        case .queued(_, let position):
            return "You have been transferred; you are number \(position) in the queue."
        }
    }

    static let changed = Problem.conflict(
        code: "conversation_changed", detail: "The conversation changed meanwhile (another transfer, an end); look at it again."
    )
    static let ended = Problem.conflict(code: "conversation_ended", detail: "This conversation has ended.")
}

extension ConversationPlacer.TransferTarget: CustomStringConvertible {
    var agent: UUID? {
        switch self {
        case .agent(let id): id
        case .group: nil
        }
    }
    var group: UUID? {
        switch self {
        case .agent: nil
        case .group(let id): id
        }
    }
    var description: String {
        switch self {
        case .agent(let id): "agent \(id.uuidString.lowercased())"
        case .group(let id): "group \(id.uuidString.lowercased())"
        }
    }
}
