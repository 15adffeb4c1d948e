import Foundation
import Hummingbird
import KefuCore
import KefuModels
import PostgresNIO

struct MessageView: ResponseEncodable, Codable, Sendable {
    @LowercaseUUID var id: UUID
    @LowercaseUUID var conversationId: UUID
    /// Gap-free per conversation, from 1: a client that has N asks for `after_seq=N`.
    let seq: Int64
    let sender: MessageSender
    let senderId: EmployeeID?
    let clientMessageId: String?
    let body: MessageBody
    let automatic: Bool
    let createdAt: Date
}

struct NewMessage: Sendable {
    let sender: MessageSender
    let senderID: UUID?
    let clientMessageID: String?
    let body: MessageBody
    var automatic = false
}

extension MessageBody {
    /// Checks exactly the fields of the type (422 naming `body.<field>`).
    func validated(field: String = "body") throws -> MessageBody {
        var v = Validation()
        switch type {
        case .text:
            _ = v.text(text, "\(field).text", length: 1...5000)
        case .image, .file:
            v.url(url, "\(field).url")
            if type == .file {
                _ = v.text(name, "\(field).name", length: 1...255)
                if let size { v.check(size >= 0 && size <= 1 << 40, "\(field).size", "must be a byte count") }
            }
        case .rich:
            // Clients send a material by reference; articles come only from reception's pushes.
            if materialId == nil { v.add("\(field).material_id", "is required for a rich message", code: "required") }
            if articles != nil { v.add("\(field).articles", "send a material_id instead", code: "not_allowed") }
        }
        try v.throwIfInvalid()
        return self
    }
}

extension TenantTransaction {
    /// Stores a message with the next `seq` of its conversation and publishes it. The
    /// conversation row is locked first, so messages of one conversation are numbered one after
    /// another, and a retry with the same `client_message_id` (serialised behind the first)
    /// finds the stored message and returns it instead: `(message, false)`. `visitor`: only
    /// into that visitor's own conversation (else 404).
    ///
    /// The hot path of the product, so it is few round trips, each a prepared statement
    /// (`MessageStatements`): the lock (which also checks the owner), then one statement that
    /// numbers and stores the message and pushes the conversation's timeout back, then the outbox
    /// row; the realtime notice follows the commit.
    /// A retry finding its message stored announces it again: if the first attempt's writer died
    /// between its commit and its notice, the sockets hear of the message now.
    func append(_ message: NewMessage, to conversation: UUID, visitor: UUID? = nil) async throws -> (MessageView, created: Bool) {
        var status: String?
        for try await found in try await connection.execute(MessageStatements.Lock(conversation: conversation, visitor: visitor), logger: logger) {
            status = found
        }
        guard let status else { throw Problem.notFound("conversation") }
        if let client = message.clientMessageID, let existing = try await messages(
            where: "conversation_id = \(conversation) AND sender = \(message.sender.rawValue) AND client_message_id = \(client)"
        ).first {
            notifyRealtime(.message(conversation: conversation, seq: existing.seq))
            return (existing, false)
        }
        guard status != ConversationStatus.ended.rawValue else {
            throw Problem.conflict(code: "conversation_ended", detail: "This conversation has ended; start a new one.")
        }
        let id = UUID()
        let body = String(decoding: try KefuJSON.encoder().encode(message.body), as: UTF8.self)
        var stored: (Int64, Date)?
        for try await row in try await connection.execute(MessageStatements.Store(
            tenant: tenantID.uuid, conversation: conversation, id: id, sender: message.sender.rawValue, senderID: message.senderID,
            clientMessageID: message.clientMessageID, body: body, automatic: message.automatic
        ), logger: logger) {
            stored = row
        }
        guard let (seq, createdAt) = stored else { throw Problem.notFound("conversation") }
        let view = MessageView(
            id: id, conversationId: conversation, seq: seq, sender: message.sender, senderId: message.senderID.map(EmployeeID.init),
            clientMessageId: message.clientMessageID, body: message.body, automatic: message.automatic, createdAt: createdAt
        )
        notifyRealtime(.message(view))
        try await publish(MessageCreated(
            conversationId: ConversationID(conversation), messageId: id, seq: seq, sender: message.sender,
            senderId: view.senderId, body: message.body, automatic: message.automatic, createdAt: createdAt
        ))
        return (view, true)
    }

    func messages(where filter: PostgresQuery, limit: Int = 1) async throws -> [MessageView] {
        var query = PostgresQuery(unsafeSQL: "SELECT \(MessageView.columns) FROM routing.messages WHERE")
        query.sql += " " + filter.sql + " ORDER BY seq LIMIT \(limit)"
        query.binds = filter.binds
        var views: [MessageView] = []
        for try await row in try await self.query(query) { views.append(try MessageView(row)) }
        return views
    }

    /// A conversation's messages after `seq`, in order (what sockets and pages read, prepared).
    func messages(in conversation: UUID, after seq: Int64, limit: Int) async throws -> [MessageView] {
        var views: [MessageView] = []
        for try await view in try await connection.execute(MessageStatements.After(conversation: conversation, after: seq, limit: limit), logger: logger) {
            views.append(view)
        }
        return views
    }
}

extension MessageView {
    /// The columns `init(_ row:)` decodes, in its order.
    static let columns = "id, conversation_id, seq, sender, sender_id, client_message_id, body::text, automatic, created_at"

    init(_ row: PostgresRow) throws {
        let (id, conversation, seq, sender, senderID, client, body, automatic, createdAt) =
            try row.decode((UUID, UUID, Int64, String, UUID?, String?, String, Bool, Date).self)
        self.init(
            id: id, conversationId: conversation, seq: seq, sender: MessageSender(rawValue: sender) ?? .system,
            senderId: senderID.map(EmployeeID.init), clientMessageId: client,
            body: try KefuJSON.decoder().decode(MessageBody.self, from: Data(body.utf8)), automatic: automatic, createdAt: createdAt
        )
    }
}
