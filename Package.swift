// swift-tools-version:6.1
import PackageDescription

let services = ["Accounts", "Reception", "Routing", "Customers", "Analytics"]

/// Libraries a service needs beyond KefuCore.
let serviceDependencies: [String: [Target.Dependency]] = [
    "Accounts": [
        .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
        .product(name: "NIOPosix", package: "swift-nio"),
        .product(name: "Crypto", package: "swift-crypto"),
        .product(name: "JWTKit", package: "jwt-kit"),
        .product(name: "AsyncHTTPClient", package: "async-http-client"),
    ],
    "Routing": [
        "KefuReceptionClient",
        .product(name: "Crypto", package: "swift-crypto"),
        // AES-256-CBC of WeChat's safe mode.
        .product(name: "CryptoExtras", package: "swift-crypto"),
        .product(name: "AsyncHTTPClient", package: "async-http-client"),
        .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
    ],
    "Customers": ["KefuReceptionClient"],
    "Analytics": ["KefuReceptionClient"],
]

/// Services a service's tests run beside it (routing reads reception's snapshot over HTTP).
let testDependencies: [String: [Target.Dependency]] = [
    // Accounts: a partner channel's outgoing messages are its webhook deliveries.
    "Routing": ["Reception", "Accounts", .product(name: "HummingbirdWSClient", package: "hummingbird-websocket")],
    "Customers": ["Reception"],
    "Analytics": ["Reception"],
]

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "kefu",
    platforms: [.macOS(.v15)],
    products: services.map { .executable(name: "kefu-\($0.lowercased())", targets: ["kefu-\($0.lowercased())"]) }
        + [.executable(name: "kefu-bench", targets: ["kefu-bench"])],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", from: "2.5.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket.git", from: "2.8.1"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.8.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
    ],
    targets: [
        .target(
            name: "KefuModels",
            path: "Shared/KefuModels",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "KefuCore",
            dependencies: [
                "KefuModels",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdAuth", package: "hummingbird-auth"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "Shared/KefuCore",
            swiftSettings: swiftSettings
        ),
        // Reception's snapshot as other services read it (routing, the customer library).
        .target(
            name: "KefuReceptionClient",
            dependencies: [
                "KefuCore",
                "KefuModels",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            path: "Shared/KefuReceptionClient",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "KefuTestSupport",
            dependencies: [
                "KefuCore",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            path: "Tests/KefuTestSupport",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "KefuModelsTests",
            dependencies: ["KefuModels"],
            path: "Tests/KefuModelsTests",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "KefuCoreTests",
            dependencies: ["KefuCore", "KefuTestSupport", .product(name: "HTTPTypes", package: "swift-http-types"),
                           .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")],
            path: "Tests/KefuCoreTests",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "IntegrationTests",
            dependencies: ["Accounts", "Reception", "KefuTestSupport", .product(name: "HummingbirdTesting", package: "hummingbird")],
            path: "Tests/IntegrationTests",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "kefu-bench",
            dependencies: [
                "KefuCore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "NIOPosix", package: "swift-nio"),
                // The webhook bench's receiver and its bare-client baseline; the socket latency client.
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
            ],
            path: "bench/Sources",
            swiftSettings: swiftSettings
        ),
    ]
        + services.flatMap { name -> [Target] in
            [
                .target(
                    name: name,
                    dependencies: ["KefuCore", "KefuModels"] + (serviceDependencies[name] ?? []),
                    path: "Services/\(name)/Sources",
                    resources: [.copy("openapi.json")],
                    swiftSettings: swiftSettings
                ),
                .executableTarget(
                    name: "kefu-\(name.lowercased())",
                    dependencies: [.target(name: name), "KefuCore"],
                    path: "Services/\(name)/Main",
                    swiftSettings: swiftSettings
                ),
                .testTarget(
                    name: "\(name)Tests",
                    dependencies: [.target(name: name), "KefuTestSupport"] + (testDependencies[name] ?? []),
                    path: "Tests/\(name)Tests",
                    swiftSettings: swiftSettings
                ),
            ]
        }
)
