import Foundation
import PostgresNIO

/// The statements every request runs (transaction control, the tenant setting, the outbox
/// insert), prepared once per connection: no parse or plan on either side after the first use.
enum CoreStatements {
    struct Begin: PostgresPreparedStatement {
        static let name = "kefu_begin"
        static let sql = "BEGIN"
        typealias Row = ()
        func makeBindings() throws -> PostgresBindings { PostgresBindings() }
        func decodeRow(_ row: PostgresRow) throws -> Row {}
    }

    struct Commit: PostgresPreparedStatement {
        static let name = "kefu_commit"
        static let sql = "COMMIT"
        typealias Row = ()
        func makeBindings() throws -> PostgresBindings { PostgresBindings() }
        func decodeRow(_ row: PostgresRow) throws -> Row {}
    }

    struct SetTenant: PostgresPreparedStatement {
        static let name = "kefu_set_tenant"
        static let sql = "SELECT set_config('kefu.tenant_id', $1, true)"
        typealias Row = String
        let tenant: String
        func makeBindings() throws -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 1)
            bindings.append(tenant)
            return bindings
        }
        func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(String.self) }
    }

    /// The wake-ups of a committed transaction (`CommitNotices`), one per (channel, payload).
    struct Notify: PostgresPreparedStatement {
        static let name = "kefu_notify"
        static let sql = "SELECT count(pg_notify(n.channel, n.payload)) FROM unnest($1::text[], $2::text[]) AS n(channel, payload)"
        typealias Row = Int64
        let channels: [String]
        let payloads: [String]
        func makeBindings() throws -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 2)
            bindings.append(channels)
            bindings.append(payloads)
            return bindings
        }
        func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Int64.self) }
    }

    struct InsertEvent: PostgresPreparedStatement {
        static let name = "kefu_insert_event"
        static let sql = "INSERT INTO kefu.events (tenant_id, type, payload) VALUES ($1, $2, $3::jsonb) RETURNING id"
        typealias Row = Int64
        let tenant: UUID
        let type: String
        let payload: String
        func makeBindings() throws -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 3)
            bindings.append(tenant)
            bindings.append(type)
            bindings.append(payload)
            return bindings
        }
        func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Int64.self) }
    }
}
