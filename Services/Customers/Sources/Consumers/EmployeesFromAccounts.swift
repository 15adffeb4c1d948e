import Foundation
import KefuCore
import KefuModels
import PostgresNIO

/// Follows accounts' employee events (durable consumer `customers.employees`): keeps
/// `customers.employees` (owners must be active employees), moves a leaver's customers to the
/// receiver on a business handover (业务交接), and returns a deleted employee's customers to their
/// pool (their team's, else the company's). Each moved customer publishes `customer.owner_changed`.
struct EmployeesFromAccounts {
    let database: Database

    static let eventTypes: Set<String> = [
        EmployeeCreated.eventType, EmployeeUpdated.eventType, EmployeeStatusChanged.eventType,
        EmployeeBusinessTransferred.eventType,
    ]

    func handle(_ event: StoredEvent) async throws {
        switch event.type {
        case EmployeeCreated.eventType:
            try await project(try event.decode(EmployeeCreated.self).employee, tenant: event.tenantID)
        case EmployeeUpdated.eventType:
            try await project(try event.decode(EmployeeUpdated.self).employee, tenant: event.tenantID)
        case EmployeeStatusChanged.eventType:
            let change = try event.decode(EmployeeStatusChanged.self)
            try await project(change.employee, tenant: event.tenantID)
            guard change.employee.status == "deleted" else { return }
            try await database.withTenant(event.tenantID) { tx in
                for (customer, team) in try await tx.customersOwned(by: change.employee.employeeId.uuid) {
                    try await tx.setOwners([customer], owner: nil, team: team)
                }
            }
        case EmployeeBusinessTransferred.eventType:
            let handover = try event.decode(EmployeeBusinessTransferred.self)
            try await database.withTenant(event.tenantID) { tx in
                for (customer, team) in try await tx.customersOwned(by: handover.fromEmployeeId.uuid) {
                    try await tx.setOwners([customer], owner: handover.toEmployeeId.uuid, team: team)
                }
            }
        default:
            return
        }
    }

    private func project(_ employee: EmployeeSnapshot, tenant: TenantID) async throws {
        try await database.withTenant(tenant) { tx in
            try await tx.query("""
                INSERT INTO customers.employees (tenant_id, employee_id, display_name, status)
                VALUES (\(tx.tenantID.uuid), \(employee.employeeId.uuid), \(employee.displayName), \(employee.status))
                ON CONFLICT (tenant_id, employee_id) DO UPDATE SET display_name = excluded.display_name, status = excluded.status
                """)
        }
    }
}

extension TenantTransaction {
    /// The customers an employee owns, with their teams, locked for the move.
    func customersOwned(by employee: UUID) async throws -> [(UUID, UUID?)] {
        try await query("SELECT id, owner_team_id FROM customers.customers WHERE owner_id = \(employee) ORDER BY id FOR UPDATE")
            .decode((UUID, UUID?).self).reduce(into: []) { $0.append($1) }
    }
}
