import Foundation
import Hummingbird
import KefuCore
import KefuModels
import PostgresNIO

/// `POST /v1/customers/batch`: one action on a selection — listed ids, or every customer a view,
/// search or filter matches ("all matching") — with a result per customer. Each customer is
/// changed in its own transaction through the same statements as the single routes, so one that
/// fails (gone, out of scope, a contact) is reported and the others are kept. Each change is
/// audited in its transaction, as the single routes audit theirs.
struct BatchController {
    let database: Database

    func addRoutes(to router: Router<KefuRequestContext>) {
        router.post("/v1/customers/batch", use: run)
    }

    /// At most this many customers per request, listed or matched.
    static let maxCustomers = 10_000

    /// "All matching": what a list would show for this view, search and contacts choice, further
    /// narrowed by `filter` (conditions of the condition language, as a view's, not saved).
    struct Selection: Decodable, Sendable {
        let viewId: String?
        let q: String?
        let entered: Bool?
        let filter: ViewFilter?
    }

    struct BatchRequest: Decodable, Sendable {
        let ids: [UUID]?
        let matching: Selection?
        /// `change_owner`, `move_to_pool`, `set_follow_up_status`, `add_tags`, `remove_tags`,
        /// `favourite`, `unfavourite`, `delete`.
        let action: String
        let ownerId: UUID?
        let ownerTeamId: UUID?
        let followUpStatus: String?
        let tags: [String]?
    }

    struct Outcome: Codable, Sendable {
        @LowercaseUUID var id: UUID
        /// `done`, `unchanged`, or a problem's code (`not_found`, `merged`, `not_entered` …).
        let result: String
    }

    struct BatchResult: ResponseEncodable, Sendable {
        let done: Int
        let unchanged: Int
        let failed: Int
        let results: [Outcome]
    }

    static let actions: [String: Permission] = [
        "change_owner": .customersEdit, "move_to_pool": .customersEdit, "set_follow_up_status": .customersEdit,
        "add_tags": .customersEdit, "remove_tags": .customersEdit, "favourite": .customersView, "unfavourite": .customersView,
        "delete": .customersDelete,
    ]

    @Sendable func run(request: Request, context: KefuRequestContext) async throws -> BatchResult {
        let principal = try context.requirePermission(.customersView)
        let body = try await request.decode(as: BatchRequest.self, context: context)
        guard let permission = Self.actions[body.action] else {
            throw Problem.invalid("action", "must be one of \(Self.actions.keys.sorted().joined(separator: ", "))", code: "invalid_choice")
        }
        guard principal.has(permission) else { throw Problem.forbidden(missing: permission.rawValue) }
        var v = Validation()
        switch (body.ids, body.matching) {
        case (let ids?, nil):
            v.check((1...Self.maxCustomers).contains(ids.count), "ids", "must list 1 to \(Self.maxCustomers) customers", code: ids.isEmpty ? "required" : "too_many")
        case (nil, _?): break
        default: v.add("ids", "give either ids or matching", code: "required")
        }
        var tags: [String] = []
        switch body.action {
        case "set_follow_up_status":
            let statuses = try await database.withTenant(principal.tenantID) { tx in try await tx.librarySettings().followUpStatuses }
            v.check(body.followUpStatus.map(statuses.contains) == true, "follow_up_status",
                    "must be one of \(statuses.joined(separator: ", "))", code: "invalid_choice")
        case "add_tags", "remove_tags":
            for (index, tag) in (body.tags ?? []).enumerated() {
                if let tag = v.text(tag, "tags[\(index)]", length: 1...30), !tags.contains(tag) { tags.append(tag) }
            }
            v.check(!tags.isEmpty && tags.count <= 50, "tags", "must list 1 to 50 tags", code: tags.isEmpty ? "required" : "too_many")
        case "favourite", "unfavourite":
            if principal.employeeID == nil { v.add("action", "only an employee keeps favourites", code: "employee_only") }
        default: break
        }
        try v.throwIfInvalid()
        let selectedTags = tags
        if body.action == "change_owner", let owner = body.ownerId {
            try await database.withTenant(principal.tenantID) { tx in
                var v = Validation()
                try await tx.checkOwner(owner, &v)
                try v.throwIfInvalid()
            }
        }
        let ids: [UUID]
        if let listed = body.ids { ids = listed } else { ids = try await matching(body.matching!, principal: principal) }
        let actor = AuditActor(context: context)
        var results: [Outcome] = []
        for id in ids {
            let result: String
            do {
                result = try await database.withTenant(principal.tenantID) { tx in
                    let customer = try await tx.customer(id, reach: try await tx.reach(of: principal))
                    return try await Self.apply(body, tags: selectedTags, to: customer, principal: principal, actor: actor, in: tx)
                }
            } catch let problem as Problem {
                result = problem.code
            }
            results.append(Outcome(id: id, result: result))
        }
        return BatchResult(
            done: results.count { $0.result == "done" }, unchanged: results.count { $0.result == "unchanged" },
            failed: results.count { $0.result != "done" && $0.result != "unchanged" }, results: results
        )
    }

    /// The ids "all matching" selects, in the list's order; more than the limit is a 422.
    private func matching(_ selection: Selection, principal: Principal) async throws -> [UUID] {
        var asked = CustomerListing()
        asked.viewID = selection.viewId
        asked.entered = selection.entered
        if let q = selection.q?.trimmingCharacters(in: .whitespaces), !q.isEmpty { asked.search = String(q.prefix(100)) }
        let ids = try await database.withTenant(principal.tenantID) { [asked] tx in
            var (listing, fields) = try await tx.resolve(asked, employee: principal.employeeID)
            if let filter = selection.filter {
                try filter.check(against: fields, path: "matching.filter")
                listing.refinement = filter
            }
            var query = try listing.condition(reach: try await tx.reach(of: principal), employee: principal.employeeID, fields: fields, paging: false)
            query.sql = "SELECT c.id FROM customers.customers c WHERE " + query.sql + " ORDER BY \(listing.sort.order) LIMIT \(Self.maxCustomers + 1)"
            return try await tx.query(query).decode(UUID.self).reduce(into: [UUID]()) { $0.append($1) }
        }
        guard ids.count <= Self.maxCustomers else {
            throw Problem.invalid("matching", "selects more than \(Self.maxCustomers) customers: narrow it", code: "too_many")
        }
        return ids
    }

    private static func apply(
        _ body: BatchRequest, tags: [String], to customer: CustomerView, principal: Principal, actor: AuditActor, in tx: TenantTransaction
    ) async throws -> String {
        let id = customer.id
        let target = id.uuidString.lowercased()
        let owners = TenantTransaction.Ownership(ownerId: customer.ownerId, ownerTeamId: customer.ownerTeamId)
        switch body.action {
        case "delete":
            try await tx.deleteCustomer(customer, by: principal.employeeID)
            try await tx.publishAudit(actor, action: "customers.customer.deleted", targetType: "customer", targetID: target, before: customer)
        case "favourite", "unfavourite":
            try await tx.setFavourite(id, of: principal.employeeID!, body.action == "favourite")
        default:
            guard customer.entered else { throw CustomersController.notEntered }
            switch body.action {
            case "change_owner":
                guard customer.ownerId != body.ownerId || customer.ownerTeamId != body.ownerTeamId else { return "unchanged" }
                try await tx.setOwners([id], owner: body.ownerId, team: body.ownerTeamId)
                try await tx.auditOwners(actor, of: id, from: owners, to: .init(ownerId: body.ownerId, ownerTeamId: body.ownerTeamId))
            case "move_to_pool":
                guard customer.ownerId != nil else { return "unchanged" }
                try await tx.setOwners([id], owner: nil, team: customer.ownerTeamId)
                try await tx.auditOwners(actor, of: id, from: owners, to: .init(ownerId: nil, ownerTeamId: customer.ownerTeamId))
            default:
                var profile = Profile(customer)
                switch body.action {
                case "set_follow_up_status": profile.followUpStatus = body.followUpStatus
                case "add_tags": profile.tags += tags.filter { !profile.tags.contains($0) }
                default: profile.tags.removeAll { tags.contains($0) }
                }
                guard profile.tags != customer.tags || profile.followUpStatus != customer.followUpStatus else { return "unchanged" }
                try await tx.updateProfile(id, profile)
                let field = body.action == "set_follow_up_status" ? "follow_up_status" : "tags"
                try await tx.publish(CustomerUpdated(customerId: id, fields: [field], by: principal.employeeID))
                try await tx.applyRules(to: id)
                try await tx.publishAudit(actor, action: "customers.customer.updated", targetType: "customer", targetID: target,
                                          before: customer, after: try await tx.customers(where: "c.id = \(id)")[0])
            }
        }
        return "done"
    }
}
