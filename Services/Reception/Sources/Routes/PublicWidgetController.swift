import Foundation
import Hummingbird
import KefuCore
import KefuModels

extension PublicWidget: ResponseEncodable {}

/// `GET /v1/public/widgets/{key}`: what the embed script on any web page needs to draw a widget,
/// without credentials. Nothing else of the tenant is reachable from a public key.
struct PublicWidgetController {
    let reception: Reception

    func addRoutes(to router: Router<KefuRequestContext>) {
        router.get("/v1/public/widgets/{key}", use: show)
        router.get("/v1/platform/widget-keys/{key}", use: resolve)
    }

    struct WidgetKey: ResponseEncodable {
        let tenantId: TenantID
        @LowercaseUUID var widgetId: UUID
    }

    /// For routing (platform token): the tenant and widget of a public key, so that a visitor
    /// arriving with only the key lands in the right tenant.
    @Sendable func resolve(request: Request, context: KefuRequestContext) async throws -> WidgetKey {
        try context.requirePlatformOperator()
        let key = context.parameters.get("key") ?? ""
        guard key.count <= 64, let (tenant, id) = try await reception.database.widgetKey(key) else { throw Problem.notFound("widget") }
        return WidgetKey(tenantId: tenant, widgetId: id)
    }

    @Sendable func show(request: Request, context: KefuRequestContext) async throws -> Response {
        let key = context.parameters.get("key") ?? ""
        guard key.count <= 64, let (tenant, id) = try await reception.database.widgetKey(key) else { throw Problem.notFound("widget") }
        let widget = try await reception.database.withTenant(tenant) { tx in
            try await tx.item(.widget, as: Widget.self, id: id)
        }
        guard let widget else { throw Problem.notFound("widget") }
        var response = try PublicWidget(widget.document).response(from: request, context: context)
        // Embedded on the tenant's own pages, on any origin; short caching keeps edits visible.
        response.headers[.accessControlAllowOrigin] = "*"
        response.headers[.cacheControl] = "public, max-age=60"
        return response
    }
}

extension Database {
    /// The tenant and widget a public key names (a global lookup: no tenant is known yet).
    func widgetKey(_ key: String) async throws -> (TenantID, UUID)? {
        try await withTransaction { connection in
            let rows = try await connection.query(
                "SELECT tenant_id, widget_id FROM reception.widget_keys WHERE public_key = \(key)", logger: logger
            )
            for try await (tenant, widget) in rows.decode((UUID, UUID).self) { return (TenantID(tenant), widget) }
            return nil
        }
    }
}
