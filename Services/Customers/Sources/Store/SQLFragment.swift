import PostgresNIO

/// A query grown piece by piece, every value bound as a parameter (`$n`) and never written into
/// the text: views compile their conditions with it. It continues a query begun with Postgres
/// string interpolation, so both ways of binding share one numbering.
struct SQLFragment {
    var query: PostgresQuery

    init(_ query: PostgresQuery = "TRUE") { self.query = query }

    /// SQL text the compiler wrote itself (never a caller's value).
    mutating func sql(_ text: String) { query.sql += text }

    mutating func bind<Value: PostgresThrowingDynamicTypeEncodable>(_ value: Value) throws {
        try query.binds.append(value)
        query.sql += "$\(query.binds.count)"
    }
}
