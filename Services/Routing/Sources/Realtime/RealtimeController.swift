import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdWebSocket
import KefuCore
import KefuModels
import Logging

/// `GET /v1/socket` (employees) and `GET /v1/visitor/socket` (visitors): the realtime sockets.
/// A client connects, sends `resume` with the last `seq` it has per conversation (`{}` when it
/// has nothing) — or says it on connect, `?cursors=<id>:<seq>,…` — gets what it missed from the
/// database, then live frames; `typing`, `watch` (supervisors) and `ping` go the other way. The HTTP routes answer requests that did not ask
/// for an upgrade (401 with bad credentials, else 426).
struct RealtimeController {
    let routing: Routing

    var credentials: SocketCredentials { SocketCredentials(resources: routing.resources, visitorTokens: routing.visitorTokens) }
    var hub: SocketHub { routing.sockets }

    func addRoutes(to router: Router<KefuRequestContext>) {
        for path in [SocketCredentials.Path.employee, .visitor] {
            router.get(RouterPath(path.rawValue)) { request, _ -> Response in
                let query = Dictionary(request.uri.queryParameters.map { (String($0.key), String($0.value)) }, uniquingKeysWith: { a, _ in a })
                _ = try await credentials.authenticate(path, query: query, authorization: request.headers[.authorization])
                throw Problem(.upgradeRequired, code: "upgrade_required", detail: "Open this path as a WebSocket.", headers: [.upgrade: "websocket"])
            }
        }
    }

    /// Decides an upgrade before it happens: only the two paths, only with valid credentials
    /// (otherwise the handshake is refused and no socket is opened).
    func shouldUpgrade(_ request: HTTPRequest, logger: Logger) async -> ShouldUpgradeResult<WebSocketDataHandler<HTTP1WebSocketUpgradeChannel.Context>> {
        let (path, query) = SocketCredentials.split(request.path ?? "")
        guard let kind = SocketCredentials.Path(rawValue: path),
              let grant = try? await credentials.authenticate(kind, query: query, authorization: request.headerFields[.authorization])
        else { return .dontUpgrade }
        let (peer, expires) = grant
        let resume = query["cursors"].map(Self.cursors)
        return .upgrade([:], { inbound, outbound, _ in
            try await serve(peer, expires: expires, resume: resume, inbound: inbound, outbound: outbound)
        })
    }

    /// `<id>:<seq>,…` as resume's cursors (a malformed entry becomes a cursor `resume` refuses).
    static func cursors(_ text: String) -> [String: Int64] {
        var cursors: [String: Int64] = [:]
        for entry in text.split(separator: ",") {
            let parts = entry.split(separator: ":", maxSplits: 1)
            cursors[String(parts[0])] = parts.count == 2 ? Int64(parts[1]) ?? -1 : -1
        }
        return cursors
    }

    /// How often an open socket's credential is checked again (in memory: the revocation list).
    static let credentialCheck = Duration.seconds(2)

    func serve(
        _ peer: SocketPeer, expires: Date, resume: [String: Int64]?, inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter
    ) async throws {
        let socket = RealtimeSocket(peer: peer)
        hub.register(socket)
        defer { hub.unregister(socket) }
        socket.send(ControlFrame(type: "ready"))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for await frame in socket.frames { try await outbound.write(.text(frame)) }
            }
            group.addTask {
                if let resume { await apply(ClientFrame(type: "resume", conversationId: nil, cursors: resume), on: socket) }
                for try await message in inbound.messages(maxSize: 1 << 16) {
                    guard case .text(let text) = message else { continue }
                    await receive(text, on: socket)
                }
            }
            // A revoked or expired credential closes the socket (1008); the client signs in again
            // and resumes, losing nothing.
            group.addTask {
                while true {
                    try await Task.sleep(for: Self.credentialCheck)
                    if let reason = credentials.lapsed(peer, expires: expires) {
                        try await outbound.close(.policyViolation, reason: reason)
                        return
                    }
                }
            }
            try await group.next()
            group.cancelAll()
        }
    }

    // MARK: Client frames

    struct ClientFrame: Decodable {
        let type: String
        let conversationId: UUID?
        let cursors: [String: Int64]?
    }

    func receive(_ text: String, on socket: RealtimeSocket) async {
        guard let frame = try? KefuJSON.decoder().decode(ClientFrame.self, from: Data(text.utf8)) else {
            return socket.send(ControlFrame(type: "error", code: "invalid_frame", detail: "Send a JSON object with a type."))
        }
        await apply(frame, on: socket)
    }

    /// Runs one client frame; what goes wrong is an `error` frame, the socket stays open.
    func apply(_ frame: ClientFrame, on socket: RealtimeSocket) async {
        do {
            switch frame.type {
            case "resume": try await resume(frame.cursors ?? [:], on: socket)
            case "typing":
                let id = try conversation(frame)
                guard socket.delivered(id) != nil else { throw Problem.notFound("conversation") }
                guard socket.mayType(in: id) else { return }
                try await routing.database.notifyRealtime(.typing(conversation: id, from: socket.peer.side), tenant: socket.peer.tenant)
            case "watch":
                guard case .employee(let principal, _) = socket.peer, principal.has(.analyticsMonitoring) else {
                    throw Problem.forbidden(missing: Permission.analyticsMonitoring.rawValue)
                }
                let view = try await visible(try conversation(frame), to: socket)
                try await hub.follow(socket, view.id, after: view.lastSeq, explicit: true)
                socket.send(ConversationFrame(type: "conversation.state", conversationId: view.id, conversation: view))
            case "unwatch": hub.unfollow(socket, try conversation(frame))
            case "ping": socket.send(ControlFrame(type: "pong"))
            default: throw Problem.badRequest(code: "invalid_frame", detail: "Unknown frame type \(frame.type).")
            }
        } catch let problem as Problem {
            socket.send(ControlFrame(type: "error", code: problem.code, detail: problem.detail))
        } catch {
            routing.logger.warning("socket frame failed", metadata: ["error": "\(String(reflecting: error))"])
            socket.send(ControlFrame(type: "error", code: "internal", detail: "Try again."))
        }
    }

    private func conversation(_ frame: ClientFrame) throws -> UUID {
        guard let id = frame.conversationId else { throw Problem.invalid("conversation_id", "is required") }
        return id
    }

    /// Each named conversation from after its cursor (its backlog from the database, then its
    /// current state), then the peer's live ones it did not name from now on; `resumed` says
    /// where each stands.
    func resume(_ cursors: [String: Int64], on socket: RealtimeSocket) async throws {
        for (key, seq) in cursors.sorted(by: { $0.key < $1.key }) {
            guard let id = UUID(uuidString: key), seq >= 0 else { throw Problem.invalid("cursors", "maps conversation ids to a seq ≥ 0") }
            let view = try await visible(id, to: socket)
            try await hub.follow(socket, id, after: seq, explicit: true)
            socket.send(ConversationFrame(type: "conversation.state", conversationId: id, conversation: view))
        }
        try await followLive(socket, fromStart: false)
        let positions = Dictionary(socket.followed.compactMap { id in socket.delivered(id).map { (id.lowercased, $0) } }, uniquingKeysWith: max)
        socket.send(ControlFrame(type: "resumed", conversations: positions))
    }

    /// The peer's live conversations that `socket` does not follow yet: an agent's open ones, a
    /// visitor's not ended. From now on, or (after a resync: gained while notices were missed)
    /// from their first message.
    func followLive(_ socket: RealtimeSocket, fromStart: Bool) async throws {
        let views = try await routing.database.withTenant(socket.peer.tenant) { tx in
            switch socket.peer {
            case .employee(_, let me):
                return try await tx.conversations(where: "c.agent_id = \(me.uuid) AND c.status = 'open'", limit: 200, withTrace: false)
            case .visitor(_, let me):
                return try await tx.conversations(where: "c.visitor_id = \(me.uuid) AND c.status <> 'ended'", limit: 200, withTrace: false)
            }
        }
        for view in views where socket.delivered(view.id) == nil {
            socket.send(ConversationFrame(type: "conversation.state", conversationId: view.id, conversation: view))
            try await hub.follow(socket, view.id, after: fromStart ? 0 : view.lastSeq)
        }
    }

    /// The conversation if the socket's peer may see it (employees as on the workbench routes,
    /// visitors only their own), else 404.
    func visible(_ id: UUID, to socket: RealtimeSocket) async throws -> ConversationView {
        try await routing.database.withTenant(socket.peer.tenant) { tx in
            switch socket.peer {
            case .employee(let principal, _):
                return try await ConversationsController(routing: routing).visible(id, principal: principal, tx: tx, withTrace: false)
            case .visitor(_, let me):
                guard let view = try await tx.conversation(id, withTrace: false), view.visitorId == me else { throw Problem.notFound("conversation") }
                return view
            }
        }
    }
}
