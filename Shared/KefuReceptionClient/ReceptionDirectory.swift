import AsyncHTTPClient
import Foundation
import KefuCore
import KefuModels
import Logging
import NIOCore
import Synchronization

/// Reception's configuration as other services apply it (routing its rules, the customer
/// library its groups' members): each tenant's snapshot, fetched from reception
/// (`GET /v1/reception/snapshot`, platform token) and kept until a `reception.config_changed`
/// event announces a newer version — so a change applies to the next visitor without a restart,
/// and a steady tenant costs no request at all.
public final class ReceptionDirectory: Sendable {
    public let baseURL: String
    let platformToken: String?
    let logger: Logger

    private struct State {
        var snapshots: [TenantID: ReceptionSnapshot] = [:]
        /// The newest version each tenant's events announced.
        var announced: [TenantID: Int64] = [:]
        var widgetKeys: [String: (TenantID, UUID)] = [:]
        var officialAccounts: [UUID: TenantID] = [:]
        /// Channel credentials, with the tenant's announced version when they were fetched.
        var gateways: [ChannelKey: (ChannelGateway, Int64)] = [:]
    }
    struct ChannelKey: Hashable { let tenant: TenantID; let channel: UUID }
    private let state = Mutex(State())

    public init(baseURL: String, platformToken: String?, logger: Logger) {
        self.baseURL = baseURL
        self.platformToken = platformToken
        self.logger = logger
    }

    /// Reception at `KEFU_RECEPTION_URL` (default: its port on this host), asked with the
    /// platform token: the one configuration of every service that reads it.
    public convenience init(resources: ServiceResources) {
        let environment = resources.config.environment
        let receptionPort = environment["KEFU_RECEPTION_PORT"].flatMap(Int.init) ?? ServiceName.reception.defaultPort
        self.init(
            baseURL: environment["KEFU_RECEPTION_URL"].flatMap { $0.isEmpty ? nil : $0 } ?? "http://127.0.0.1:\(receptionPort)",
            platformToken: resources.config.platformToken, logger: resources.logger
        )
    }

    public func announce(_ tenant: TenantID, version: Int64) {
        state.withLock { $0.announced[tenant] = max($0.announced[tenant] ?? 0, version) }
    }

    /// The tenant's configuration, at least as new as every version announced so far.
    public func snapshot(for tenant: TenantID) async throws -> ReceptionSnapshot {
        let (cached, wanted) = state.withLock { ($0.snapshots[tenant], $0.announced[tenant] ?? 0) }
        if let cached, cached.version >= wanted { return cached }
        let snapshot: ReceptionSnapshot = try await get("/v1/reception/snapshot?tenant_id=\(tenant)&min_version=\(wanted)")
        state.withLock { state in
            if (state.snapshots[tenant]?.version ?? -1) < snapshot.version { state.snapshots[tenant] = snapshot }
        }
        return snapshot
    }

    /// The tenant's configuration as reception has it now, whatever this process heard: for
    /// what names an item that may have just been created (a channel its partner uses at once,
    /// before the creation's event reached this process).
    public func freshSnapshot(for tenant: TenantID) async throws -> ReceptionSnapshot {
        // Without min_version reception reads its database (read-your-writes).
        let snapshot: ReceptionSnapshot = try await get("/v1/reception/snapshot?tenant_id=\(tenant)")
        state.withLock { state in
            if (state.snapshots[tenant]?.version ?? -1) < snapshot.version { state.snapshots[tenant] = snapshot }
        }
        return snapshot
    }

    /// The tenant's configuration, from this process's copy when it has what `holds` asks for,
    /// else as reception has it now: an item created a moment ago (a widget embedded at once, a
    /// channel its partner uses at once) is newer than the event this process last heard.
    public func snapshot(for tenant: TenantID, holding holds: (ReceptionSnapshot) -> Bool) async throws -> ReceptionSnapshot {
        let cached = try await snapshot(for: tenant)
        return holds(cached) ? cached : try await freshSnapshot(for: tenant)
    }

    public struct WidgetKey: Decodable {
        let tenantId: TenantID
        let widgetId: UUID
    }

    /// The tenant and widget of a public widget key; nil when reception knows no such key.
    public func widget(key: String) async throws -> (TenantID, UUID)? {
        if let known = state.withLock({ $0.widgetKeys[key] }) { return known }
        guard let found: WidgetKey = try await get("/v1/platform/widget-keys/\(key)", allowingNotFound: true) else { return nil }
        // Keys never move to another widget; a deleted widget is caught when the snapshot lacks it.
        state.withLock { $0.widgetKeys[key] = (found.tenantId, found.widgetId) }
        return (found.tenantId, found.widgetId)
    }

    /// The quick reply `employee` sends by reference: one of the tenant's enterprise quick
    /// replies or their own personal one; nil when it is neither (reception decides).
    public func quickReply(_ id: UUID, tenant: TenantID, employee: UUID) async throws -> QuickReply? {
        let path = "/v1/platform/tenants/\(tenant)/quick-replies/\(id.uuidString.lowercased())?employee=\(employee.uuidString.lowercased())"
        let item: ConfigItem<QuickReply>? = try await get(path, allowingNotFound: true)
        return item?.document
    }

    struct OfficialAccountTenant: Decodable { let tenantId: TenantID }

    /// The tenant holding an official account, which WeChat's callback names alone; nil when
    /// no tenant (or, should ids ever collide, more than one) holds it. Channels never move.
    public func officialAccountTenant(_ channel: UUID) async throws -> TenantID? {
        if let known = state.withLock({ $0.officialAccounts[channel] }) { return known }
        let path = "/v1/platform/official-accounts/\(channel.uuidString.lowercased())"
        guard let found: OfficialAccountTenant = try await get(path, allowingNotFound: true) else { return nil }
        state.withLock { $0.officialAccounts[channel] = found.tenantId }
        return found.tenantId
    }

    /// A channel with its credentials in clear (reception's platform door), kept until an event
    /// announces a newer reception version for the tenant (a credential changed is a new
    /// version); nil when the tenant has no such channel.
    public func channelGateway(_ channel: UUID, tenant: TenantID) async throws -> ChannelGateway? {
        let key = ChannelKey(tenant: tenant, channel: channel)
        let (cached, wanted) = state.withLock { ($0.gateways[key], $0.announced[tenant] ?? 0) }
        if let (gateway, version) = cached, version >= wanted { return gateway }
        let path = "/v1/platform/tenants/\(tenant)/channels/\(channel.uuidString.lowercased())"
        guard let gateway: ChannelGateway = try await get(path, allowingNotFound: true) else { return nil }
        state.withLock { $0.gateways[key] = (gateway, wanted) }
        return gateway
    }

    private func get<T: Decodable>(_ path: String) async throws -> T {
        guard let value: T = try await get(path, allowingNotFound: false) else { throw Problem.receptionUnavailable }
        return value
    }

    private func get<T: Decodable>(_ path: String, allowingNotFound: Bool) async throws -> T? {
        var request = HTTPClientRequest(url: baseURL + path)
        if let platformToken { request.headers.add(name: "Authorization", value: "Bearer \(platformToken)") }
        let response: HTTPClientResponse
        do {
            // Generous: a first snapshot of a large tenant is built on demand, and a loaded
            // machine (the whole test suite at once) once took more than 5 s to answer.
            response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        } catch {
            logger.error("reception unreachable", metadata: ["url": "\(baseURL)", "error": "\(String(reflecting: error))"])
            throw Problem.receptionUnavailable
        }
        let body = try await response.body.collect(upTo: 16 << 20)
        if response.status == .notFound, allowingNotFound { return nil }
        guard response.status == .ok else {
            logger.error("reception answered \(response.status.code)", metadata: ["path": "\(path)"])
            throw Problem.receptionUnavailable
        }
        return try KefuJSON.decoder().decode(T.self, from: body)
    }
}

extension Problem {
    /// Reception could not be asked: routing cannot place a visitor without its configuration, nor
/// the customer library learn a group's members.
    public static let receptionUnavailable = Problem(
        .serviceUnavailable, code: "reception_unavailable",
        detail: "The reception configuration cannot be read right now; try again shortly.", headers: [.retryAfter: "1"]
    )
}
