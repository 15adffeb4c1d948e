import Foundation
import Hummingbird
import KefuCore
import KefuModels
import NIOCore
import Synchronization

/// `GET /v1/reception/snapshot`: the whole configuration a routing replica needs, with the
/// version it was read at. Routing calls it with the platform token and `?tenant_id=`; a tenant's
/// own admins (reception.settings) may read theirs.
///
/// Without `min_version` the version is read from the database (read-your-writes). With it (routing
/// sends the version of the `reception.config_changed` event it reacts to), a cached snapshot of
/// the newest version this process has heard of answers at once when that is new enough.
struct SnapshotController {
    let reception: Reception

    func addRoutes(to router: Router<KefuRequestContext>) {
        router.get("/v1/reception/snapshot", use: snapshot)
    }

    @Sendable func snapshot(request: Request, context: KefuRequestContext) async throws -> Response {
        let tenant = try Self.tenant(request: request, context: context)
        let minimum = try Self.minimumVersion(request)
        let (version, body) = if let fresh = fromMemory(tenant, minimum) { fresh } else { try await fromDatabase(tenant) }
        let etag = "\"\(version)\""
        if request.headers[.ifNoneMatch] == etag {
            return Response(status: .notModified, headers: [.eTag: etag])
        }
        return Response(status: .ok, headers: [.contentType: "application/json", .eTag: etag], body: .init(byteBuffer: body))
    }

    func fromDatabase(_ tenant: TenantID) async throws -> (Int64, ByteBuffer) {
        try await reception.database.withTenant(tenant) { tx in
            // The version is read first: the items read after it are at least that new, so a
            // replica never believes stale data is current.
            let version = try await tx.configVersion()
            if let cached = reception.snapshots.get(tenant, version: version) { return (version, cached) }
            var snapshot = try await tx.snapshot()
            snapshot.version = version
            let body = ByteBuffer(data: try KefuJSON.encoder().encode(snapshot))
            reception.snapshots.put(tenant, version: version, body: body)
            return (version, body)
        }
    }

    func fromMemory(_ tenant: TenantID, _ minimum: Int64?) -> (Int64, ByteBuffer)? {
        guard let minimum else { return nil }
        return reception.snapshots.newest(tenant, atLeast: minimum)
    }

    static func minimumVersion(_ request: Request) throws -> Int64? {
        guard let raw = request.uri.queryParameters["min_version"] else { return nil }
        guard let version = Int64(String(raw)), version >= 0 else {
            throw Problem.invalid("min_version", "must be a version number (an integer from 0)")
        }
        return version
    }

    static func tenant(request: Request, context: KefuRequestContext) throws -> TenantID {
        if context.isPlatformOperator {
            guard let raw = request.uri.queryParameters["tenant_id"], let tenant = TenantID(String(raw)) else {
                throw Problem.invalid("tenant_id", "is required with the platform token: the tenant whose snapshot to read", code: "required")
            }
            return tenant
        }
        return try context.requirePermission(.receptionSettings).tenantID
    }
}

/// Encoded snapshots by tenant, kept while their version is current: replicas re-read the
/// snapshot on every change event, and all of them after the same change get the same bytes.
final class SnapshotCache: Sendable {
    /// Enough for every active tenant of a large deployment; past it, an arbitrary entry makes room.
    static let capacity = 2048
    private let entries = Mutex<[TenantID: (version: Int64, body: ByteBuffer)]>([:])
    /// The newest version of each tenant announced by `reception.config_changed` in this process.
    private let announced = Mutex<[TenantID: Int64]>([:])

    func announce(_ tenant: TenantID, version: Int64) {
        announced.withLock { versions in
            if versions[tenant] == nil, versions.count >= Self.capacity * 4 { versions.removeAll() }
            versions[tenant] = max(versions[tenant] ?? 0, version)
        }
    }

    /// The cached snapshot, when it is of the newest announced version and at least `minimum`.
    func newest(_ tenant: TenantID, atLeast minimum: Int64) -> (Int64, ByteBuffer)? {
        guard let newest = announced.withLock({ $0[tenant] }), newest >= minimum,
              let body = get(tenant, version: newest) else { return nil }
        return (newest, body)
    }

    func get(_ tenant: TenantID, version: Int64) -> ByteBuffer? {
        entries.withLock { entries in
            guard let entry = entries[tenant], entry.version == version else { return nil }
            return entry.body
        }
    }

    func put(_ tenant: TenantID, version: Int64, body: ByteBuffer) {
        entries.withLock { entries in
            if let current = entries[tenant], current.version > version { return }
            if entries[tenant] == nil, entries.count >= Self.capacity, let victim = entries.keys.first {
                entries[victim] = nil
            }
            entries[tenant] = (version, body)
        }
    }
}

extension TenantTransaction {
    /// Every part of the configuration, as stored now (the caller sets the version).
    func snapshot() async throws -> ReceptionSnapshot {
        var channels = try await items(.channel, as: Channel.self)
        for index in channels.indices { channels[index].document.credentials = nil }
        return ReceptionSnapshot(
            version: 0,
            channels: channels,
            autoReplies: try await settings(prefixed: "auto_reply:", as: ChannelAutoReply.self).compactMap { key, reply in
                UUID(uuidString: key).map { ChannelAutoReplies(channelId: $0, autoReply: reply) }
            },
            materials: try await items(.material, as: Material.self),
            widgets: try await items(.widget, as: Widget.self),
            groups: try await items(.group, as: ReceptionGroup.self),
            guideRules: try await items(.guideRule, as: GuideRule.self),
            assignmentRules: try await items(.assignmentRule, as: AssignmentRule.self),
            fallback: try await setting(FallbackPolicy.key, as: FallbackPolicy.self)?.0 ?? .defaults,
            assignment: try await setting(AssignmentSettings.key, as: AssignmentSettings.self)?.0 ?? .defaults,
            conversation: try await setting(ConversationSettings.key, as: ConversationSettings.self)?.0 ?? .defaults,
            engagement: try await setting(EngagementSettings.key, as: EngagementSettings.self)?.0 ?? .defaults,
            satisfaction: try await setting(SatisfactionSurvey.key, as: SatisfactionSurvey.self)?.0 ?? .defaults,
            customFields: try await customFields()
        )
    }
}
