import KefuModels
import NIOCore
@testable import Reception
import Testing

@Suite struct SnapshotCacheTests {
    @Test func servesOnlyTheNewestAnnouncedVersionWhenItIsNewEnough() {
        let cache = SnapshotCache()
        let tenant = TenantID()
        let v3 = ByteBuffer(string: "v3")
        cache.put(tenant, version: 3, body: v3)
        #expect(cache.newest(tenant, atLeast: 0) == nil, "nothing announced yet: ask the database")
        cache.announce(tenant, version: 3)
        #expect(cache.newest(tenant, atLeast: 3)?.1 == v3)
        #expect(cache.newest(tenant, atLeast: 4) == nil, "older than asked")
        cache.announce(tenant, version: 4)
        #expect(cache.newest(tenant, atLeast: 3) == nil, "a newer version exists than the one cached")
        cache.announce(tenant, version: 2)
        cache.put(tenant, version: 4, body: ByteBuffer(string: "v4"))
        #expect(cache.newest(tenant, atLeast: 0)?.0 == 4, "announcements never go back")
        cache.put(tenant, version: 3, body: v3)
        #expect(cache.get(tenant, version: 4) != nil, "an older body never replaces a newer one")
        #expect(cache.newest(TenantID(), atLeast: 0) == nil)
    }
}
