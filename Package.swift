// swift-tools-version: 6.1
import PackageDescription

/// Every provider plugin links with this script so it exports only its entry function.
let pluginLinkerSettings: [LinkerSetting] = [
    .unsafeFlags(["-Xlinker", "--version-script=\(Context.packageDirectory)/Sources/ProviderSDK/plugin-exports.map"])
]

/// A provider is two targets: `<Name>Provider`, the Swift type (which the
/// ABI benchmark also links in-process), and `<Name>Plugin`, the one export
/// line. The dynamic library product `lib<Name>Provider.so` is built from the
/// second, so only it carries the entry symbol and the export map.
func providerTargets(_ name: String) -> [Target] {
    [
        .target(
            name: "\(name)Provider",
            dependencies: ["ProviderKit", "ProviderCrypto"],
            path: "Sources/Providers/\(name)",
            exclude: ["Fixtures", "Plugin"]
        ),
        .target(
            name: "\(name)Plugin",
            dependencies: [.target(name: "\(name)Provider"), "ProviderKit"],
            path: "Sources/Providers/\(name)/Plugin",
            linkerSettings: pluginLinkerSettings
        ),
    ]
}

let providers = ["Echo", "Resend", "CustomWebhook", "Telnyx", "SES"]

let package = Package(
    name: "BatchSender",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "batchsender", targets: ["batchsender"]),
        .executable(name: "batchsender-bench-abi", targets: ["ABIBenchmark"]),
        .executable(name: "batchsender-bench-providers", targets: ["ProviderBenchmark"]),
        .executable(name: "batchsender-conformance", targets: ["Conformance"]),
        .library(name: "ProviderKit", targets: ["ProviderKit"]),
    ] + providers.map { .library(name: "\($0)Provider", type: .dynamic, targets: ["\($0)Plugin"]) },
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.20.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.30.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.1.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.4.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.0.0"),
    ],
    targets: [
        // The C libraries, from Debian's -dev packages. Each is wrapped once, by one Swift type.
        .systemLibrary(name: "CCurl", path: "Sources/System/CCurl", pkgConfig: "libcurl",
                       providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CSSL", path: "Sources/System/CSSL", pkgConfig: "openssl",
                       providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CSodium", path: "Sources/System/CSodium", pkgConfig: "libsodium",
                       providers: [.apt(["libsodium-dev"])]),
        .systemLibrary(name: "CNats", path: "Sources/System/CNats", pkgConfig: "libnats",
                       providers: [.apt(["libnats-dev"])]),
        .systemLibrary(name: "CHiredis", path: "Sources/System/CHiredis",
                       providers: [.apt(["libhiredis-dev"])]),
        .systemLibrary(name: "CMalloc", path: "Sources/System/CMalloc"),
        .systemLibrary(name: "CPQ", path: "Sources/System/CPQ", pkgConfig: "libpq",
                       providers: [.apt(["libpq-dev"])]),

        // The provider SDK: the C ABI, the shared data model, crypto helpers and the Swift kit.
        .target(name: "BatchSenderABI", path: "Sources/ProviderSDK/ABI"),
        .target(name: "ProviderModel", dependencies: ["BatchSenderABI"], path: "Sources/ProviderSDK/Model"),
        .target(name: "ProviderCrypto", dependencies: ["ProviderModel", "CSSL", "CSodium"], path: "Sources/ProviderSDK/Crypto"),
        .target(name: "ProviderKit", dependencies: ["ProviderModel", "BatchSenderABI"], path: "Sources/ProviderSDK/Kit"),

        // The host: plugin loading, HTTP client, host services, and the command line.
        .target(
            name: "HostCore",
            dependencies: [
                "ProviderModel", "BatchSenderABI", "CCurl", "ProviderCrypto",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "TOMLKit", package: "TOMLKit"),
            ],
            path: "Sources/Host/Core"
        ),
        // The servers the host stores in and talks to: PostgreSQL (libpq, with the versioned schema),
        // Redis (hiredis) and NATS (libnats), each wrapped once, and the pool their blocking calls run in.
        .target(
            name: "Storage",
            dependencies: ["CPQ", "CHiredis", "CNats", .product(name: "NIOPosix", package: "swift-nio")],
            path: "Sources/Host/Storage",
            exclude: ["ClickHouse"]
        ),
        // ClickHouse, the analytics store, over its HTTP interface through the host's one HTTP client.
        .target(name: "ClickHouse", dependencies: ["HostCore", "ProviderModel"], path: "Sources/Host/Storage/ClickHouse"),
        // What the delivery roles share: streams, hot state in Redis, the batch ledger in PostgreSQL,
        // chunk jobs, leases, credentials and send-config instances.
        .target(
            name: "Pipeline",
            dependencies: ["HostCore", "Storage", "ClickHouse", "ProviderModel", "ProviderCrypto", .product(name: "Logging", package: "swift-log"),
                           .product(name: "Metrics", package: "swift-metrics"),
                           .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                           .product(name: "Mustache", package: "swift-mustache")],
            path: "Sources/Host/Pipeline"
        ),
        // The delivery roles, one module each: a message's path reads discoverer → processor → sender,
        // with the background role keeping counters and recovering stuck batches.
        .target(name: "Discoverer", dependencies: ["Pipeline", .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")],
                path: "Sources/Host/Discoverer"),
        .target(name: "Processor", dependencies: ["Pipeline", .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")],
                path: "Sources/Host/Processor"),
        .target(name: "Sender", dependencies: ["Pipeline", .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                                               .product(name: "Metrics", package: "swift-metrics")],
                path: "Sources/Host/Sender"),
        .target(name: "Background", dependencies: ["Pipeline", .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")],
                path: "Sources/Host/Background"),
        // Webhooks come back: the receiver verifies and stores them, the webhook processor applies them.
        .target(name: "Receiver", dependencies: ["Pipeline", .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                                                 .product(name: "NIOHTTP1", package: "swift-nio"), .product(name: "NIOExtras", package: "swift-nio-extras"),
                                                 .product(name: "Prometheus", package: "swift-prometheus"),
                                                 .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")],
                path: "Sources/Host/Receiver"),
        .target(name: "WebhookProcessor", dependencies: ["Pipeline", .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                                                         .product(name: "Metrics", package: "swift-metrics")],
                path: "Sources/Host/WebhookProcessor"),

        // The sender API: API keys, send-configs, batches, recipients, suppressions, health and metrics.
        .target(
            name: "SenderAPI",
            dependencies: [
                "HostCore", "Storage", "ClickHouse", "ProviderCrypto", "ProviderModel", "Pipeline",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
            ],
            path: "Sources/Host/API",
            resources: [.copy("openapi.json")]
        ),

        // The web dashboard: sessions over the sender API's routes, pages rendered with swift-mustache.
        .target(
            name: "WebDashboard",
            dependencies: [
                "SenderAPI", "HostCore", "Storage", "ProviderCrypto", "ProviderModel", "Pipeline",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Mustache", package: "swift-mustache"),
            ],
            path: "Sources/Host/Web",
            resources: [.copy("Templates"), .copy("Assets")]
        ),

        // The provider sandbox: the providers' documented APIs and signed webhooks on loopback.
        .target(
            name: "ProviderSandbox",
            dependencies: [
                "HostCore", "ProviderCrypto", "ProviderModel",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Sources/Sandbox"
        ),
        .executableTarget(
            name: "batchsender",
            dependencies: ["HostCore", "ProviderSandbox", "Storage", "ClickHouse", "SenderAPI", "WebDashboard", "Pipeline", "Discoverer", "Processor", "Sender",
                           .product(name: "Metrics", package: "swift-metrics"), .product(name: "Prometheus", package: "swift-prometheus"),
                           "Background", "Receiver", "WebhookProcessor", .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                           .product(name: "Hummingbird", package: "hummingbird"), .product(name: "ArgumentParser", package: "swift-argument-parser"), .product(name: "Logging", package: "swift-log")],
            path: "Sources/Host/CLI"
        ),

        // The conformance suite every provider plugin must pass.
        .executableTarget(
            name: "Conformance",
            dependencies: ["HostCore", "CMalloc", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Conformance"
        ),

        // Benchmarks: commands that print figures.
        .target(name: "BenchmarkSupport", path: "Benchmarks/Support"),
        .executableTarget(
            name: "ABIBenchmark",
            dependencies: [
                "HostCore", "BenchmarkSupport", .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ] + providers.map { .target(name: "\($0)Provider") },
            path: "Benchmarks/ABIOverhead"
        ),
        .executableTarget(
            name: "ProviderBenchmark",
            dependencies: ["HostCore", "ProviderCrypto", "BenchmarkSupport", .product(name: "Logging", package: "swift-log")],
            path: "Benchmarks/ProviderReference",
            exclude: ["reference.py"]
        ),

        // `swift package conformance`: build every provider and run the suite on each.
        .plugin(
            name: "ConformancePlugin",
            capability: .command(intent: .custom(verb: "conformance",
                                                 description: "Build every provider plugin and run the conformance suite on each")),
            path: "Plugins/ConformancePlugin"
        ),

        .testTarget(name: "HostTests", dependencies: ["HostCore", "ProviderModel", "ProviderCrypto", "Storage", "ClickHouse", "Pipeline", "Processor",
                                                     "ProviderSandbox", "TestSupport",
                                                     .product(name: "Mustache", package: "swift-mustache")],
                    path: "Tests/HostTests"),
        // What more than one test target uses: raw loopback sockets.
        .target(name: "TestSupport", path: "Tests/Support", exclude: ["http_test_server.py"]),
        .testTarget(
            name: "APITests",
            dependencies: ["SenderAPI", "WebDashboard", "Storage", "HostCore", "ProviderCrypto", "TestSupport", .product(name: "Prometheus", package: "swift-prometheus"),
                           .product(name: "HummingbirdTesting", package: "hummingbird")],
            path: "Tests/APITests"
        ),
        .testTarget(name: "SDKTests", dependencies: ["ProviderKit", "ProviderCrypto", "HostCore"], path: "Tests/SDKTests"),
    ] + providers.flatMap(providerTargets)
)
