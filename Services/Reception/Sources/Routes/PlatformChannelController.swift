import Foundation
import Hummingbird
import KefuCore
import KefuModels

/// The channel gateways' doors (platform token: routing, and accounts for partner channels'
/// outbound webhooks), the only place channel credentials are ever opened:
/// - `GET /v1/platform/official-accounts/{id}`: the tenant of an official account, which WeChat's
///   callback names alone (`reception.official_account_tenant`, the one cross-tenant read);
/// - `GET /v1/platform/tenants/{tenant}/channels/{id}`: the channel with its credentials in clear.
struct PlatformChannelController {
    let reception: Reception

    func addRoutes(to router: Router<KefuRequestContext>) {
        router.get("/v1/platform/official-accounts/{id}", use: officialAccount)
        router.get("/v1/platform/tenants/{tenant}/channels/{id}", use: gateway)
    }

    struct OfficialAccountTenant: ResponseEncodable {
        let tenantId: TenantID
        @LowercaseUUID var channelId: UUID
    }

    @Sendable func officialAccount(request: Request, context: KefuRequestContext) async throws -> OfficialAccountTenant {
        try context.requirePlatformOperator()
        let id = try context.parameters.uuid(what: "official account")
        let rows = try await reception.database.rows("SELECT tenant_id FROM reception.official_account_tenant(\(id))")
        guard let row = rows.first, let tenant = try row.decode(UUID?.self) else { throw Problem.notFound("official account") }
        return OfficialAccountTenant(tenantId: TenantID(tenant), channelId: id)
    }

    @Sendable func gateway(request: Request, context: KefuRequestContext) async throws -> ChannelGateway {
        try context.requirePlatformOperator()
        guard let tenant = context.parameters.get("tenant").flatMap(UUID.init(uuidString:)) else { throw Problem.notFound("tenant") }
        let id = try context.parameters.uuid(what: "channel")
        return try await reception.database.withTenant(TenantID(tenant)) { tx in
            guard let channel = try await tx.item(.channel, as: Channel.self, id: id) else { throw Problem.notFound("channel") }
            var credentials: [String: String] = [:]
            if let sealed = try await tx.sealedCredentials(of: id) {
                credentials = try KefuJSON.decoder().decode([String: String].self, from: Data(try reception.secrets.open(sealed).utf8))
            }
            return ChannelGateway(
                id: id, type: channel.document.type, enabled: channel.document.enabled, outboundUrl: channel.document.outboundUrl,
                credentials: credentials, updatedAt: channel.updatedAt
            )
        }
    }
}

extension ChannelGateway: ResponseEncodable {}
