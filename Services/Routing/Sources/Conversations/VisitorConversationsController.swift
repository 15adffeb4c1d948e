import Foundation
import Hummingbird
import KefuCore
import KefuModels

/// `/v1/visitor/conversations…`: what a visitor does with their own conversations (and nobody
/// else's: every query is by the visitor of the token).
struct VisitorConversationsController {
    let routing: Routing

    static let paths = [
        "/v1/visitor/conversations", "/v1/visitor/conversations/{id}", "/v1/visitor/conversations/{id}/messages",
        "/v1/visitor/conversations/{id}/end",
    ]

    func addRoutes(to router: Router<KefuRequestContext>) {
        router.post("/v1/visitor/conversations", use: start)
        router.get("/v1/visitor/conversations/{id}", use: show)
        router.get("/v1/visitor/conversations/{id}/messages", use: messages)
        router.post("/v1/visitor/conversations/{id}/messages", use: send)
        router.post("/v1/visitor/conversations/{id}/end", use: end)
        PublicCORS.allowPreflight(router, paths: Self.paths)
    }

    struct StartRequest: Decodable {
        /// Self-service widgets: the navigation choice.
        let groupId: UUID?
    }

    /// Starts a conversation, or answers the visitor's live one (200) so a double click or a
    /// second tab never makes two.
    @Sendable func start(request: Request, context: KefuRequestContext) async throws -> Response {
        let visitor = try routing.visitorTokens.require(context)
        let body = try await request.decode(as: StartRequest.self, context: context)
        let (view, created): (ConversationView, Bool)
        do {
            (view, created) = try await start(visitor, choice: body.groupId, snapshot: try await routing.reception.snapshot(for: visitor.tid))
        } catch is WidgetNotInSnapshot {
            // The visitor began on a replica that had already read a widget made a moment ago;
            // this one had not heard of it yet: reception's current configuration has it.
            do {
                (view, created) = try await start(visitor, choice: body.groupId, snapshot: try await routing.reception.freshSnapshot(for: visitor.tid))
            } catch is WidgetNotInSnapshot {
                throw Problem.notFound("widget")
            }
        }
        var response = try EditedResponse(status: created ? .created : .ok, response: view).response(from: request, context: context)
        PublicCORS.allowAnyOrigin(&response)
        return response
    }

    private struct WidgetNotInSnapshot: Error {}

    private func start(_ visitor: VisitorTokens.Claims, choice: UUID?, snapshot: ReceptionSnapshot) async throws -> (ConversationView, Bool) {
        try await routing.database.withTenant(visitor.tid) { tx -> (ConversationView, Bool) in
            let known = try await tx.query("""
                SELECT v.widget_id, v.attributes::text, v.visit_count, o.owner_id
                FROM routing.visitors v LEFT JOIN routing.customer_owners o ON o.tenant_id = v.tenant_id AND o.visitor_id = v.id
                WHERE v.id = \(visitor.vid.uuid)
                """).collect().first.map { try $0.decode((UUID, String, Int, UUID?).self) }
            guard let (widgetID, attributes, visits, owner) = known else { throw Problem.unauthorized("This visitor is unknown; start again.") }
            if let live = try await tx.conversations(where: "c.visitor_id = \(visitor.vid.uuid) AND c.status <> 'ended'", withTrace: false).first {
                return (live, false)
            }
            guard let widget = snapshot.widgets.first(where: { $0.id == widgetID }) else { throw WidgetNotInSnapshot() }
            let start = ConversationStart(snapshot: snapshot, widget: widget)
            let arrival = ConversationStart.Visitor(
                attributes: try KefuJSON.decoder().decode(VisitorAttributes.self, from: Data(attributes.utf8)),
                visitCount: visits, owner: owner
            )
            return (try await tx.openConversation(visitor: visitor.vid, start: start, arrival: arrival, choice: choice), true)
        }
    }

    /// The visitor's own conversation, else 404.
    func own(_ id: UUID, _ visitor: VisitorTokens.Claims, _ tx: TenantTransaction) async throws -> ConversationView {
        guard let view = try await tx.conversations(where: "c.id = \(id) AND c.visitor_id = \(visitor.vid.uuid)", withTrace: false).first else {
            throw Problem.notFound("conversation")
        }
        return view
    }

    @Sendable func show(request: Request, context: KefuRequestContext) async throws -> Response {
        let visitor = try routing.visitorTokens.require(context)
        let id = try context.parameters.uuid(what: "conversation")
        let view = try await routing.database.withTenant(visitor.tid) { try await own(id, visitor, $0) }
        var response = try view.response(from: request, context: context)
        PublicCORS.allowAnyOrigin(&response)
        return response
    }

    @Sendable func messages(request: Request, context: KefuRequestContext) async throws -> Response {
        let visitor = try routing.visitorTokens.require(context)
        let id = try context.parameters.uuid(what: "conversation")
        let (after, limit) = try MessagePage.parse(request)
        let page = try await routing.database.withTenant(visitor.tid) { tx in
            _ = try await own(id, visitor, tx)
            return try await MessagePage.read(id, after: after, limit: limit, in: tx)
        }
        var response = try page.response(from: request, context: context)
        PublicCORS.allowAnyOrigin(&response)
        return response
    }

    struct SendRequest: Decodable {
        let clientMessageId: String?
        let body: MessageBody
    }

    @Sendable func send(request: Request, context: KefuRequestContext) async throws -> Response {
        let visitor = try routing.visitorTokens.require(context)
        let id = try context.parameters.uuid(what: "conversation")
        let input = try await request.decode(as: SendRequest.self, context: context)
        let message = NewMessage(
            sender: .visitor, senderID: nil, clientMessageID: try MessagePage.clientID(input.clientMessageId), body: try input.body.validated()
        )
        let (view, created) = try await routing.database.withTenant(visitor.tid) { tx in
            try await tx.append(message, to: id, visitor: visitor.vid.uuid)
        }
        var response = try EditedResponse(status: created ? .created : .ok, response: view).response(from: request, context: context)
        PublicCORS.allowAnyOrigin(&response)
        return response
    }

    @Sendable func end(request: Request, context: KefuRequestContext) async throws -> Response {
        let visitor = try routing.visitorTokens.require(context)
        let id = try context.parameters.uuid(what: "conversation")
        let snapshot = try await routing.reception.snapshot(for: visitor.tid)
        let view = try await routing.database.withTenant(visitor.tid) { tx in
            _ = try await own(id, visitor, tx)
            try await ConversationPlacer(snapshot: snapshot).end(id, reason: .visitor, by: nil, in: tx)
            return try await own(id, visitor, tx)
        }
        var response = try view.response(from: request, context: context)
        PublicCORS.allowAnyOrigin(&response)
        return response
    }
}

/// `?after_seq=N&limit=L`: messages in order after the one the client has.
struct MessagePage: ResponseEncodable, Sendable {
    let data: [MessageView]
    /// Pass as `after_seq` for the next page; nil when this page reached the end.
    let nextAfterSeq: Int64?

    static func parse(_ request: Request) throws -> (Int64, Int) {
        let query = request.uri.queryParameters
        let after = try query["after_seq"].map { raw -> Int64 in
            guard let value = Int64(String(raw)), value >= 0 else { throw Problem.invalid("after_seq", "must be a sequence number (0 or more)") }
            return value
        } ?? 0
        let limit = try query["limit"].map { raw -> Int in
            guard let value = Int(String(raw)), (1...500).contains(value) else { throw Problem.invalid("limit", "must be 1 to 500") }
            return value
        } ?? 100
        return (after, limit)
    }

    static func read(_ conversation: UUID, after: Int64, limit: Int, in tx: TenantTransaction) async throws -> MessagePage {
        let rows = try await tx.messages(in: conversation, after: after, limit: limit + 1)
        return MessagePage(data: Array(rows.prefix(limit)), nextAfterSeq: rows.count > limit ? rows[limit - 1].seq : nil)
    }

    /// A client's own message id: 1 to 64 visible characters.
    static func clientID(_ raw: String?) throws -> String? {
        guard let raw else { return nil }
        guard (1...64).contains(raw.utf8.count), raw.unicodeScalars.allSatisfy({ $0.value >= 0x21 && $0.value <= 0x7E }) else {
            throw Problem.invalid("client_message_id", "must be 1 to 64 visible ASCII characters (a UUID is a good choice)")
        }
        return raw
    }
}
