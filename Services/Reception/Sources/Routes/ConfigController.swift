import Foundation
import Hummingbird
import KefuCore
import KefuModels

extension ConfigItem: ResponseEncodable {}

struct ItemList<Document: Codable & Sendable>: ResponseEncodable {
    let data: [ConfigItem<Document>]
}

/// Who may use a `ConfigController`'s routes, and whose items they see.
enum ConfigAccess: Sendable {
    /// The tenant's items, for holders of the permission.
    case tenant(Permission)
    /// The signed-in employee's own items (personal quick replies).
    case personal
}

/// The routes of one kind of reception configuration, the same for every kind:
/// list, create, show, replace (PUT), delete, and for rules, reorder. Every write validates the
/// whole document, checks the ids it refers to, bumps the version, and publishes the change and
/// its audit record, in one transaction.
struct ConfigController<Document: ReceptionDocument> {
    let reception: Reception
    let path: String
    let access: ConfigAccess
    /// Names the kind in messages: "widget".
    let what: String

    func addRoutes(to router: Router<KefuRequestContext>) {
        router.get(RouterPath(path), use: list)
        router.post(RouterPath(path), use: create)
        if Document.kind.isOrdered { router.put(RouterPath("\(path)/order"), use: reorder) }
        router.get(RouterPath("\(path)/{id}"), use: show)
        router.put(RouterPath("\(path)/{id}"), use: replace)
        router.delete(RouterPath("\(path)/{id}"), use: delete)
    }

    /// The caller's tenant and, for personal items, the owner.
    func caller(_ context: KefuRequestContext) throws -> (tenant: TenantID, owner: UUID?) {
        switch access {
        case .tenant(let permission):
            return (try context.requirePermission(permission).tenantID, nil)
        case .personal:
            let principal = try context.requireAuthentication()
            guard let employee = principal.employeeID else {
                throw Problem(.forbidden, code: "employees_only", detail: "Personal items belong to employees; API keys have none.")
            }
            return (principal.tenantID, employee.uuid)
        }
    }

    @Sendable func list(request: Request, context: KefuRequestContext) async throws -> ItemList<Document> {
        let (tenant, owner) = try caller(context)
        let filter = try Document.listFilter(request)
        let items = try await reception.database.withTenant(tenant) { tx in
            try await tx.items(Document.kind, as: Document.self, owner: owner)
        }
        return ItemList(data: filter.map { keep in items.filter { keep($0.document) } } ?? items)
    }

    @Sendable func show(request: Request, context: KefuRequestContext) async throws -> ConfigItem<Document> {
        let (tenant, owner) = try caller(context)
        let id = try context.parameters.uuid(what: what)
        return try await reception.database.withTenant(tenant) { tx in
            guard let item = try await tx.item(Document.kind, as: Document.self, id: id, owner: owner) else { throw Problem.notFound(what) }
            return item
        }
    }

    @Sendable func create(request: Request, context: KefuRequestContext) async throws -> EditedResponse<ConfigItem<Document>> {
        let (tenant, owner) = try caller(context)
        let input = try await request.decode(as: Document.self, context: context)
        let id = UUID()
        let actor = AuditActor(context: context)
        let item = try await reception.database.withTenant(tenant) { tx in
            var document = try await checked(input, in: tx)
            var columns = try await Document.prepare(&document, previous: nil, id: id, in: tx, reception: reception)
            columns.owner = owner
            try await tx.insertItem(Document.kind, id: id, document: document, columns: columns)
            let item = try await tx.item(Document.kind, as: Document.self, id: id)!
            try await tx.configChanged(Document.kind.rawValue, id: id, action: "created", by: actor, after: item)
            return item
        }
        return EditedResponse(status: .created, response: item)
    }

    @Sendable func replace(request: Request, context: KefuRequestContext) async throws -> ConfigItem<Document> {
        let (tenant, owner) = try caller(context)
        let id = try context.parameters.uuid(what: what)
        let input = try await request.decode(as: Document.self, context: context)
        let actor = AuditActor(context: context)
        return try await reception.database.withTenant(tenant) { tx in
            guard let previous = try await tx.item(Document.kind, as: Document.self, id: id, owner: owner) else { throw Problem.notFound(what) }
            var document = try await checked(input, in: tx)
            var columns = try await Document.prepare(&document, previous: previous.document, id: id, in: tx, reception: reception)
            columns.owner = owner
            try await tx.updateItem(Document.kind, id: id, document: document, columns: columns)
            let item = try await tx.item(Document.kind, as: Document.self, id: id)!
            try await tx.configChanged(Document.kind.rawValue, id: id, action: "updated", by: actor, before: previous, after: item)
            return item
        }
    }

    @Sendable func delete(request: Request, context: KefuRequestContext) async throws -> HTTPResponse.Status {
        let (tenant, owner) = try caller(context)
        let id = try context.parameters.uuid(what: what)
        let actor = AuditActor(context: context)
        try await reception.database.withTenant(tenant) { tx in
            guard let previous = try await tx.item(Document.kind, as: Document.self, id: id, owner: owner) else { throw Problem.notFound(what) }
            let users = try await tx.referencesTo(id)
            guard users.isEmpty else {
                throw Problem.conflict(code: "in_use", detail: "This \(what) is used by \(users.joined(separator: ", ")); change those first.")
            }
            try await Document.removed(previous.document, id: id, in: tx)
            try await tx.deleteItem(Document.kind, id: id)
            try await tx.configChanged(Document.kind.rawValue, id: id, action: "deleted", by: actor, before: previous)
        }
        return .noContent
    }

    struct Order: Decodable, Sendable {
        let ids: [UUID]
    }

    /// `PUT …/order {"ids": [...]}`: every rule of the kind, each once, in the new order.
    @Sendable func reorder(request: Request, context: KefuRequestContext) async throws -> ItemList<Document> {
        let (tenant, _) = try caller(context)
        let order = try await request.decode(as: Order.self, context: context)
        let actor = AuditActor(context: context)
        let items = try await reception.database.withTenant(tenant) { tx in
            try await tx.lockKind(Document.kind)
            let current = try await tx.itemIDs(Document.kind)
            guard order.ids.count == Set(order.ids).count, Set(order.ids) == Set(current) else {
                throw Problem.invalid("ids", "must list every \(what) of the tenant exactly once (\(current.count) of them)", code: "incomplete_order")
            }
            try await tx.reorder(Document.kind, ids: order.ids)
            try await tx.configChanged(Document.kind.rawValue, action: "reordered", by: actor, before: current, after: order.ids)
            return try await tx.items(Document.kind, as: Document.self)
        }
        return ItemList(data: items)
    }

    /// The input validated against the tenant's fields and ids; throws a 422 listing every issue.
    func checked(_ input: Document, in tx: TenantTransaction) async throws -> Document {
        var document = input
        var check = DocumentCheck(catalogue: try await tx.fieldCatalogue())
        document.check(&check)
        try await check.verify(in: tx)
        return document
    }
}
