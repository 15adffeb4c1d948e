import Foundation
import Hummingbird
import KefuCore
import KefuModels
import PostgresNIO

/// Ownership (归属): claim from a pool, release to it, change the owner. Every change publishes
/// `customer.owner_changed` in its transaction (routing's owner first follows it) and is audited.
struct OwnershipController {
    let database: Database

    func addRoutes(to router: Router<KefuRequestContext>) {
        router.post("/v1/customers/{id}/claim", use: claim)
        router.post("/v1/customers/{id}/release", use: release)
        router.put("/v1/customers/{id}/owner", use: changeOwner)
    }

    /// Takes a customer of the company pool, or of the pool of one of the caller's teams, as its
    /// owner. One conditional UPDATE: of two claims racing, the second finds an owner set and
    /// gets 409 `already_owned`, never a second owner.
    @Sendable func claim(request: Request, context: KefuRequestContext) async throws -> CustomerView {
        let principal = try context.requirePermission(.customersPool)
        guard let me = principal.employeeID else {
            throw Problem(.forbidden, code: "employee_only", detail: "Only an employee can own customers; an API key cannot claim.")
        }
        let id = try context.parameters.uuid(what: "customer")
        let actor = AuditActor(context: context)
        return try await database.withTenant(principal.tenantID) { tx in
            let reach = try await tx.reach(of: principal)
            let claimed = try await tx.query("""
                UPDATE customers.customers c SET owner_id = \(me.uuid), updated_at = now()
                WHERE c.id = \(id) AND c.entered AND c.owner_id IS NULL
                  AND (c.owner_team_id IS NULL OR c.owner_team_id = ANY(\(reach.groups)::uuid[]))
                RETURNING c.id
                """).decode(UUID.self).reduce(into: 0) { count, _ in count += 1 }
            guard claimed == 1 else {
                // Not claimable: say why only about a customer the caller may see.
                let visible = try await tx.customers(where: """
                    c.id = \(id) AND (\(reach: reach) OR (c.owner_id IS NULL AND c.owner_team_id IS NULL))
                    """).first
                guard let visible else { throw Problem.notFound("customer") }
                // A contact is in no pool: it is entered (POST …/enter, which gives it its owner) first.
                guard visible.entered else { throw CustomersController.notEntered }
                throw Problem.conflict(code: "already_owned", detail: "The customer has an owner (or is in another team's pool).")
            }
            try await tx.publishOwner(of: id)
            let after = try await tx.customers(where: "c.id = \(id)")[0]
            try await tx.auditOwners(actor, of: id, from: .init(ownerId: nil, ownerTeamId: after.ownerTeamId),
                                     to: .init(ownerId: after.ownerId, ownerTeamId: after.ownerTeamId))
            return after
        }
    }

    /// Gives the customer back to its pool: its team's if it has a team, else the company's.
    @Sendable func release(request: Request, context: KefuRequestContext) async throws -> CustomerView {
        let principal = try context.requirePermission(.customersEdit)
        let id = try context.parameters.uuid(what: "customer")
        let actor = AuditActor(context: context)
        return try await database.withTenant(principal.tenantID) { tx in
            let before = try await tx.customer(id, reach: try await tx.reach(of: principal))
            guard before.ownerId != nil else { throw Problem.conflict(code: "not_owned", detail: "The customer is already in a pool.") }
            try await tx.setOwners([id], owner: nil, team: before.ownerTeamId)
            try await tx.auditOwners(actor, of: id, from: .init(ownerId: before.ownerId, ownerTeamId: before.ownerTeamId),
                                     to: .init(ownerId: nil, ownerTeamId: before.ownerTeamId))
            return try await tx.customers(where: "c.id = \(id)")[0]
        }
    }

    struct OwnerRequest: Decodable, Sendable {
        let ownerId: UUID?
        let ownerTeamId: UUID?
    }

    /// Sets the owner employee and team (both null: the company pool).
    @Sendable func changeOwner(request: Request, context: KefuRequestContext) async throws -> CustomerView {
        let principal = try context.requirePermission(.customersEdit)
        let id = try context.parameters.uuid(what: "customer")
        let body = try await request.decode(as: OwnerRequest.self, context: context)
        let actor = AuditActor(context: context)
        return try await database.withTenant(principal.tenantID) { tx in
            let before = try await tx.customer(id, reach: try await tx.reach(of: principal))
            guard before.entered else { throw CustomersController.notEntered }
            var v = Validation()
            if let owner = body.ownerId { try await tx.checkOwner(owner, &v) }
            try v.throwIfInvalid()
            try await tx.setOwners([id], owner: body.ownerId, team: body.ownerTeamId)
            try await tx.auditOwners(actor, of: id, from: .init(ownerId: before.ownerId, ownerTeamId: before.ownerTeamId),
                                     to: .init(ownerId: body.ownerId, ownerTeamId: body.ownerTeamId))
            return try await tx.customers(where: "c.id = \(id)")[0]
        }
    }
}
