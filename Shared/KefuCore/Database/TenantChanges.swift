import KefuModels
import Synchronization

/// A per-tenant reading that moves whenever one of the tenant's events commits: right after the
/// commit in the process that published it, and when the event reaches any other process through
/// its event follower. Every write of tenant data publishes an event, so a cache of tenant data
/// that remembers the reading it was filled at knows it is stale once the reading has moved.
///
/// In the writing process this is read-your-writes (the reading moves before the write's response
/// is sent); other processes follow within the event delivery delay, like the revocation list.
public final class TenantChanges: Sendable {
    private struct State {
        var clock: UInt64 = 0
        var tenants: [TenantID: UInt64] = [:]
    }
    private let state = Mutex(State())

    public init() {}

    /// The reading for `tenant`; equal readings mean nothing of the tenant committed in between.
    public func reading(_ tenant: TenantID) -> UInt64 {
        state.withLock { $0.tenants[tenant] ?? 0 }
    }

    /// Something of `tenant` committed.
    public func changed(_ tenant: TenantID) {
        state.withLock { state in
            state.clock += 1
            state.tenants[tenant] = state.clock
        }
    }
}

