import Foundation
import KefuCore
import KefuModels
import PostgresNIO

/// Which customers a caller's data scopes reach (数据权限): all customers, owned by me, owned by my
/// reception groups, owned by other members of my groups, the company pool. A customer outside is
/// answered 404, as if it did not exist. Written into queries as `\(reach: reach)` over `c`.
struct CustomerReach: Sendable {
    let all: Bool
    /// Customers owned by one of these employees (me, and the members of my groups).
    let owners: [UUID]
    /// Customers owned by one of these teams (my groups).
    let teams: [UUID]
    /// Customers owned by nobody, neither employee nor team.
    let companyPool: Bool
    /// The caller, when an employee: claims and "owned by me" need one.
    let employee: EmployeeID?
    /// The caller's reception groups: the team pools they may claim from.
    let groups: [UUID]

    /// Every customer of the tenant: the library's own work from events (no caller).
    static let everyone = CustomerReach(all: true, owners: [], teams: [], companyPool: false, employee: nil, groups: [])
}

extension TenantTransaction {
    /// The caller's reach, with their groups and those groups' members as reception last said
    /// (`customers.group_members`), read in this transaction.
    func reach(of principal: Principal) async throws -> CustomerReach {
        let scopes = principal.dataScopes.customers
        let me = principal.employeeID
        var groups: [UUID] = []
        var members: [UUID] = []
        if let me {
            let rows = try await query("""
                SELECT mine.group_id, others.employee_id FROM customers.group_members mine
                LEFT JOIN customers.group_members others ON others.tenant_id = mine.tenant_id AND others.group_id = mine.group_id
                     AND others.employee_id <> mine.employee_id
                WHERE mine.employee_id = \(me.uuid)
                """)
            for try await (group, member) in rows.decode((UUID, UUID?).self) {
                if !groups.contains(group) { groups.append(group) }
                if let member, !members.contains(member) { members.append(member) }
            }
        }
        var owners: [UUID] = []
        if scopes.contains(.mine), let me { owners.append(me.uuid) }
        if scopes.contains(.myGroupsMembers) { owners += members }
        return CustomerReach(
            all: scopes.contains(.all), owners: owners, teams: scopes.contains(.myGroups) ? groups : [],
            companyPool: scopes.contains(.companyPool), employee: me, groups: groups
        )
    }
}

extension PostgresQuery.StringInterpolation {
    /// The reach as a condition on the customer row `c`, every value bound.
    mutating func appendInterpolation(reach: CustomerReach) {
        appendLiteral("(")
        appendInterpolation(reach.all)
        appendLiteral(" OR c.owner_id = ANY(")
        appendInterpolation(reach.owners)
        appendLiteral("::uuid[]) OR c.owner_team_id = ANY(")
        appendInterpolation(reach.teams)
        appendLiteral("::uuid[]) OR (")
        appendInterpolation(reach.companyPool)
        appendLiteral(" AND c.owner_id IS NULL AND c.owner_team_id IS NULL))")
    }
}
