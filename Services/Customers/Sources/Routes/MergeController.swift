import Foundation
import Hummingbird
import KefuCore
import KefuModels
import PostgresNIO

/// Merges (合并): `POST /v1/customers/{id}/merge {"from": [...]}` with the survivor chosen by the
/// caller; `GET …/merges` shows what each merge moved and what it replaced. A new identity that
/// is a strong identifier of another customer merges that customer in (`POST …/identities`).
struct MergeController {
    let database: Database

    func addRoutes(to router: Router<KefuRequestContext>) {
        router.post("/v1/customers/{id}/merge", use: merge)
        router.get("/v1/customers/{id}/merges", use: list)
        router.post("/v1/customers/{id}/identities", use: addIdentity)
        router.delete("/v1/customers/{id}/identities", use: removeIdentity)
    }

    /// At most this many customers go into one survivor per request.
    static let maxSources = 20

    struct MergeRequest: Decodable, Sendable {
        let from: [UUID]
    }

    @Sendable func merge(request: Request, context: KefuRequestContext) async throws -> MergeView {
        let principal = try context.requirePermission(.customersEdit)
        let id = try context.parameters.uuid(what: "customer")
        let body = try await request.decode(as: MergeRequest.self, context: context)
        var v = Validation()
        v.check((1...Self.maxSources).contains(body.from.count), "from", "must list 1 to \(Self.maxSources) customers",
                code: body.from.isEmpty ? "required" : "too_many")
        for (index, source) in body.from.enumerated() {
            if source == id { v.add("from[\(index)]", "is the survivor: a customer cannot be merged into itself", code: "self_merge") }
            if body.from[..<index].contains(source) { v.add("from[\(index)]", "is listed twice", code: "duplicate") }
        }
        try v.throwIfInvalid()
        return try await database.withTenant(principal.tenantID) { tx in
            try await tx.merge(body.from, into: id, reach: try await tx.reach(of: principal), reason: "manual", by: principal.employeeID)
        }
    }

    @Sendable func list(request: Request, context: KefuRequestContext) async throws -> Page<MergeView> {
        let principal = try context.requirePermission(.customersView)
        let id = try context.parameters.uuid(what: "customer")
        return try await database.withTenant(principal.tenantID) { tx in
            _ = try await tx.customer(id, reach: try await tx.reach(of: principal))
            return Page(data: try await tx.merges(of: id), nextCursor: nil)
        }
    }

    /// Adds an identity. When another customer already holds it: a strong identifier (unionid,
    /// phone) is the same person, so that customer is merged into this one (if the caller reaches
    /// it); any other kind is 409 `identity_taken`, never a merge by guesswork.
    @Sendable func addIdentity(request: Request, context: KefuRequestContext) async throws -> EditedResponse<CustomerView> {
        let principal = try context.requirePermission(.customersEdit)
        let id = try context.parameters.uuid(what: "customer")
        let input = try await request.decode(as: CustomerView.Identity.self, context: context)
        var v = Validation()
        let identity = Identities.check([input], &v, field: { _, name in name }).first
        try v.throwIfInvalid()
        guard let identity else { throw Problem.invalid("kind", "is required", code: "required") }
        let view = try await database.withTenant(principal.tenantID) { tx in
            let reach = try await tx.reach(of: principal)
            let target = try await tx.customer(id, reach: reach)
            guard target.entered else { throw CustomersController.notEntered }
            let holder = try await tx.query("""
                SELECT customer_id FROM customers.identities
                WHERE kind = \(identity.kind) AND channel = \(identity.channel ?? "") AND external_id = \(identity.externalId)
                """).decode(UUID.self).reduce(into: [UUID]()) { $0.append($1) }.first
            switch holder {
            case id?:
                throw Problem.conflict(code: "identity_exists", detail: "The customer already has this identity.")
            case let other? where Identities.strong.contains(identity.kind):
                let reachable = try await tx.customers(where: "c.id = \(other) AND \(reach: reach)").first
                guard reachable != nil else { throw Self.taken(identity) }
                _ = try await tx.merge([other], into: id, reach: reach, reason: "identity", by: principal.employeeID)
            case .some:
                throw Self.taken(identity)
            case nil:
                try await tx.addIdentity(identity, to: id)
                try await tx.publish(CustomerUpdated(customerId: id, fields: ["identities"], by: principal.employeeID))
                if identity.kind == "web_visitor" { try await tx.publishOwner(of: id) }
            }
            return try await tx.customers(where: "c.id = \(id)")[0]
        }
        return EditedResponse(status: .created, response: view)
    }

    /// Removes an identity the customer holds (`?kind=&channel=&external_id=`), say a phone
    /// number that was someone else's. A web visitor id cannot be removed (422 on `kind`): it is
    /// how routing knows the visitor, and its owner-first projection would keep the old owner.
    @Sendable func removeIdentity(request: Request, context: KefuRequestContext) async throws -> CustomerView {
        let principal = try context.requirePermission(.customersEdit)
        let id = try context.parameters.uuid(what: "customer")
        let query = request.uri.queryParameters
        let input = CustomerView.Identity(
            kind: query["kind"].map(String.init) ?? "", channel: query["channel"].map(String.init),
            externalId: query["external_id"].map(String.init) ?? ""
        )
        var v = Validation()
        let identity = Identities.check([input], &v, field: { _, name in name }).first
        v.check(input.kind != "web_visitor", "kind", "a web visitor id cannot be removed", code: "not_allowed")
        try v.throwIfInvalid()
        guard let identity else { throw Problem.invalid("kind", "is required", code: "required") }
        let actor = AuditActor(context: context)
        return try await database.withTenant(principal.tenantID) { tx in
            let target = try await tx.customer(id, reach: try await tx.reach(of: principal))
            guard target.entered else { throw CustomersController.notEntered }
            let removed = try await tx.query("""
                DELETE FROM customers.identities
                WHERE customer_id = \(id) AND kind = \(identity.kind) AND channel = \(identity.channel ?? "") AND external_id = \(identity.externalId)
                RETURNING kind
                """).decode(String.self).reduce(into: 0) { count, _ in count += 1 }
            guard removed > 0 else { throw Problem.notFound("identity") }
            try await tx.publish(CustomerUpdated(customerId: id, fields: ["identities"], by: principal.employeeID))
            let after = try await tx.customers(where: "c.id = \(id)")[0]
            try await tx.publishAudit(actor, action: "customers.identity.removed", targetType: "customer", targetID: id.uuidString.lowercased(),
                                      before: target, after: after)
            return after
        }
    }

    static func taken(_ identity: CustomerView.Identity) -> Problem {
        .conflict(code: "identity_taken", detail: "Another customer is already known as \(identity.kind) \(identity.externalId).")
    }
}
