import Foundation
import KefuCore
import KefuModels

extension TenantTransaction {
    /// The agents a principal's organisation scope reaches: nil for the whole company, else the
    /// employees of their department and every department below it (accounts' tree, as the
    /// `analytics.facts` consumer keeps it), and themselves. A supervisor of one department sees
    /// its agents' numbers and the conversations they took part in; nothing else.
    func reachableAgents(of principal: Principal) async throws -> [UUID]? {
        guard principal.dataScopes.organisation == .myDepartment else { return nil }
        let me = principal.employeeID.map { [$0.uuid] } ?? []
        guard let root = principal.departmentID else { return me }
        let agents = try await query("""
            WITH RECURSIVE tree AS (
                SELECT \(root)::uuid AS id
                UNION SELECT d.id FROM analytics.departments d JOIN tree ON d.parent_id = tree.id
            ) SELECT a.employee_id FROM analytics.agents a JOIN tree ON a.department_id = tree.id
            """).decode(UUID.self).reduce(into: [UUID]()) { $0.append($1) }
        return Array(Set(agents + me))
    }
}
