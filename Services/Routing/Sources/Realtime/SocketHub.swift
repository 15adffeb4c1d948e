import Foundation
import KefuCore
import KefuModels
import Logging
import PostgresNIO
import Synchronization

/// The sockets this replica holds and how changes reach them. A notice (`RealtimeNotice`, from any
/// replica's commit) wakes the conversation's pump, which reads what changed from the database
/// and offers it to the sockets following that conversation (a new message's notice may carry
/// the message itself: `RealtimeNotice`). One pump runs per conversation at a
/// time (later notices coalesce into its next round), so messages leave before the change that
/// followed them (an end after the last message).
final class SocketHub: Sendable {
    struct Key: Hashable, Sendable {
        let tenant: TenantID
        let id: UUID
    }

    /// What a pump still has to do for one key.
    struct Work: Sendable {
        var messages = false
        var changes: [String] = []
        var agentState = false
        var isEmpty: Bool { !messages && changes.isEmpty && !agentState }
    }

    struct Index {
        var sockets: [UUID: RealtimeSocket] = [:]
        var byConversation: [Key: Set<UUID>] = [:]
        var byAgent: [Key: Set<UUID>] = [:]
        var byVisitor: [Key: Set<UUID>] = [:]
        var perTenant: [TenantID: Int] = [:]
        var pending: [Key: Work] = [:]
        var running: Set<Key> = []
    }

    /// An agent's socket count on this replica changed (`Presence` follows it).
    struct AgentSockets: Sendable {
        let tenant: TenantID
        let agent: EmployeeID
        let open: Int
    }

    static let batch = 500

    let database: Database
    let logger: Logger
    private let index = Mutex(Index())
    private let observers = Mutex<[@Sendable (AgentSockets) -> Void]>([])

    init(database: Database, logger: Logger) {
        self.database = database
        self.logger = logger
    }

    // MARK: Sockets

    func register(_ socket: RealtimeSocket) {
        let tenant = socket.peer.tenant
        let change: AgentSockets? = index.withLock { index in
            index.sockets[socket.id] = socket
            index.perTenant[tenant, default: 0] += 1
            if let visitor = socket.visitorID { index.byVisitor[Key(tenant: tenant, id: visitor), default: []].insert(socket.id) }
            guard let agent = socket.employeeID else { return nil }
            let key = Key(tenant: tenant, id: agent)
            index.byAgent[key, default: []].insert(socket.id)
            return AgentSockets(tenant: tenant, agent: EmployeeID(agent), open: index.byAgent[key]!.count)
        }
        if let change { announce(change) }
    }

    func unregister(_ socket: RealtimeSocket) {
        socket.finish()
        let tenant = socket.peer.tenant
        let change: AgentSockets? = index.withLock { index in
            index.sockets[socket.id] = nil
            index.perTenant[tenant, default: 1] -= 1
            if index.perTenant[tenant] == 0 { index.perTenant[tenant] = nil }
            for conversation in socket.followed { Self.remove(socket.id, from: &index.byConversation, Key(tenant: tenant, id: conversation)) }
            if let visitor = socket.visitorID { Self.remove(socket.id, from: &index.byVisitor, Key(tenant: tenant, id: visitor)) }
            guard let agent = socket.employeeID else { return nil }
            let key = Key(tenant: tenant, id: agent)
            Self.remove(socket.id, from: &index.byAgent, key)
            let open = index.byAgent[key]?.count ?? 0
            return AgentSockets(tenant: tenant, agent: EmployeeID(agent), open: open)
        }
        if let change { announce(change) }
    }

    /// Calls `observer` whenever an agent's socket count on this replica changes.
    func observeAgentSockets(_ observer: @escaping @Sendable (AgentSockets) -> Void) {
        observers.withLock { $0.append(observer) }
    }

    /// The tenants whose agents have sockets here (the presence heartbeat refreshes their rows).
    func tenantsWithAgents() -> Set<TenantID> {
        index.withLock { Set($0.byAgent.filter { !$0.value.isEmpty }.keys.map(\.tenant)) }
    }

    private func announce(_ change: AgentSockets) {
        for observer in observers.withLock({ $0 }) { observer(change) }
    }

    /// `socket` follows `conversation` after `seq` and is brought up to date from the database
    /// (anything committed meanwhile is read there, so following never opens a gap).
    func follow(_ socket: RealtimeSocket, _ conversation: UUID, after seq: Int64, explicit: Bool = false) async throws {
        let key = Key(tenant: socket.peer.tenant, id: conversation)
        socket.follow(conversation, after: seq, explicit: explicit)
        // Not for a socket that closed meanwhile: its id would linger in the index.
        guard index.withLock({ index in
            guard index.sockets[socket.id] != nil else { return false }
            index.byConversation[key, default: []].insert(socket.id)
            return true
        }) else { return }
        try await sync(key, sockets: [socket])
    }

    func unfollow(_ socket: RealtimeSocket, _ conversation: UUID) {
        socket.unfollow(conversation)
        index.withLock { Self.remove(socket.id, from: &$0.byConversation, Key(tenant: socket.peer.tenant, id: conversation)) }
    }

    private static func remove(_ socket: UUID, from map: inout [Key: Set<UUID>], _ key: Key) {
        map[key]?.remove(socket)
        if map[key]?.isEmpty == true { map[key] = nil }
    }

    private func sockets(_ ids: Set<UUID>?) -> [RealtimeSocket] {
        guard let ids else { return [] }
        return index.withLock { index in ids.compactMap { index.sockets[$0] } }
    }

    private func followers(_ key: Key) -> [RealtimeSocket] { sockets(index.withLock { $0.byConversation[key] }) }

    // MARK: Notices

    func handle(payload: String) {
        guard let (tenant, notice) = RealtimeNotice.parse(payload) else {
            logger.debug("ignored realtime notice", metadata: ["payload": "\(payload)"])
            return
        }
        switch notice {
        case .message(let conversation, let seq, let frame):
            let key = Key(tenant: tenant, id: conversation)
            // Sockets that already have it (the common case after a burst was read at once) need no read.
            let behind = followers(key).filter { ($0.delivered(conversation) ?? seq) < seq }
            guard !behind.isEmpty else { return }
            // The frame goes to each socket whose next seq it is; one that is further behind (a
            // notice overtaken by this one) reads the record, which also sends this message.
            var gap = frame == nil
            if let frame {
                for socket in behind where socket.offer(seq: seq, in: conversation, frame: frame) == .gap { gap = true }
            }
            if gap { wake(key) { $0.messages = true } }
        case .conversation(let conversation, let change):
            // A change may concern sockets that do not follow it yet (a visitor's new conversation,
            // an agent's new assignment): whenever the tenant has sockets here, it is read.
            guard index.withLock({ $0.perTenant[tenant] != nil }) else { return }
            wake(Key(tenant: tenant, id: conversation)) { $0.changes.append("conversation.\(change.rawValue)") }
        case .typing(let conversation, let side):
            let frame = TypingFrame(conversationId: conversation, from: side.rawValue)
            for socket in followers(Key(tenant: tenant, id: conversation)) where socket.peer.side != side { socket.send(frame) }
        case .agentState(let agent):
            let key = Key(tenant: tenant, id: agent)
            guard index.withLock({ $0.byAgent[key] != nil }) else { return }
            wake(key) { $0.agentState = true }
        }
    }

    /// After the LISTEN connection came back (notices may have been missed): every socket is
    /// brought up to date from the database, and learns of conversations it gained meanwhile.
    func resyncAll(discover: @escaping @Sendable (RealtimeSocket) async throws -> Void) async {
        let (conversations, agents, all) = index.withLock { (Array($0.byConversation.keys), Array($0.byAgent.keys), Array($0.sockets.values)) }
        for key in conversations { wake(key) { $0.messages = true; $0.changes.append("conversation.state") } }
        for key in agents { wake(key) { $0.agentState = true } }
        for socket in all {
            do { try await discover(socket) } catch { logger.warning("socket resync failed", metadata: ["error": "\(error)"]) }
        }
    }

    // MARK: Pumps

    private func wake(_ key: Key, _ add: (inout Work) -> Void) {
        let start = index.withLock { index -> Bool in
            add(&index.pending[key, default: Work()])
            return index.running.insert(key).inserted
        }
        guard start else { return }
        Task { await pump(key) }
    }

    private func pump(_ key: Key) async {
        while let work = index.withLock({ index -> Work? in
            guard let work = index.pending.removeValue(forKey: key), !work.isEmpty else {
                index.running.remove(key)
                return nil
            }
            return work
        }) {
            do {
                if work.messages { try await sync(key, sockets: followers(key)) }
                for change in work.changes { try await push(change, key) }
                if work.agentState { try await pushAgentState(key) }
            } catch {
                // The notice's work is lost for now; the next notice or resync reads from the record again.
                logger.warning("realtime push failed", metadata: ["key": "\(key.id)", "error": "\(String(reflecting: error))"])
            }
        }
    }

    /// Offers every message after the lowest `seq` the sockets have, in order, read in batches.
    private func sync(_ key: Key, sockets: [RealtimeSocket]) async throws {
        let following = sockets.compactMap { socket in socket.delivered(key.id).map { (socket, $0) } }
        guard var after = following.map(\.1).min() else { return }
        while true {
            let messages = try await database.withTenant(key.tenant) { [after] tx in
                try await tx.messages(in: key.id, after: after, limit: Self.batch)
            }
            for message in messages {
                let frame = String(decoding: try KefuJSON.encoder().encode(MessageFrame(conversationId: key.id, message: message)), as: UTF8.self)
                for (socket, _) in following { _ = socket.offer(seq: message.seq, in: key.id, frame: frame) }
            }
            guard messages.count == Self.batch, let last = messages.last else { return }
            after = last.seq
        }
    }

    /// Pushes a conversation's current state to whoever should see it: its followers, its visitor's
    /// sockets and, while open, its agent's. Newcomers follow it from its first message; agents
    /// it left stop following unless they asked for it (resume, watch). A change in a group also
    /// moves the positions of those queued behind: their own pumps send them their new state.
    private func push(_ type: String, _ key: Key) async throws {
        guard let view = try await database.withTenant(key.tenant, { try await $0.conversation(key.id, withTrace: false) }) else { return }
        if type == Self.position {
            // A refresh for a queued conversation; once it has left the queue, its own change said so.
            guard view.status == .queued else { return }
        }
        defer { if type != Self.position, let group = view.groupId { wakeQueued(in: group, tenant: key.tenant, except: key.id) } }
        let holder = view.status == .open ? view.agent?.id.uuid : nil
        let (followerIDs, visitorIDs, agentIDs) = index.withLock { index in
            (index.byConversation[key] ?? [], index.byVisitor[Key(tenant: key.tenant, id: view.visitorId.uuid)] ?? [],
             holder.flatMap { index.byAgent[Key(tenant: key.tenant, id: $0)] } ?? [])
        }
        let frame = ConversationFrame(type: Self.frameType(type, status: view.status), conversationId: key.id, conversation: view)
        var newcomers: [RealtimeSocket] = []
        for socket in sockets(followerIDs.union(visitorIDs).union(agentIDs)) {
            socket.send(frame)
            if !followerIDs.contains(socket.id) { newcomers.append(socket) }
            if let me = socket.employeeID, me != holder, !socket.following.withLock({ $0.explicit.contains(key.id) }) {
                unfollow(socket, key.id)
            }
        }
        for socket in newcomers { try await follow(socket, key.id, after: 0) }
    }

    /// The work item that re-sends a queued conversation's position.
    static let position = "position"

    /// The change's name while the state read still shows it; else (a later change overtook it,
    /// with a notice of its own) just `conversation.state`, so a frame never names a change its
    /// own `conversation` contradicts.
    static func frameType(_ change: String, status: ConversationStatus) -> String {
        switch (change, status) {
        case (Self.position, .queued), ("conversation.queued", .queued): "conversation.queued"
        case ("conversation.assigned", .open), ("conversation.transferred", .open), ("conversation.ended", .ended): change
        default: "conversation.state"
        }
    }

    /// Wakes the followed conversations of this tenant queued in `group` (found in one read).
    private func wakeQueued(in group: UUID, tenant: TenantID, except conversation: UUID) {
        let followed = index.withLock { index in index.byConversation.keys.filter { $0.tenant == tenant && $0.id != conversation }.map(\.id) }
        guard !followed.isEmpty else { return }
        Task {
            do {
                let queued = try await database.withTenant(tenant) { tx in
                    try await tx.query("""
                        SELECT id FROM routing.conversations WHERE status = 'queued' AND group_id = \(group) AND id = ANY(\(followed))
                        """).decode(UUID.self).reduce(into: [UUID]()) { $0.append($1) }
                }
                for id in queued { wake(Key(tenant: tenant, id: id)) { $0.changes.append(Self.position) } }
            } catch {
                logger.warning("queue positions not pushed", metadata: ["error": "\(String(reflecting: error))"])
            }
        }
    }

    private func pushAgentState(_ key: Key) async throws {
        guard let state = try await database.withTenant(key.tenant, { try await $0.agentStates(ids: [key.id], includingInactive: true).first })
        else { return }
        for socket in sockets(index.withLock { $0.byAgent[key] }) { socket.send(AgentStateFrame(agent: state)) }
    }
}
