import Foundation
import KefuCore
import KefuModels

/// What a routing write tells every replica's sockets. Sent with `pg_notify` once the writing
/// transaction has commited (`CommitNotices`: never inside it, where it would serialise every
/// notifying commit behind one cluster-wide lock), so it goes out only if that transaction
/// commits. Notices of two transactions may arrive in either order. The record stays the truth:
/// the replica that holds sockets reads what changed from the database after the position its
/// socket has, so a notice late, reordered or lost (a reconnect, a writer killed right after its
/// commit) costs a resync or waits for the next notice, never a wrong or missing message.
///
/// One shortcut: a new message's notice carries its socket frame when it fits (`frameLimit`), and a
/// socket whose next `seq` it is sends it without a read — at hundreds of messages a second
/// that read (a transaction of four statements per message, on every replica with a follower)
/// was most of the socket path. A socket that is behind (a notice overtaken) reads the record.
///
/// Payload: `<tenant>:<kind>:<id>:<detail>` — `m:<conversation>:<seq>[:<frame>]` a new message,
/// `c:<conversation>:<change>` a conversation change, `t:<conversation>:<side>` typing,
/// `a:<agent>:state` an agent's state.
enum RealtimeNotice: Sendable, Equatable {
    enum Change: String, Sendable {
        case assigned, queued, transferred, ended
        /// Topic, status or rating: the sockets get the conversation's new state.
        case updated
    }

    /// `frame`: the message's socket frame (JSON), when it fits in a notice.
    case message(conversation: UUID, seq: Int64, frame: String? = nil)
    case conversation(UUID, Change)
    /// Ephemeral: nothing is stored, the other side's sockets get it once (if connected).
    case typing(conversation: UUID, from: SocketSide)
    case agentState(UUID)

    static let channel = "kefu_routing"
    /// A notice's payload must stay under 8000 bytes: the frame and room for the rest.
    static let frameLimit = 7800

    /// A new message's notice, with its frame when that fits.
    static func message(_ message: MessageView) -> RealtimeNotice {
        let frame = (try? KefuJSON.encoder().encode(MessageFrame(conversationId: message.conversationId, message: message)))
            .map { String(decoding: $0, as: UTF8.self) }
        return .message(conversation: message.conversationId, seq: message.seq, frame: frame.flatMap { $0.utf8.count <= frameLimit ? $0 : nil })
    }

    func payload(tenant: TenantID) -> String {
        switch self {
        case .message(let conversation, let seq, let frame): "\(tenant):m:\(conversation.lowercased):\(seq)" + (frame.map { ":" + $0 } ?? "")
        case .conversation(let conversation, let change): "\(tenant):c:\(conversation.lowercased):\(change.rawValue)"
        case .typing(let conversation, let side): "\(tenant):t:\(conversation.lowercased):\(side.rawValue)"
        case .agentState(let agent): "\(tenant):a:\(agent.lowercased):state"
        }
    }

    /// The tenant and notice of a payload; nil for anything malformed (ignored: a resync heals).
    static func parse(_ payload: String) -> (TenantID, RealtimeNotice)? {
        // At most five parts: a message's frame (the fifth) is JSON, with colons of its own.
        let parts = payload.split(separator: ":", maxSplits: 4, omittingEmptySubsequences: false)
        guard parts.count == 4 || (parts.count == 5 && parts[1] == "m"), let tenant = TenantID(String(parts[0])), let id = UUID(uuidString: String(parts[2])) else { return nil }
        let detail = String(parts[3])
        switch parts[1] {
        case "m": return Int64(detail).map { (tenant, RealtimeNotice.message(conversation: id, seq: $0, frame: parts.count == 5 ? String(parts[4]) : nil)) }
        case "c": return Change(rawValue: detail).map { (tenant, RealtimeNotice.conversation(id, $0)) }
        case "t": return SocketSide(rawValue: detail).map { (tenant, RealtimeNotice.typing(conversation: id, from: $0)) }
        case "a": return (tenant, RealtimeNotice.agentState(id))
        default: return nil
        }
    }
}

/// Which side of a conversation a socket is on: typing goes to the other side.
enum SocketSide: String, Sendable {
    case visitor, agent
}

extension UUID {
    var lowercased: String { uuidString.lowercased() }
}

extension TenantTransaction {
    /// Tells every replica's sockets about this transaction's change once it commits (the one way
    /// to do so: every write that sockets show calls it next to its event).
    func notifyRealtime(_ notice: RealtimeNotice) {
        notices.notify(RealtimeNotice.channel, notice.payload(tenant: tenantID))
    }
}

extension Database {
    /// The same outside a transaction, for what is never stored (typing).
    func notifyRealtime(_ notice: RealtimeNotice, tenant: TenantID) async throws {
        _ = try await rows("SELECT pg_notify(\(RealtimeNotice.channel), \(notice.payload(tenant: tenant)))")
    }
}
