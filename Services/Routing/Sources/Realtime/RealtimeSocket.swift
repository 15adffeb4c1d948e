import Foundation
import KefuCore
import KefuModels
import Synchronization

/// Who is at the other end of a socket.
enum SocketPeer: Sendable {
    case employee(Principal, EmployeeID)
    case visitor(TenantID, VisitorID)

    var tenant: TenantID {
        switch self {
        case .employee(let principal, _): principal.tenantID
        case .visitor(let tenant, _): tenant
        }
    }

    var side: SocketSide {
        if case .visitor = self { return .visitor }
        return .agent
    }
}

/// One open socket: the frames it is to send, in order (its connection task writes them), and for
/// each conversation it follows the highest `seq` it was given. Every message goes through
/// `offer`, which takes only the next `seq`: whichever path (resume, live, resync) reads a message
/// first sends it, the others find it delivered, so nothing is sent twice or out of order.
final class RealtimeSocket: Sendable {
    enum Offer { case sent, delivered, gap, notFollowing }

    struct Following {
        var delivered: [UUID: Int64] = [:]
        /// Named by the client (resume, watch): kept when the conversation leaves the agent.
        var explicit: Set<UUID> = []
        /// When this socket last sent typing per conversation (at most one a second goes out).
        var typing: [UUID: ContinuousClock.Instant] = [:]
    }

    let id = UUID()
    let peer: SocketPeer
    let frames: AsyncStream<String>
    private let continuation: AsyncStream<String>.Continuation
    let following = Mutex(Following())

    init(peer: SocketPeer) {
        self.peer = peer
        let (frames, continuation) = AsyncStream.makeStream(of: String.self)
        self.frames = frames
        self.continuation = continuation
    }

    var employeeID: UUID? {
        if case .employee(_, let id) = peer { return id.uuid }
        return nil
    }

    var visitorID: UUID? {
        if case .visitor(_, let id) = peer { return id.uuid }
        return nil
    }

    func send(_ frame: some Encodable) {
        guard let data = try? KefuJSON.encoder().encode(frame) else { return }
        continuation.yield(String(decoding: data, as: UTF8.self))
    }

    func offer(seq: Int64, in conversation: UUID, frame: String) -> Offer {
        following.withLock { state in
            guard let delivered = state.delivered[conversation] else { return .notFollowing }
            if seq <= delivered { return .delivered }
            if seq > delivered + 1 { return .gap }
            state.delivered[conversation] = seq
            // Yielded under the lock, so frames leave in the order seqs were taken.
            continuation.yield(frame)
            return .sent
        }
    }

    /// Starts following `conversation` after `seq`; returns false when it already did (then the
    /// cursor only moves forward: what the socket already sent is in flight to the client).
    @discardableResult
    func follow(_ conversation: UUID, after seq: Int64, explicit: Bool = false) -> Bool {
        following.withLock { state in
            if explicit { state.explicit.insert(conversation) }
            if let delivered = state.delivered[conversation] {
                state.delivered[conversation] = max(delivered, seq)
                return false
            }
            state.delivered[conversation] = seq
            return true
        }
    }

    func unfollow(_ conversation: UUID) {
        following.withLock { state in
            state.delivered[conversation] = nil
            state.explicit.remove(conversation)
        }
    }

    func delivered(_ conversation: UUID) -> Int64? { following.withLock { $0.delivered[conversation] } }

    /// Whether a typing signal for `conversation` may go out now: one a second is plenty for an
    /// indicator, and each one is a NOTIFY.
    func mayType(in conversation: UUID) -> Bool {
        following.withLock { state in
            let now = ContinuousClock.now
            if let last = state.typing[conversation], now - last < .seconds(1) { return false }
            state.typing[conversation] = now
            return true
        }
    }
    var followed: [UUID] { following.withLock { Array($0.delivered.keys) } }

    func finish() { continuation.finish() }
}

// MARK: Frames (JSON text, one event each, always with a `type`)

struct MessageFrame: Encodable {
    var type = "message.created"
    @LowercaseUUID var conversationId: UUID
    let message: MessageView
}

struct ConversationFrame: Encodable {
    /// `conversation.assigned|queued|transferred|ended`, or `conversation.state` for the current
    /// state sent on resume and after a resync.
    let type: String
    @LowercaseUUID var conversationId: UUID
    let conversation: ConversationView
}

struct TypingFrame: Encodable {
    var type = "typing"
    @LowercaseUUID var conversationId: UUID
    let from: String
}

struct AgentStateFrame: Encodable {
    var type = "agent.state_changed"
    let agent: AgentStateView
}

struct ControlFrame: Encodable {
    /// `ready` (on connect), `resumed` (backlog sent), `pong`, `error`.
    let type: String
    var conversations: [String: Int64]?
    var code: String?
    var detail: String?
}
