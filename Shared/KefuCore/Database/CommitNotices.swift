import Synchronization

/// The NOTIFYs a transaction sends once it has committed: event wake-ups (`publish`) and
/// services' own notices (routing's realtime). They go out after COMMIT, as one statement of
/// their own on the same connection, never inside the transaction: Postgres takes a cluster-wide
/// lock at the commit of a transaction that notified and holds it through the commit's WAL
/// flush, so notifying transactions cannot share a flush — measured here, in-transaction NOTIFY
/// cut a write's throughput by half or more. A process that dies between the COMMIT and the
/// NOTIFY loses only the wake-up: consumers still find the events on their next poll, and
/// routing's sockets on their next notice or reconnect.
public final class CommitNotices: Sendable {
    private struct Notice: Hashable {
        let channel: String
        let payload: String
    }
    private let notices = Mutex<[Notice]>([])

    init() {}

    /// NOTIFY `channel` with `payload` if and when the transaction commits (duplicates are sent once).
    public func notify(_ channel: String, _ payload: String) {
        notices.withLock { list in
            let notice = Notice(channel: channel, payload: payload)
            if !list.contains(notice) { list.append(notice) }
        }
    }

    /// Whether the transaction published an event (told to `TenantChanges` once it commits).
    var published: Bool {
        notices.withLock { $0.contains { $0.channel == EventConsumer.channel } }
    }

    /// The channels and payloads to send, in the order they were added.
    var pending: (channels: [String], payloads: [String]) {
        notices.withLock { ($0.map(\.channel), $0.map(\.payload)) }
    }
}
