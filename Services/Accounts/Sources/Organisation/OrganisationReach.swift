import Foundation
import KefuCore
import KefuModels

/// Which departments and employees the caller's organisation data scope reaches: the whole
/// company, or their department and every department below it (plus themselves). Anything
/// outside is answered 404, as if it did not exist.
struct OrganisationReach: Sendable {
    /// nil: the whole company.
    let departments: [UUID]?
    let selfID: UUID?

    var isWholeCompany: Bool { departments == nil }

    func includes(department: UUID?) -> Bool {
        guard let departments else { return true }
        return department.map(departments.contains) ?? false
    }

    func includes(_ employee: EmployeeRecord) -> Bool {
        employee.id == selfID || includes(department: employee.departmentID)
    }
}

extension TenantTransaction {
    func reach(of principal: Principal) async throws -> OrganisationReach {
        guard principal.dataScopes.organisation == .myDepartment else {
            return OrganisationReach(departments: nil, selfID: principal.employeeID?.uuid)
        }
        // An employee's department as it is now; an API key's is its creator's, carried in the token.
        let department = if let me = principal.employeeID { try await employee(id: me.uuid)?.departmentID } else { principal.departmentID }
        guard let department else { return OrganisationReach(departments: [], selfID: principal.employeeID?.uuid) }
        return OrganisationReach(departments: try await departmentSubtree(department), selfID: principal.employeeID?.uuid)
    }

    /// The department and all below it.
    func departmentSubtree(_ root: UUID) async throws -> [UUID] {
        try await query("""
            WITH RECURSIVE tree AS (
                SELECT id FROM accounts.departments WHERE id = \(root)
                UNION ALL
                SELECT d.id FROM accounts.departments d JOIN tree ON d.parent_id = tree.id
            ) SELECT id FROM tree
            """).decode(UUID.self).reduce(into: []) { $0.append($1) }
    }

    /// The employee if it exists and is within reach; else 404.
    func reachableEmployee(_ id: UUID, reach: OrganisationReach, includingDeleted: Bool = false) async throws -> EmployeeRecord {
        guard let employee = try await employee(id: id, includingDeleted: includingDeleted), reach.includes(employee) else {
            throw Problem.notFound("employee")
        }
        return employee
    }

    func requireReachableDepartment(_ id: UUID, reach: OrganisationReach) async throws {
        let exists = try await query("SELECT count(*)::int FROM accounts.departments WHERE id = \(id)").decode(Int.self).reduce(0, +) > 0
        guard exists, reach.includes(department: id) else { throw Problem.notFound("department") }
    }
}
