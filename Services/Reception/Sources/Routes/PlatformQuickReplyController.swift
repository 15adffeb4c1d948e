import Foundation
import Hummingbird
import KefuCore
import KefuModels

/// `GET /v1/platform/tenants/{tenant}/quick-replies/{id}?employee=`: for routing (platform token),
/// the quick reply an agent sends by reference — one of the tenant's enterprise quick replies, or
/// that employee's own personal one. Anyone else's personal reply is not found.
struct PlatformQuickReplyController {
    let reception: Reception

    func addRoutes(to router: Router<KefuRequestContext>) {
        router.get("/v1/platform/tenants/{tenant}/quick-replies/{id}", use: show)
    }

    @Sendable func show(request: Request, context: KefuRequestContext) async throws -> ConfigItem<QuickReply> {
        try context.requirePlatformOperator()
        guard let tenant = context.parameters.get("tenant").flatMap(UUID.init(uuidString:)) else { throw Problem.notFound("tenant") }
        let id = try context.parameters.uuid(what: "quick reply")
        let employee = request.uri.queryParameters["employee"].flatMap { UUID(uuidString: String($0)) }
        return try await reception.database.withTenant(TenantID(tenant)) { tx in
            if let enterprise = try await tx.item(.quickReply, as: QuickReply.self, id: id) { return enterprise }
            if let employee, let personal = try await tx.item(.personalQuickReply, as: QuickReply.self, id: id, owner: employee) { return personal }
            throw Problem.notFound("quick reply")
        }
    }
}
