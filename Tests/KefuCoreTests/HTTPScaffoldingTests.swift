import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import KefuCore
import KefuModels
import KefuTestSupport
import Logging
import Synchronization
import Testing

/// A service made only of the scaffolding's moving parts, to test them through HTTP.
enum ProbeService: KefuServiceDefinition {
    static let name = ServiceName.routing
    static let openAPIDocument: URL? = nil

    struct Greeting: ResponseEncodable { let tenantId: TenantID; let createdAt: Date }
    struct NewThing: Decodable { let displayName: String; let owner: Owner; struct Owner: Decodable { let age: Int } }
    struct Item: ResponseEncodable { let number: Int }

    static func addRoutes(to router: Router<KefuRequestContext>, shared: ServiceResources) async throws {
        router.get("/v1/probe/roles") { _, context -> Greeting in
            let principal = try context.requirePermission(.enterpriseRoles)
            return Greeting(tenantId: principal.tenantID, createdAt: Date(timeIntervalSince1970: 1_800_000_000.25))
        }
        router.post("/v1/probe/things") { request, context -> HTTPResponse.Status in
            try context.requirePermission(.enterpriseRoles)
            let thing = try await request.decode(as: NewThing.self, context: context)
            guard thing.displayName.count <= 10 else {
                throw Problem.invalid("display_name", "must be at most 10 characters", code: "too_long")
            }
            return .created
        }
        // Postgres ends this request's connection under it, as a restart would.
        router.post("/v1/probe/terminate") { _, _ -> HTTPResponse.Status in
            try await shared.database.withTransaction { connection in
                try await connection.query("SELECT pg_terminate_backend(pg_backend_pid())", logger: shared.logger)
            }
            return .noContent
        }
        router.get("/v1/probe/ping") { _, _ -> HTTPResponse.Status in
            try await shared.database.withTransaction { connection in
                try await connection.query("SELECT 1", logger: shared.logger)
            }
            return .noContent
        }
        router.get("/v1/probe/items") { request, _ -> Page<Item> in
            let page = try PageRequest(request: request)
            let after = try page.cursor(as: Int.self) ?? 0
            let rows = (after + 1...23).prefix(page.limit + 1).map(Item.init(number:))
            return try page.page(from: Array(rows)) { $0.number }
        }
    }
}

@Suite struct HTTPScaffoldingTests {
    func withProbe(_ body: @escaping @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        let app = try await buildApplication(ProbeService.self, config: try await TestEnvironment.config(for: .routing), logger: TestEnvironment.logger)
        try await app.test(.router, body)
    }

    func json(_ response: TestResponse) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any] ?? [:]
    }

    func bearer(_ token: String) -> HTTPFields { [.authorization: "Bearer \(token)"] }


    @Test func permissionsAreCheckedPerRoute() async throws {
        let tenant = TenantID()
        let allowed = try await TestKeys.shared.token(tenant: tenant, permissions: [.enterpriseRoles])
        let other = try await TestKeys.shared.token(tenant: tenant, permissions: [.clientLogin])
        let expired = try await TestKeys.shared.token(tenant: tenant, permissions: [.enterpriseRoles], lifetime: -60)
        try await withProbe { client in
            try await client.execute(uri: "/v1/probe/roles", method: .get) { response in
                #expect(response.status == .unauthorized)
                #expect(response.headers[.wwwAuthenticate] == "Bearer")
                let body = try json(response)
                #expect(body["code"] as? String == "unauthorized")
            }
            try await client.execute(uri: "/v1/probe/roles", method: .get, headers: bearer(other)) { response in
                #expect(response.status == .forbidden)
                let body = try json(response)
                #expect(body["code"] as? String == "permission_denied")
                #expect((body["detail"] as? String)?.contains("enterprise.roles") == true)
            }
            for token in [expired, "not-a-jwt", allowed + "x"] {
                try await client.execute(uri: "/v1/probe/roles", method: .get, headers: bearer(token)) { response in
                    #expect(response.status == .unauthorized)
                }
            }
            try await client.execute(uri: "/v1/probe/roles", method: .get, headers: bearer(allowed)) { response in
                #expect(response.status == .ok)
                let body = try json(response)
                #expect(body["tenant_id"] as? String == tenant.description, "snake_case keys")
                #expect(body["created_at"] as? String == "2027-01-15T08:00:00.250Z", "RFC 3339 times")
            }
        }
    }

    @Test func aTokenSignedWithAnotherKeyIsRefused() async throws {
        let stranger = try await TokenSigner(privateKeyPEM: JWTKitKeys.newPrivateKeyPEM())
        let token = try await stranger.sign(AccessTokenClaims(
            subject: .employee(EmployeeID()), tenant: TenantID(), permissions: [.enterpriseRoles], scopes: .unrestricted, lifetime: 600
        ))
        try await withProbe { client in
            try await client.execute(uri: "/v1/probe/roles", method: .get, headers: bearer(token)) { response in
                #expect(response.status == .unauthorized)
            }
        }
    }

    @Test func badBodiesGetProblemsNamingTheField() async throws {
        let token = try await TestKeys.shared.token(tenant: TenantID(), permissions: [.enterpriseRoles])
        let headers = bearer(token).appending(.contentType, "application/json")
        let cases: [(String, HTTPResponse.Status, String, String?)] = [
            (#"{"owner": {"age": 3}}"#, .unprocessableContent, "validation_failed", "display_name"),
            (#"{"display_name": "x", "owner": {"age": "old"}}"#, .unprocessableContent, "validation_failed", "owner.age"),
            (#"{"display_name": "far too long a name", "owner": {"age": 3}}"#, .unprocessableContent, "validation_failed", "display_name"),
            (#"{"display_name": "#, .badRequest, "malformed_json", nil),
        ]
        try await withProbe { client in
            for (body, status, code, field) in cases {
                try await client.execute(uri: "/v1/probe/things", method: .post, headers: headers, body: ByteBuffer(string: body)) { response in
                    #expect(response.status == status, "\(body)")
                    #expect(response.headers[.contentType] == "application/problem+json")
                    let problem = try json(response)
                    #expect(problem["code"] as? String == code)
                    #expect(problem["status"] as? Int == Int(status.code))
                    let errors = problem["errors"] as? [[String: Any]]
                    #expect(errors?.first?["field"] as? String == field, "\(body)")
                }
            }
            try await client.execute(
                uri: "/v1/probe/things", method: .post, headers: headers,
                body: ByteBuffer(string: #"{"display_name": "ok", "owner": {"age": 3}}"#)
            ) { response in
                #expect(response.status == .created)
            }
            let xml = bearer(token).appending(.contentType, "application/xml")
            try await client.execute(uri: "/v1/probe/things", method: .post, headers: xml, body: ByteBuffer(string: "<a/>")) { response in
                #expect(response.status == .unsupportedMediaType)
            }
        }
    }

    @Test func cursorPaginationWalksEveryRowOnce() async throws {
        try await withProbe { client in
            var seen: [Int] = []
            var cursor: String? = nil
            repeat {
                let uri = "/v1/probe/items?limit=10" + (cursor.map { "&cursor=\($0)" } ?? "")
                cursor = try await client.execute(uri: uri, method: .get) { response in
                    #expect(response.status == .ok)
                    let body = try json(response)
                    seen += (body["data"] as? [[String: Any]] ?? []).compactMap { $0["number"] as? Int }
                    #expect(body.keys.contains("next_cursor"))
                    return body["next_cursor"] as? String
                }
            } while cursor != nil
            #expect(seen == Array(1...23))
            for bad in ["limit=0", "limit=201", "limit=ten", "cursor=%21%21"] {
                try await client.execute(uri: "/v1/probe/items?\(bad)", method: .get) { response in
                    #expect(response.status == .unprocessableContent, "\(bad)")
                }
            }
        }
    }

    /// A connection lost mid-request is a 503 the client may retry, not a 500; the next
    /// transaction works (one that cannot begin on a dead connection is retried on another).
    @Test func aLostDatabaseConnectionIs503AndThePoolRecovers() async throws {
        try await withProbe { client in
            for _ in 0..<10 {
                try await client.execute(uri: "/v1/probe/terminate", method: .post) { response in
                    #expect(response.status == .serviceUnavailable)
                    #expect((try? json(response))?["code"] as? String == "database_unavailable")
                    #expect(response.headers[.retryAfter] == "1")
                }
                try await client.execute(uri: "/v1/probe/ping", method: .get) { response in
                    #expect(response.status == .noContent)
                }
            }
        }
    }

    @Test func aKnownPathWithAnotherMethodIs405WithAllow() async throws {
        try await withProbe { client in
            try await client.execute(uri: "/v1/probe/things", method: .delete) { response in
                #expect(response.status == .methodNotAllowed)
                #expect(response.headers[.allow] == "POST")
                #expect(response.headers[.contentType] == "application/problem+json")
            }
            try await client.execute(uri: "/healthz", method: .post) { response in
                #expect(response.status == .methodNotAllowed && response.headers[.allow] == "GET")
            }
            try await client.execute(uri: "/v1/probe/nothing", method: .delete) { response in
                #expect(response.status == .notFound)
            }
        }
    }

    /// One access-log line per request, errors included, naming the caller once authentication
    /// knew it (the access log runs outside authentication).
    @Test func theAccessLogNamesTheAuthenticatedCaller() async throws {
        let (tenant, employee) = (TenantID(), EmployeeID())
        let allowed = try await TestKeys.shared.token(tenant: tenant, employee: employee, permissions: [.enterpriseRoles])
        let forbidden = try await TestKeys.shared.token(tenant: tenant, employee: employee, permissions: [.clientLogin])
        let lines = AccessLines()
        var config = try await TestEnvironment.config(for: .routing)
        config.logLevel = .info
        let logger = Logger(label: "kefu-test-access") { _ in AccessLogCapture(lines: lines) }
        let app = try await buildApplication(ProbeService.self, config: config, logger: logger)
        let cases: [(String, HTTPFields, HTTPResponse.Status, String)] = [
            ("/v1/probe/roles", bearer(allowed), .ok, "employee:\(employee)@\(tenant)"),
            ("/v1/probe/roles", bearer(forbidden), .forbidden, "employee:\(employee)@\(tenant)"),
            ("/v1/probe/roles", bearer("not-a-jwt"), .unauthorized, "-"),
            ("/v1/probe/roles", [:], .unauthorized, "-"),
            ("/v1/probe/items", bearer(TestEnvironment.platformToken), .ok, "platform"),
        ]
        try await app.test(.router) { client in
            for (index, (uri, headers, status, principal)) in cases.enumerated() {
                var headers = headers
                headers[.requestID] = "access-\(index)"
                try await client.execute(uri: uri, method: .get, headers: headers) { #expect($0.status == status) }
                let logged = lines.all.filter { $0["request_id"] == "access-\(index)" }
                #expect(logged.count == 1, "one line per request: \(logged)")
                #expect(logged.first?["principal"] == principal, "\(uri) \(status)")
                #expect(logged.first?["status"] == "\(status.code)")
            }
        }
    }

    @Test func requestIDsAreEchoedOrMade() async throws {
        try await withProbe { client in
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect((response.headers[.init("X-Request-Id")!]?.count ?? 0) == 36)
            }
            try await client.execute(uri: "/nowhere", method: .get, headers: [.init("X-Request-Id")!: "abc-123"]) { response in
                #expect(response.status == .notFound)
                #expect(response.headers[.init("X-Request-Id")!] == "abc-123")
            }
            // A header that could forge log lines is replaced, not echoed.
            try await client.execute(uri: "/healthz", method: .get, headers: [.init("X-Request-Id")!: "a b"]) { response in
                #expect(response.headers[.init("X-Request-Id")!] != "a b")
            }
        }
    }
}

/// The access-log lines a test's service wrote, as their metadata printed.
final class AccessLines: Sendable {
    private let lines = Mutex<[[String: String]]>([])
    var all: [[String: String]] { lines.withLock { $0 } }
    func append(_ line: [String: String]) { lines.withLock { $0.append(line) } }
}

struct AccessLogCapture: LogHandler {
    let lines: AccessLines
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        guard event.message.description == "request" else { return }
        lines.append(metadata.merging(event.metadata ?? [:]) { $1 }.mapValues { "\($0)" })
    }
}

extension HTTPFields {
    func appending(_ name: HTTPField.Name, _ value: String) -> HTTPFields {
        var fields = self
        fields[name] = value
        return fields
    }
}

/// Revocations reach every service through the outbox, whoever published them.
@Suite struct RevocationTests {
    @Test func credentialEventsEndTokensInAnyService() async throws {
        let tenant = TenantID()
        let (employee, other) = (EmployeeID(), EmployeeID())
        let token = try await TestKeys.shared.token(tenant: tenant, employee: employee, permissions: [.enterpriseRoles])
        let otherToken = try await TestKeys.shared.token(tenant: tenant, employee: other, permissions: [.enterpriseRoles])
        let app = try await buildApplication(ProbeService.self, config: try await TestEnvironment.config(for: .routing), logger: TestEnvironment.logger)
        try await app.test(.router) { client in
            func status(_ token: String) async throws -> HTTPResponse.Status {
                try await client.execute(uri: "/v1/probe/roles", method: .get, headers: [.authorization: "Bearer \(token)"]) { $0.status }
            }
            #expect(try await status(token) == .ok)
            try await TestEnvironment.withDatabase { database in
                try await database.withTenant(tenant) { tx in
                    try await tx.publish(EmployeeCredentialsRevoked(employeeId: employee, reason: "disabled", revokedAt: Date()))
                }
            }
            var revoked = false
            for _ in 0..<100 where !revoked {
                revoked = try await status(token) == .unauthorized
                if !revoked { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(revoked, "the employee's token stops working")
            #expect(try await status(otherToken) == .ok, "a colleague's does not")
            // A token issued after the revocation works again.
            let fresh = try await TestKeys.shared.token(tenant: tenant, employee: employee, permissions: [.enterpriseRoles])
            #expect(try await status(fresh) == .ok)

            try await TestEnvironment.withDatabase { database in
                try await database.withTenant(tenant) { tx in try await tx.publish(TenantSuspended(tenantId: tenant)) }
            }
            var suspended = false
            for _ in 0..<100 where !suspended {
                suspended = try await status(otherToken) == .unauthorized
                if !suspended { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(suspended, "a suspended tenant's tokens stop working")
        }
    }
}
