/// The five deployable services, with the port each listens on by default.
public enum ServiceName: String, Sendable, CaseIterable {
    case accounts, reception, routing, customers, analytics

    public var defaultPort: Int {
        switch self {
        case .accounts: 8081
        case .reception: 8082
        case .routing: 8083
        case .customers: 8084
        case .analytics: 8085
        }
    }

    /// The Postgres schema the service owns and migrates (`schema/<name>/`).
    public var schema: String { rawValue }
}
