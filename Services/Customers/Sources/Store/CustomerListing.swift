import Foundation
import KefuCore
import KefuModels
import PostgresNIO

/// How a list of customers is ordered: a time and the id, either way. Keyset cursors compare the
/// pair, so pages stay stable while rows are added or change elsewhere in the order.
struct CustomerSort: Sendable, Equatable {
    enum Key: String, Sendable, CaseIterable {
        case createdAt = "created_at", lastReceptionAt = "last_reception_at", updatedAt = "updated_at"

        /// The indexed column (customers_created, customers_last_reception, customers_updated): a
        /// plain column, so that the cursor's comparison seeks the index under row-level security.
        var expression: String {
            switch self {
            case .createdAt: "c.created_at"
            case .lastReceptionAt: "c.last_reception_key"
            case .updatedAt: "c.updated_at"
            }
        }

        func value(of view: CustomerView) -> Date {
            switch self {
            case .createdAt: view.createdAt
            case .lastReceptionAt: view.lastReceptionAt ?? Date(timeIntervalSince1970: 0)
            case .updatedAt: view.updatedAt
            }
        }
    }

    let key: Key
    let descending: Bool

    static let newest = CustomerSort(key: .createdAt, descending: true)

    /// `created_at`, `-last_reception_at` (a leading minus: newest first) …
    init?(_ text: String) {
        let descending = text.hasPrefix("-")
        guard let key = Key(rawValue: descending ? String(text.dropFirst()) : text) else { return nil }
        self.init(key: key, descending: descending)
    }

    init(key: Key, descending: Bool) {
        self.key = key
        self.descending = descending
    }

    var text: String { (descending ? "-" : "") + key.rawValue }
    var order: String { "\(key.expression) \(descending ? "DESC" : "ASC"), c.id \(descending ? "DESC" : "ASC")" }
    static let allowed = Key.allCases.flatMap { [$0.rawValue, "-" + $0.rawValue] }
}

/// The system views (全部 / 已归属 / 我的 / 公司公海 / 团队公海 / 我的收藏), listed beside custom ones.
enum SystemView: String, Sendable, CaseIterable {
    case all, owned, mine, companyPool = "company_pool", teamPool = "team_pool", favourites

    var name: String {
        switch self {
        case .all: "All customers"
        case .owned: "Owned"
        case .mine: "Owned by me"
        case .companyPool: "Company pool"
        case .teamPool: "Team pool"
        case .favourites: "My favourites"
        }
    }

    func append(to q: inout SQLFragment, employee: EmployeeID?) throws {
        switch self {
        case .all: q.sql("TRUE")
        case .owned: q.sql("c.owner_id IS NOT NULL")
        case .mine:
            // An API key owns nothing.
            guard let employee else { return q.sql("FALSE") }
            q.sql("c.owner_id = "); try q.bind(employee.uuid); q.sql("::uuid")
        case .companyPool: q.sql("(c.owner_id IS NULL AND c.owner_team_id IS NULL)")
        case .teamPool: q.sql("(c.owner_id IS NULL AND c.owner_team_id IS NOT NULL)")
        case .favourites:
            // The caller's own favourites (an API key has none); the data scope still applies.
            guard let employee else { return q.sql("FALSE") }
            q.sql("EXISTS (SELECT 1 FROM customers.favourites f WHERE f.customer_id = c.id AND f.employee_id = "); try q.bind(employee.uuid); q.sql("::uuid)")
        }
    }
}

/// One list or count request: reach, view, search, contacts or customers, and the page position.
struct CustomerListing: Sendable {
    var system: SystemView = .all
    var filter: ViewFilter = .none
    /// A filter applied on top of the view's (a batch's unsaved `matching.filter`).
    var refinement: ViewFilter = .none
    var search: String?
    var entered: Bool?
    var sort: CustomerSort = .newest
    var after: TimeCursor?
    /// `?view_id=` as asked, resolved in the transaction (`resolve`).
    var viewID: String?
    /// An explicit `?sort=` overrides the view's default sort.
    var sortGiven = false

    /// A search matching more customers than this lists (and counts) the first this many found:
    /// a word that common narrows nothing.
    static let maxSearchHits = 10_000

    /// The WHERE clause over `c`: the scope first, every value bound.
    func condition(reach: CustomerReach, employee: EmployeeID?, fields: ViewFields, paging: Bool) throws -> PostgresQuery {
        var q = SQLFragment("\(reach: reach) AND (\(entered)::bool IS NULL OR c.entered = \(entered)) AND ")
        try system.append(to: &q, employee: employee)
        q.sql(" AND ")
        try ViewCompiler(fields: fields).append(filter, to: &q)
        if refinement != .none {
            q.sql(" AND ")
            try ViewCompiler(fields: fields).append(refinement, to: &q)
        }
        if let search {
            // Substring search on name, phones and remark, a tag matched whole: through the door
            // that lets the pg_trgm indexes serve under row-level security (0010_search_door.sql).
            q.sql(" AND c.id IN (SELECT customers.search_ids("); try q.bind("%" + ViewCompiler.escapeLike(search) + "%")
            q.sql(", "); try q.bind(search); q.sql(", "); try q.bind(Self.maxSearchHits); q.sql("::integer))")
        }
        if paging, let after {
            q.sql(" AND (\(sort.key.expression), c.id) \(sort.descending ? "<" : ">") ('epoch'::timestamptz + ")
            try q.bind(after.at); q.sql(" * interval '1 microsecond', "); try q.bind(after.id); q.sql("::uuid)")
        }
        return q.query
    }
}
