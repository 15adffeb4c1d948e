import Synchronization

/// Who a request turned out to be, for the access log. Contexts are values: middleware outside
/// authentication holds a copy made before the principal was known, so the principal reaches it
/// through this reference, which every copy of one request's context shares.
public final class RequestCaller: Sendable {
    private let value = Mutex<String?>(nil)

    init() {}

    /// `employee:<id>@<tenant>`, `api_key:<id>@<tenant>`, `platform`, or nil while unauthenticated.
    public var description: String? { value.withLock { $0 } }

    func record(_ description: String?) { value.withLock { $0 = description } }
}
