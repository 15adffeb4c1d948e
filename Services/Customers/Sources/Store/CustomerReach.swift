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

    /// Group membership is not projected yet (issue 12): until it is, "my groups" and "other
    /// members of my groups" reach nobody's customers, so the scope errs on the closed side.
    static func of(_ principal: Principal) -> CustomerReach {
        let scopes = principal.dataScopes.customers
        let me = principal.employeeID
        let groups: [UUID] = []
        let members: [UUID] = []
        var owners: [UUID] = []
        if scopes.contains(.mine), let me { owners.append(me.uuid) }
        if scopes.contains(.myGroupsMembers) { owners += members.filter { $0 != me?.uuid } }
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
