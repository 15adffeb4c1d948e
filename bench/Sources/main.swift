// kefu-bench: load generators for `make bench` (see scripts/bench.sh, which runs the baselines).
//
//   kefu-bench publish --clients N --seconds S --database-url URL --tenant UUID
//     Each client loops over one tenant transaction: insert a row, publish an event about it
//     through KefuCore (outbox + NOTIFY trigger). Prints `publish_tx_per_second=<rate>`.
//   kefu-bench rules --rules N
//     Evaluates N compiled rules (the condition language) for one visitor, as routing will for
//     every incoming conversation. Prints `rules_evaluation_microseconds=<mean>`.
//   kefu-bench bcrypt --cost C --seconds S
//     Verifies a cost-C bcrypt hash on every core, as a sign-in does. Prints `bcrypt_verifies_per_second=<rate>`.
//   kefu-bench webhook-receiver --port P
//     Answers every POST 204 (the receiver of the webhook bench, WebhookBench.swift).
//   kefu-bench webhook-posts --url URL --count N --concurrency C
//     N signed webhook POSTs from a bare HTTP client, C at a time. Prints `webhook_posts_per_second=`.
//   kefu-bench token --private-key-file PEM --tenant UUID --employee UUID
//     Prints an access token of that employee with every permission and scope (BenchToken.swift).
//   kefu-bench seed-reception --url URL --database-url URL --private-key-file PEM
//     Creates a tenant's reception configuration (20 channels, 50 widgets, 30 groups, 200 rules)
//     through a running reception service (ReceptionSeed.swift). Prints `reception_tenant=`,
//     `reception_token=`, `reception_snapshot_bytes=`, `reception_snapshot_first_read_milliseconds=`.
import Foundation
import KefuCore
import KefuModels
import Logging
import PostgresNIO
import HummingbirdBcrypt
import NIOPosix

struct BenchItemCreated: KefuEvent {
    static let eventType = "bench.item_created"
    let itemId: Int64
}

func option(_ name: String, _ fallback: String) -> String {
    let arguments = CommandLine.arguments
    guard let index = arguments.firstIndex(of: "--\(name)"), index + 1 < arguments.count else { return fallback }
    return arguments[index + 1]
}

KefuServiceMain.useEventLoopsAsGlobalExecutor()

let command = CommandLine.arguments.dropFirst().first
if command == "rules" {
    rulesBenchmark(count: Int(option("rules", "200")) ?? 200)
    exit(0)
}
if command == "bcrypt" {
    try await bcryptBenchmark(cost: UInt8(option("cost", "12")) ?? 12, seconds: Double(option("seconds", "10")) ?? 10)
    exit(0)
}
if command == "webhook-receiver" {
    try await webhookReceiver(port: Int(option("port", "18089")) ?? 18089)
    exit(0)
}
if command == "webhook-posts" {
    do {
        try await webhookPosts(
            url: option("url", "http://127.0.0.1:18089/hook"), count: Int(option("count", "2000")) ?? 2000,
            concurrency: Int(option("concurrency", "4")) ?? 4
        )
    } catch {
        FileHandle.standardError.write(Data("webhook-posts: \(error)\n".utf8))
        exit(1)
    }
    exit(0)
}
if command == "seed-reception" {
    do {
        try await seedReception(
            url: option("url", "http://127.0.0.1:8082"),
            databaseURL: option("database-url", "postgres://kefu_app:kefu_app@127.0.0.1:5435/kefu"),
            privateKeyFile: option("private-key-file", ".data/keys/jwt-es256.pem")
        )
    } catch {
        FileHandle.standardError.write(Data("seed-reception: \(error)\n".utf8))
        exit(1)
    }
    exit(0)
}
if command == "token" {
    do {
        try await printBenchToken(
            privateKeyFile: option("private-key-file", ".data/keys/jwt-es256.pem"), tenant: option("tenant", ""), employee: option("employee", "")
        )
    } catch {
        FileHandle.standardError.write(Data("token: \(error)\n".utf8))
        exit(1)
    }
    exit(0)
}
if command == "routing" {
    do {
        try await routingBenchmark(
            routingURLs: option("routing-urls", "http://127.0.0.1:18083").split(separator: ",").map(String.init),
            receptionURL: option("reception-url", "http://127.0.0.1:18082"),
            databaseURL: option("database-url", "postgres://kefu_app:kefu_app@127.0.0.1:5435/kefu"),
            privateKeyFile: option("private-key-file", ".data/keys/jwt-es256.pem"),
            agentCount: Int(option("agents", "50")) ?? 50, visitorCount: Int(option("visitors", "1000")) ?? 1000,
            limit: Int(option("limit", "3")) ?? 3, clients: Int(option("clients", "32")) ?? 32,
            ingestConversations: Int(option("ingest-conversations", "64")) ?? 64,
            luaFile: option("lua", "/tmp/kefu-ingest.lua"), pgbenchFile: option("pgbench", "/tmp/kefu-ingest.pgbench"),
            pgbenchClients: Int(option("pgbench-clients", "8")) ?? 8,
            latencyConversations: Int(option("latency-conversations", "60")) ?? 60,
            latencyRate: Int(option("latency-rate", "500")) ?? 500, latencySeconds: Double(option("latency-seconds", "10")) ?? 10
        )
    } catch {
        FileHandle.standardError.write(Data("routing: \(error)\n".utf8))
        exit(1)
    }
    exit(0)
}
guard command == "publish" else {
    print("""
        usage: kefu-bench publish --clients N --seconds S --database-url URL --tenant UUID
               kefu-bench rules --rules N
               kefu-bench bcrypt --cost C --seconds S
               kefu-bench seed-reception --url URL --database-url URL --private-key-file PEM
        """)
    exit(64)
}
let clients = Int(option("clients", "4")) ?? 4
let seconds = Double(option("seconds", "10")) ?? 10
let tenant = TenantID(option("tenant", "")) ?? TenantID()
var logger = Logger(label: "kefu-bench")
logger.logLevel = .warning
let database = Database(
    url: try DatabaseURL(option("database-url", "postgres://kefu_app:kefu_app@127.0.0.1:5435/kefu")),
    poolSize: clients, applicationName: "kefu-bench", logger: logger
)

/// The business row of the transaction, prepared like KefuCore's own statements.
struct InsertItem: PostgresPreparedStatement {
    static let sql = "INSERT INTO bench.items (tenant_id, body) VALUES ($1, 'hello') RETURNING id"
    typealias Row = Int64
    let tenant: UUID
    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 1)
        bindings.append(tenant)
        return bindings
    }
    func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Int64.self) }
}

/// One transaction: the same statements as bench/publish.pgbench.
@Sendable func publishOnce() async throws {
    try await database.withTenant(tenant) { tx in
        var itemID: Int64 = 0
        for try await id in try await tx.connection.execute(InsertItem(tenant: tenant.uuid), logger: tx.logger) { itemID = id }
        try await tx.publish(BenchItemCreated(itemId: itemID))
    }
}

/// Runs `clients` loops for `duration`; returns transactions completed.
func load(for duration: Duration) async throws -> Int {
    let deadline = ContinuousClock.now + duration
    return try await withThrowingTaskGroup(of: Int.self) { group in
        for _ in 0..<clients {
            group.addTask {
                var count = 0
                while ContinuousClock.now < deadline {
                    try await publishOnce()
                    count += 1
                }
                return count
            }
        }
        return try await group.reduce(0, +)
    }
}

try await withThrowingTaskGroup(of: Void.self) { group in
    group.addTask { await database.client.run() }
    _ = try await load(for: .seconds(2))  // warm-up: connections open, plans cached
    let start = ContinuousClock.now
    let count = try await load(for: .milliseconds(Int(seconds * 1000)))
    let elapsed = ContinuousClock.now - start
    let rate = Double(count) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
    print(String(format: "publish_tx_per_second=%.1f", rate))
    group.cancelAll()
}

/// The raw cost of a password check: verifies on NIO's blocking pool (one thread per core), the
/// way accounts runs them.
func bcryptBenchmark(cost: UInt8, seconds: Double) async throws {
    let hash = Bcrypt.hash("Demo12345", cost: cost)
    let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
    let start = ContinuousClock.now
    let count = try await withThrowingTaskGroup(of: Int.self) { group in
        for _ in 0..<System.coreCount {
            group.addTask {
                var count = 0
                while ContinuousClock.now < deadline {
                    _ = try await NIOThreadPool.singleton.runIfActive { Bcrypt.verify("Demo12345", hash: hash) }
                    count += 1
                }
                return count
            }
        }
        return try await group.reduce(0, +)
    }
    let elapsed = ContinuousClock.now - start
    print(String(format: "bcrypt_verifies_per_second=%.2f", Double(count) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)))
}

/// Realistic rules: two to four conditions over text, tags, numbers and the visit time.
func rulesBenchmark(count: Int) {
    let catalogue = FieldCatalogue.with(customFields: [FieldDefinition(key: "level", type: .singleChoice, choices: ["gold", "silver"])])
    let rules: [CompiledConditions] = (0..<count).map { index in
        var conditions = [
            Condition(field: "visitor.region", op: .equals, value: .string("region-\(index % 30)")),
            Condition(field: "customer.tags", op: .containsAny, value: .list([.string("tag-\(index % 17)"), .string("vip")])),
        ]
        if index % 2 == 0 { conditions.append(Condition(field: "visitor.visit_count", op: .greaterOrEqual, value: .number(Double(index % 5)))) }
        if index % 3 == 0 { conditions.append(Condition(field: "visitor.visit_time", op: .between, value: .list([.string("09:00"), .string("18:00")]))) }
        return try! catalogue.compile(ConditionSet(join: index % 4 == 0 ? .any : .all, conditions: conditions))
    }
    var facts = ConditionFacts(catalogue: catalogue)
    facts.set("visitor.region", .text("Region-29"))
    facts.set("customer.tags", .set(["returning", "tag-3"]))
    facts.set("visitor.visit_count", .number(4))
    facts.set("visitor.visit_time", .timeOfDay(14 * 60))
    facts.set("custom.level", .text("gold"))
    var matched = 0
    let rounds = 20_000
    let start = ContinuousClock.now
    for _ in 0..<rounds {
        // Every rule, as the dry run and analytics need; assignment stops at the first match.
        for rule in rules where rule.matches(facts) { matched += 1 }
    }
    let elapsed = ContinuousClock.now - start
    let micros = (Double(elapsed.components.seconds) * 1e6 + Double(elapsed.components.attoseconds) / 1e12) / Double(rounds)
    print(String(format: "rules_evaluation_microseconds=%.2f", micros))
    print("rules_matched_per_round=\(matched / rounds)")
}
