import Foundation
import Hummingbird
import HummingbirdTesting
import KefuCore
import Testing

/// The checks every service passes: it migrates, serves `/healthz`, `/readyz` and `/metrics`, and
/// echoes request ids. Each service's test target calls this once.
public func verifyServesOperationalRoutes<S: KefuServiceDefinition>(_ service: S.Type) async throws {
    let app = try await buildApplication(S.self, config: try await TestEnvironment.config(for: S.name), logger: TestEnvironment.logger)
    try await app.test(.router) { client in
        try await client.execute(uri: "/healthz", method: .get, headers: [.init("X-Request-Id")!: "probe-1"]) { response in
            #expect(response.status == .ok)
            #expect(response.headers[.init("X-Request-Id")!] == "probe-1")
            let body = try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: String]
            #expect(body == ["status": "ok", "service": S.name.rawValue])
        }
        try await client.execute(uri: "/readyz", method: .get) { response in
            #expect(response.status == .ok)
        }
        try await client.execute(uri: "/metrics", method: .get) { response in
            #expect(response.status == .ok)
            let text = String(buffer: response.body)
            #expect(text.contains("kefu_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 1"))
            #expect(text.contains("kefu_http_request_duration_seconds_bucket"))
        }
        try await client.execute(uri: "/no/such/route", method: .get) { response in
            #expect(response.status == .notFound)
            #expect(response.headers[.contentType] == "application/problem+json")
        }
    }
}
