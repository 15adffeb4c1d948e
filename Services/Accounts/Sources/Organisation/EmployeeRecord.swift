import Foundation
import KefuCore
import KefuModels
import PostgresNIO

/// An employee row, as the service works with it.
struct EmployeeRecord: Sendable {
    let id: UUID
    let account: String
    let displayName: String
    let departmentID: UUID?
    let position: String?
    let phone: String?
    let email: String?
    let avatarURL: String?
    let hidePhone: Bool
    let status: String
    let passwordHash: String
    let createdAt: Date
    let updatedAt: Date

    static let columns = """
        id, account, display_name, department_id, position, phone, email, avatar_url, hide_phone, status,
        password_hash, created_at, updated_at
        """

    static func decode(_ rows: PostgresRowSequence) async throws -> [EmployeeRecord] {
        var records: [EmployeeRecord] = []
        for try await row in rows {
            var cells = row.makeIterator()
            records.append(try decode(&cells))
        }
        return records
    }

    /// The next 13 cells, in `columns` order (a query may select more after them).
    static func decode(_ cells: inout PostgresRow.Iterator) throws -> EmployeeRecord {
        func next<T: PostgresDecodable>(_: T.Type) throws -> T {
            try cells.next()!.decode(T.self, context: .default)
        }
        return EmployeeRecord(
            id: try next(UUID.self), account: try next(String.self), displayName: try next(String.self),
            departmentID: try next(UUID?.self), position: try next(String?.self), phone: try next(String?.self),
            email: try next(String?.self), avatarURL: try next(String?.self), hidePhone: try next(Bool.self),
            status: try next(String.self), passwordHash: try next(String.self), createdAt: try next(Date.self),
            updatedAt: try next(Date.self)
        )
    }
}

/// What an employee may do: the union over their roles.
struct EffectiveAccess: Sendable {
    var roleIDs: [UUID]
    var permissions: Set<Permission>
    var scopes: DataScopes
    var isSuperAdmin: Bool

    var needsSecondFactor: Bool { permissions.contains { $0.isSensitive } }
}

extension TenantTransaction {
    func employee(id: UUID, includingDeleted: Bool = false) async throws -> EmployeeRecord? {
        try await EmployeeRecord.decode(query("""
            SELECT \(unescaped: EmployeeRecord.columns) FROM accounts.employees
            WHERE id = \(id) AND (\(includingDeleted) OR status <> 'deleted')
            """)).first
    }

    func employee(account: String) async throws -> EmployeeRecord? {
        try await EmployeeRecord.decode(query("""
            SELECT \(unescaped: EmployeeRecord.columns) FROM accounts.employees
            WHERE lower(account) = lower(\(account)) AND status <> 'deleted'
            """)).first
    }

    func effectiveAccess(employee: UUID) async throws -> EffectiveAccess {
        let rows = try await query("""
            SELECT r.id, r.kind, r.permissions, r.customer_scopes, r.organisation_scope
            FROM accounts.employee_roles er JOIN accounts.roles r ON r.tenant_id = er.tenant_id AND r.id = er.role_id
            WHERE er.employee_id = \(employee) ORDER BY r.created_at
            """)
        var access = EffectiveAccess(roleIDs: [], permissions: [], scopes: DataScopes(customers: [], organisation: .myDepartment), isSuperAdmin: false)
        for try await (id, kind, permissions, customerScopes, organisationScope) in rows.decode((UUID, String, [String], [String], String).self) {
            access.roleIDs.append(id)
            access.isSuperAdmin = access.isSuperAdmin || kind == "super_admin"
            access.permissions.formUnion(permissions.map(Permission.init(rawValue:)))
            access.scopes = access.scopes.union(DataScopes(
                customers: Set(customerScopes.compactMap(CustomerDataScope.init(rawValue:))),
                organisation: OrganisationDataScope(rawValue: organisationScope) ?? .myDepartment
            ))
        }
        return access
    }

    /// Seats in use: employees that are not disabled or deleted. `locking`: holds the tenant row
    /// until the transaction ends, so concurrent enables and creates count one after another
    /// instead of all seeing the same free seat.
    func seatsUsed(locking: Bool = false) async throws -> (used: Int, limit: Int) {
        if locking { try await query("SELECT 1 FROM accounts.tenants FOR UPDATE") }
        let rows = try await query("""
            SELECT (SELECT count(*)::int FROM accounts.employees WHERE status = 'active'), seat_limit FROM accounts.tenants
            """)
        for try await (used, limit) in rows.decode((Int, Int).self) { return (used, limit) }
        throw Problem.notFound("tenant")
    }

    /// 409 when one more active employee would exceed the plan ("0 accounts left").
    func requireFreeSeat(count: Int = 1) async throws {
        let (used, limit) = try await seatsUsed(locking: true)
        guard used + count <= limit else {
            throw Problem.conflict(code: "seat_limit_reached", detail: "The plan allows \(limit) active employees and \(used) are active: 0 accounts left.")
        }
    }
}
