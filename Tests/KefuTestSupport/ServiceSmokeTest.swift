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
        try await client.execute(uri: "/openapi.json", method: .get) { response in
            #expect(response.status == .ok)
            let document = try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any]
            #expect(document?["openapi"] as? String == "3.1.0")
        }
        try await client.execute(uri: "/no/such/route", method: .get) { response in
            #expect(response.status == .notFound)
            #expect(response.headers[.contentType] == "application/problem+json")
        }
    }
}

/// The service's OpenAPI document is served, is OpenAPI 3.1, and documents exactly the routes the
/// router has (method and path), no more and no fewer.
public func verifyOpenAPIDocumentMatchesRoutes<S: KefuServiceDefinition>(_ service: S.Type) async throws {
    let config = try await TestEnvironment.config(for: S.name)
    let resources = try await ServiceResources.make(service: S.name, config: config, logger: TestEnvironment.logger)
    let router = try await buildRouter(
        S.self, shared: try await S.makeShared(resources: resources), resources: resources, migrated: MigrationState()
    )
    let routes = Set(router.routes.map { route in
        let path = route.path.components.map { component in
            let text = component.description
            return text.hasPrefix(":") ? "{\(text.dropFirst())}" : text
        }
        return "\(route.method.rawValue) /\(path.joined(separator: "/"))"
    })
    let url = try #require(S.openAPIDocument, "the service ships an openapi.json resource")
    let document = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
    #expect(document["openapi"] as? String == "3.1.0")
    let paths = document["paths"] as? [String: [String: Any]] ?? [:]
    let methods: Set<String> = ["get", "put", "post", "delete", "patch", "head", "options"]
    let documented = Set(paths.flatMap { path, operations in
        operations.keys.filter(methods.contains).map { "\($0.uppercased()) \(path)" }
    })
    #expect(routes.subtracting(documented).sorted() == [], "routes missing from openapi.json")
    #expect(documented.subtracting(routes).sorted() == [], "openapi.json documents routes that do not exist")
}
