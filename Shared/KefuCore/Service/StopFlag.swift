import Synchronization

/// Set once when a background service is asked to stop gracefully: its loops finish the work in
/// hand and take no more (cancellation, by contrast, abandons that work).
public final class StopFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    public init() {}
    public var isSet: Bool { flag.load(ordering: .acquiring) }
    public func set() { flag.store(true, ordering: .releasing) }
}
