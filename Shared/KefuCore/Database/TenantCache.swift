import KefuModels
import Synchronization

/// Values read from one tenant's data, each answered from memory until anything of that tenant
/// changes (`TenantChanges`) or `lifetime` passes, whichever comes first.
///
/// The lifetime bounds how stale an entry can be when this process stops hearing events (its
/// follower reconnecting after a Postgres restart); normally the tenant's next event ends it.
public final class TenantCache<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private struct EntryKey: Hashable {
        let tenant: TenantID
        let key: Key
    }
    private struct Entry {
        let reading: UInt64
        let expires: ContinuousClock.Instant
        let value: Value
    }

    let changes: TenantChanges
    let capacity: Int
    let lifetime: Duration
    private let entries = Mutex<[EntryKey: Entry]>([:])

    public init(changes: TenantChanges, capacity: Int, lifetime: Duration) {
        self.changes = changes
        self.capacity = capacity
        self.lifetime = lifetime
    }

    /// The cached value, or what `load` reads (nothing is cached when it finds nothing).
    public func value(
        _ tenant: TenantID, _ key: Key, load: () async throws -> Value?
    ) async throws -> Value? {
        let entryKey = EntryKey(tenant: tenant, key: key)
        // Read before loading: a change committing during `load` leaves the entry already stale.
        let reading = changes.reading(tenant)
        let now = ContinuousClock.now
        let cached = entries.withLock { entries -> Value? in
            guard let entry = entries[entryKey], entry.reading == reading, now < entry.expires else { return nil }
            return entry.value
        }
        if let cached { return cached }
        guard let value = try await load() else { return nil }
        entries.withLock { entries in
            // Past capacity an arbitrary entry makes room: cheap, and at worst one more read.
            if entries[entryKey] == nil, entries.count >= capacity, let victim = entries.keys.first {
                entries[victim] = nil
            }
            entries[entryKey] = Entry(reading: reading, expires: now + lifetime, value: value)
        }
        return value
    }
}
