import Hummingbird
import Prometheus

/// Counts requests and records their latency per route template (not per raw path, which would
/// explode the label space), exported at `/metrics`.
public struct HTTPMetricsMiddleware: RouterMiddleware {
    public typealias Context = KefuRequestContext

    static let buckets: [Duration] = [
        .microseconds(500), .milliseconds(1), .milliseconds(2.5), .milliseconds(5), .milliseconds(10),
        .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
        .seconds(1), .seconds(2.5), .seconds(5),
    ]

    let registry: PrometheusCollectorRegistry

    static var requests: MetricNameDescriptor {
        MetricNameDescriptor(namespace: "kefu", subsystem: "http", metricName: "requests", unitName: "total", helpText: "HTTP requests answered")
    }
    static var duration: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "kefu", subsystem: "http", metricName: "request_duration", unitName: "seconds", helpText: "Time to answer an HTTP request"
        )
    }

    public init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let response = try await next(request, context)
        let route = context.endpointPath ?? "unmatched"
        let method = request.method.rawValue
        registry.makeCounter(
            descriptor: Self.requests, labels: [("method", method), ("route", route), ("status", String(response.status.code))]
        ).increment()
        registry.makeDurationHistogram(
            descriptor: Self.duration, labels: [("method", method), ("route", route)], buckets: Self.buckets
        ).record(ContinuousClock.now - start)
        return response
    }
}
