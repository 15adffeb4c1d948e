// kefu-bench seed-reception: the reception snapshot benchmark's data set, made through the
// public API of a running reception service (scripts/bench.sh then loads the snapshot with wrk).
import Foundation
import AsyncHTTPClient
import NIOCore
import KefuCore
import KefuModels
import Logging

/// A fresh tenant with 40 active agents (published as accounts' `employee.created` events and
/// projected by reception), then through `url`: 20 channels (10 web, 10 WeChat official
/// accounts), 30 groups, 50 widgets, 100 guide rules and 100 assignment rules, each shaped
/// like a real tenant's. Reads the snapshot once and checks it holds exactly that.
///
/// Prints `reception_tenant=`, `reception_token=` (an access token of the tenant holding every
/// reception permission, signed with accounts' key), `reception_snapshot_bytes=` and
/// `reception_snapshot_first_read_milliseconds=` (the first read encodes and caches the snapshot).
func seedReception(url: String, databaseURL: String, privateKeyFile: String, agentCount: Int = 40) async throws {
    let tenant = TenantID()
    var logger = Logger(label: "kefu-bench")
    logger.logLevel = .warning
    let database = Database(url: try DatabaseURL(databaseURL), poolSize: 1, applicationName: "kefu-bench", logger: logger)
    let agents = (0..<agentCount).map { _ in EmployeeID() }

    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { await database.client.run() }
        defer { group.cancelAll() }
        try await publishAgents(agents, tenant: tenant, database: database)
        // Reception's durable consumer projects them into reception.agents.
        try await waitUntilProjected(agentCount, table: "reception.agents", where: "status = 'active'", tenant: tenant, database: database)
    }

    let signer = try await TokenSigner(privateKeyPEM: try String(contentsOfFile: privateKeyFile, encoding: .utf8))
    let token = try await signer.sign(AccessTokenClaims(
        subject: .employee(agents[0]), tenant: tenant,
        permissions: [.receptionChannels, .receptionWidgets, .receptionGroups, .receptionGuideRules,
                      .receptionAssignmentRules, .receptionQuickReplies, .receptionSatisfaction, .receptionQueue, .receptionSettings],
        scopes: .unrestricted, lifetime: 4 * 3600
    ))
    let api = BenchAPI(base: url, token: token)

    for index in 0..<20 {
        let channel = index < 10
            ? Channel(name: "Website \(index + 1)", type: .web)
            : Channel(name: "Official account \(index - 9)", type: .wechatOfficialAccount, credentials: [
                "app_id": "wx\(RandomToken.make(bytes: 8))", "app_secret": RandomToken.make(bytes: 16),
                "token": RandomToken.make(bytes: 12),
                "encoding_aes_key": String(Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString().dropLast()),
            ])
        _ = try await api.create("/v1/channels", channel)
    }

    var groups: [UUID] = []
    for index in 0..<30 {
        // Six to ten members each, overlapping, as agents belong to several groups.
        let members = (0..<(6 + index % 5)).map { agents[(index * 3 + $0) % agentCount].uuid }
        groups.append(try await api.create("/v1/groups", ReceptionGroup(
            name: "Group \(index + 1)", memberIds: members, perAgentLimit: 5 + index % 6,
            queue: QueuePolicy(enabled: true, maxLength: 20 + index, maxWaitSeconds: 300 + 30 * index)
        )))
    }

    for index in 0..<50 {
        let reception: WidgetReception = switch index % 4 {
        case 0: WidgetReception(mode: .selfService, navigation: (0..<3).map {
            NavigationOption(label: ["Sales", "After-sales", "Billing"][$0], groupId: groups[(index + $0) % groups.count])
        })
        case 1: WidgetReception(mode: .group, groupId: groups[index % groups.count])
        case 2: WidgetReception(mode: .agent, agentId: agents[index % agentCount].uuid)
        default: WidgetReception(mode: .rules)
        }
        _ = try await api.create("/v1/widgets", Widget(
            name: String(format: "widget-%02d", index + 1), style: index % 3 == 0 ? .link : .icon,
            colour: String(format: "#%06x", (index * 0x2F4A1B) & 0xFFFFFF),
            preAssignmentMessages: ["Hello! How can we help you today?", "Our agents answer within a minute on working days."],
            reception: reception,
            mountPositions: [
                MountPosition(pageName: "Home", url: "https://shop.example.com/"),
                MountPosition(pageName: "Product \(index + 1)", url: "https://shop.example.com/products/\(index + 1)"),
            ],
            extraEntries: [WidgetEntry(kind: .followOfficialAccount, label: "Follow us", url: "https://mp.example.com/follow")]
        ))
    }

    let regions = ["Shanghai", "Beijing", "Guangzhou", "Shenzhen", "Hangzhou", "Chengdu", "Wuhan", "Nanjing"]
    func conditions(_ index: Int) -> ConditionSet {
        var list = [
            Condition(field: "visitor.region", op: .equals, value: .string(regions[index % regions.count])),
            Condition(field: "customer.tags", op: .containsAny, value: .list([.string("tag-\(index % 17)"), .string("vip")])),
        ]
        if index % 2 == 0 { list.append(Condition(field: "visitor.visit_count", op: .greaterOrEqual, value: .number(Double(index % 5)))) }
        if index % 3 == 0 { list.append(Condition(field: "visitor.visit_time", op: .between, value: .list([.string("09:00"), .string("18:00")]))) }
        return ConditionSet(join: index % 4 == 0 ? .any : .all, conditions: list)
    }
    for index in 0..<100 {
        _ = try await api.create("/v1/guide-rules", GuideRule(
            name: String(format: "guide-%03d", index + 1), conditions: conditions(index),
            messages: (0..<(1 + index % 3)).map {
                PushMessage(intervalSeconds: $0 * 20, content: .text("Welcome from \(regions[index % regions.count])! Message \($0 + 1): see our offers at https://shop.example.com/offers"))
            }
        ))
    }
    for index in 0..<100 {
        _ = try await api.create("/v1/assignment-rules", AssignmentRule(
            name: String(format: "assign-%03d", index + 1), conditions: conditions(index + 7),
            targets: [
                AssignmentTarget(type: .owner),
                AssignmentTarget(type: .group, id: groups[index % groups.count]),
                AssignmentTarget(type: .agent, id: agents[index % agentCount].uuid),
            ]
        ))
    }

    let start = ContinuousClock.now
    let body = try await api.get("/v1/reception/snapshot")
    let elapsed = ContinuousClock.now - start
    let snapshot = try KefuJSON.decoder().decode(ReceptionSnapshot.self, from: body)
    let counts = [snapshot.channels.count, snapshot.widgets.count, snapshot.groups.count, snapshot.guideRules.count, snapshot.assignmentRules.count]
    guard counts == [20, 50, 30, 100, 100] else {
        throw BenchError("the snapshot holds \(counts) channels, widgets, groups, guide and assignment rules; expected [20, 50, 30, 100, 100]")
    }
    print("reception_tenant=\(tenant)")
    print("reception_token=\(token)")
    print("reception_snapshot_bytes=\(body.count)")
    print(String(format: "reception_snapshot_first_read_milliseconds=%.1f",
                 Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15))
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// The few calls the seeding needs, with the tenant's token.
struct BenchAPI {
    let base: String
    let token: String?

    /// POSTs `document`; returns the new item's id.
    func create<Document: Encodable>(_ path: String, _ document: Document) async throws -> UUID {
        let data = try await send("POST", path, body: try KefuJSON.encoder().encode(document), expect: 201)
        return try KefuJSON.decoder().decode(Created.self, from: data).id
    }

    private struct Created: Decodable { let id: UUID }

    func get(_ path: String) async throws -> Data {
        try await send("GET", path, body: nil, expect: 200)
    }

    func send(_ method: String, _ path: String, body: Data?, expect: Int) async throws -> Data {
        // AsyncHTTPClient, not URLSession: FoundationNetworking would need libcurl to link the
        // bench statically, as the services are built for it.
        var request = HTTPClientRequest(url: base + path)
        request.method = .RAW(value: method)
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let body {
            request.body = .bytes(ByteBuffer(bytes: body))
            request.headers.add(name: "Content-Type", value: "application/json")
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
        let data = Data(buffer: try await response.body.collect(upTo: 64 << 20))
        let status = Int(response.status.code)
        guard status == expect else {
            throw BenchError("\(method) \(path): \(status) \(String(decoding: data, as: UTF8.self))")
        }
        return data
    }
}
