import Foundation
import PostgresNIO

/// The statements of the product's hot path — storing a message (`TenantTransaction.append`) and
/// reading a conversation's new messages (every socket push, every page) — prepared once per
/// connection: unnamed, Postgres parsed and planned each (the store is a CTE of two updates and
/// an insert) on every message.
enum MessageStatements {
    /// Locks the conversation (messages of one conversation are numbered one after another) and
    /// checks its owner: a visitor writes only into their own conversation.
    struct Lock: PostgresPreparedStatement {
        static let name = "routing_message_lock"
        static let sql = """
            SELECT status FROM routing.conversations WHERE id = $1::uuid AND ($2::uuid IS NULL OR visitor_id = $2::uuid) FOR UPDATE
            """
        typealias Row = String
        let conversation: UUID
        let visitor: UUID?
        func makeBindings() throws -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 2)
            bindings.append(conversation)
            bindings.append(visitor)
            return bindings
        }
        func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(String.self) }
    }

    /// Numbers and stores the message and pushes the conversation's timeout back, in one statement.
    struct Store: PostgresPreparedStatement {
        static let name = "routing_message_store"
        static let sql = """
            WITH seq AS (
                UPDATE routing.conversations SET last_seq = last_seq + 1, last_message_at = now() WHERE id = $2::uuid RETURNING last_seq
            ), timeout AS (
                -- A message arrived: the conversation's timeout starts again.
                UPDATE routing.timers SET due_at = now() + make_interval(secs => (payload->>'seconds')::int)
                WHERE conversation_id = $2::uuid AND kind = 'conversation_timeout'
            )
            INSERT INTO routing.messages (tenant_id, conversation_id, seq, id, sender, sender_id, client_message_id, body, automatic)
            SELECT $1::uuid, $2::uuid, seq.last_seq, $3::uuid, $4::text, $5::uuid, $6::text, $7::text::jsonb, $8::boolean
            FROM seq RETURNING seq, created_at
            """
        typealias Row = (Int64, Date)
        let tenant: UUID
        let conversation: UUID
        let id: UUID
        let sender: String
        let senderID: UUID?
        let clientMessageID: String?
        let body: String
        let automatic: Bool
        func makeBindings() throws -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 8)
            bindings.append(tenant)
            bindings.append(conversation)
            bindings.append(id)
            bindings.append(sender)
            bindings.append(senderID)
            bindings.append(clientMessageID)
            bindings.append(body)
            bindings.append(automatic)
            return bindings
        }
        func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode((Int64, Date).self) }
    }

    /// A conversation's messages after a `seq`, in order.
    struct After: PostgresPreparedStatement {
        static let name = "routing_messages_after"
        static let sql = """
            SELECT \(MessageView.columns) FROM routing.messages WHERE conversation_id = $1::uuid AND seq > $2::bigint ORDER BY seq LIMIT $3::integer
            """
        typealias Row = MessageView
        let conversation: UUID
        let after: Int64
        let limit: Int
        func makeBindings() throws -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 3)
            bindings.append(conversation)
            bindings.append(after)
            bindings.append(Int32(limit))
            return bindings
        }
        func decodeRow(_ row: PostgresRow) throws -> Row { try MessageView(row) }
    }
}
