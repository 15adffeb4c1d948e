import Foundation
import Hummingbird
import KefuCore
import KefuModels
import PostgresNIO

/// What each employee keeps for themselves about a customer: a private remark name (私人备注,
/// `customers.private_remarks`, seen by its author only) and a favourite mark. Only employees
/// have them: an API key gets 403 `employee_only`.
struct PersonalMarksController {
    let database: Database

    func addRoutes(to router: Router<KefuRequestContext>) {
        router.get("/v1/customers/{id}/private-remark", use: showRemark)
        router.put("/v1/customers/{id}/private-remark", use: setRemark)
        router.delete("/v1/customers/{id}/private-remark", use: deleteRemark)
        router.put("/v1/customers/{id}/favourite", use: favourite)
        router.delete("/v1/customers/{id}/favourite", use: unfavourite)
    }

    struct RemarkView: ResponseEncodable, Codable, Sendable {
        let name: String
        /// The author's remark names on customers merged into this one while they had this
        /// remark here (which won), newest first: a merge loses none, and shows none to others.
        let mergedNames: [String]
        let updatedAt: Date
    }

    struct RemarkRequest: Decodable, Sendable {
        let name: String?
    }

    struct FavouriteView: ResponseEncodable, Codable, Sendable {
        let favourite: Bool
    }

    static func employee(_ principal: Principal) throws -> EmployeeID {
        guard let employee = principal.employeeID else {
            throw Problem(.forbidden, code: "employee_only", detail: "Only an employee keeps private remarks and favourites.")
        }
        return employee
    }

    @Sendable func showRemark(request: Request, context: KefuRequestContext) async throws -> RemarkView {
        let principal = try context.requirePermission(.customersPrivateRemarks)
        let me = try Self.employee(principal)
        let id = try context.parameters.uuid(what: "customer")
        return try await database.withTenant(principal.tenantID) { tx in
            _ = try await tx.customer(id, reach: try await tx.reach(of: principal))
            guard let remark = try await tx.privateRemark(of: id, by: me) else { throw Problem.notFound("private remark") }
            return remark
        }
    }

    @Sendable func setRemark(request: Request, context: KefuRequestContext) async throws -> RemarkView {
        let principal = try context.requirePermission(.customersPrivateRemarks)
        let me = try Self.employee(principal)
        let id = try context.parameters.uuid(what: "customer")
        let body = try await request.decode(as: RemarkRequest.self, context: context)
        var v = Validation()
        let name = v.text(body.name, "name", length: 1...50)
        try v.throwIfInvalid()
        return try await database.withTenant(principal.tenantID) { tx in
            _ = try await tx.customer(id, reach: try await tx.reach(of: principal))
            try await tx.query("""
                INSERT INTO customers.private_remarks (tenant_id, customer_id, employee_id, name) VALUES (\(tx.tenantID.uuid), \(id), \(me.uuid), \(name!))
                ON CONFLICT (tenant_id, customer_id, employee_id) DO UPDATE SET name = excluded.name, updated_at = now()
                """)
            try await tx.publish(CustomerPersonalMarkChanged(customerId: id, employeeId: me, mark: "private_remark", present: true))
            return try await tx.privateRemark(of: id, by: me)!
        }
    }

    @Sendable func deleteRemark(request: Request, context: KefuRequestContext) async throws -> HTTPResponse.Status {
        let principal = try context.requirePermission(.customersPrivateRemarks)
        let me = try Self.employee(principal)
        let id = try context.parameters.uuid(what: "customer")
        try await database.withTenant(principal.tenantID) { tx in
            _ = try await tx.customer(id, reach: try await tx.reach(of: principal))
            let removed = try await tx.query("""
                DELETE FROM customers.private_remarks WHERE customer_id = \(id) AND employee_id = \(me.uuid) RETURNING customer_id
                """).decode(UUID.self).reduce(0) { count, _ in count + 1 }
            guard removed == 1 else { throw Problem.notFound("private remark") }
            try await tx.publish(CustomerPersonalMarkChanged(customerId: id, employeeId: me, mark: "private_remark", present: false))
        }
        return .noContent
    }

    @Sendable func favourite(request: Request, context: KefuRequestContext) async throws -> FavouriteView {
        try await mark(context, favourite: true)
    }

    @Sendable func unfavourite(request: Request, context: KefuRequestContext) async throws -> FavouriteView {
        try await mark(context, favourite: false)
    }

    /// Idempotent both ways: marking twice keeps one mark.
    private func mark(_ context: KefuRequestContext, favourite: Bool) async throws -> FavouriteView {
        let principal = try context.requirePermission(.customersView)
        let me = try Self.employee(principal)
        let id = try context.parameters.uuid(what: "customer")
        return try await database.withTenant(principal.tenantID) { tx in
            _ = try await tx.customer(id, reach: try await tx.reach(of: principal))
            try await tx.setFavourite(id, of: me, favourite)
            return FavouriteView(favourite: favourite)
        }
    }
}

extension TenantTransaction {
    func privateRemark(of customer: UUID, by employee: EmployeeID) async throws -> PersonalMarksController.RemarkView? {
        let rows = try await query("""
            SELECT name, merged_names, updated_at FROM customers.private_remarks WHERE customer_id = \(customer) AND employee_id = \(employee.uuid)
            """)
        for try await (name, merged, at) in rows.decode((String, [String], Date).self) { return .init(name: name, mergedNames: merged, updatedAt: at) }
        return nil
    }
}
