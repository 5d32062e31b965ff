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

/// What every role module builds on: the concepts below the roles, never another role.
let roleDependencies: [Target.Dependency] = [
    "HostCore", "Domain", "Persistence", "Messaging", "Analytics", "ProviderInstances", "ProviderModel", "ProviderCrypto",
    .product(name: "Logging", package: "swift-log"), .product(name: "Metrics", package: "swift-metrics"),
    .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
]

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
        // What the platform is, with no server in it: statuses and their rules, jobs, dead letters, webhook
        // envelopes, analytics events.
        .target(name: "Domain", dependencies: ["HostCore", "ProviderModel", "ProviderCrypto"], path: "Sources/Host/Domain"),
        // A batch's template rendered per recipient.
        .target(name: "Templating", dependencies: ["Domain", "ProviderModel", .product(name: "Mustache", package: "swift-mustache")],
                path: "Sources/Host/Templating"),
        // Where state lives: PostgreSQL (libpq; the versioned schema; each table's SQL in its own folder),
        // Redis (hiredis; every key built here) and ClickHouse (over its HTTP interface), each wrapped once,
        // and the pool their blocking calls run in.
        .target(
            name: "Persistence",
            dependencies: ["CPQ", "CHiredis", "Domain", "HostCore", "ProviderModel", "ProviderCrypto",
                           .product(name: "NIOPosix", package: "swift-nio")],
            path: "Sources/Host/Persistence"
        ),
        // How work moves: JetStream (libnats), the streams, the publishers and the consumer loop every role uses.
        .target(name: "Messaging", dependencies: ["CNats", "Domain", "HostCore", "ProviderModel", .product(name: "Logging", package: "swift-log"),
                                                  .product(name: "NIOPosix", package: "swift-nio"),
                                                  .product(name: "Metrics", package: "swift-metrics"),
                                                  .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")],
                path: "Sources/Host/Messaging"),
        // Analytics: the event writer that buffers the roles' events, spills them to disk and loads them into ClickHouse.
        .target(name: "Analytics", dependencies: ["Domain", "HostCore", "Persistence", "ProviderModel", .product(name: "Logging", package: "swift-log"),
                                                  .product(name: "Metrics", package: "swift-metrics"),
                                                  .product(name: "NIOPosix", package: "swift-nio"),
                                                  .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")],
                path: "Sources/Host/Analytics"),
        // The providers as the host holds them: the credential vault and plugin instances per send-config.
        .target(name: "ProviderInstances", dependencies: ["Domain", "Persistence", "HostCore", "ProviderModel", "ProviderCrypto",
                                                          .product(name: "NIOConcurrencyHelpers", package: "swift-nio")],
                path: "Sources/Host/Providers"),
        // The delivery roles, one module each: a message's path reads discoverer → processor → sender,
        // with the background role keeping counters and recovering stuck batches.
        .target(name: "Discoverer", dependencies: roleDependencies, path: "Sources/Host/Roles/Discoverer"),
        .target(name: "Processor", dependencies: roleDependencies + ["Templating"], path: "Sources/Host/Roles/Processor"),
        .target(name: "Sender", dependencies: roleDependencies + ["Templating"], path: "Sources/Host/Roles/Sender"),
        .target(name: "Background", dependencies: roleDependencies, path: "Sources/Host/Roles/Background"),
        // Webhooks come back: the receiver verifies and stores them, the webhook processor applies them.
        .target(name: "Receiver", dependencies: roleDependencies + ["Templating", .product(name: "NIOCore", package: "swift-nio"),
                                                                    .product(name: "NIOHTTP1", package: "swift-nio"),
                                                                    .product(name: "NIOExtras", package: "swift-nio-extras"),
                                                                    .product(name: "Prometheus", package: "swift-prometheus")],
                path: "Sources/Host/Roles/Receiver"),
        .target(name: "WebhookProcessor", dependencies: roleDependencies, path: "Sources/Host/Roles/WebhookProcessor"),

        // What the doors (the API, the dashboard, the command line) ask for: one service per concern, over
        // Persistence, Messaging and Analytics, so that no route, page or command touches SQL, Redis or NATS.
        .target(
            name: "Services",
            dependencies: ["HostCore", "Domain", "Templating", "Persistence", "Messaging", "Analytics", "ProviderInstances",
                           "ProviderModel", "ProviderCrypto",
                           .product(name: "Logging", package: "swift-log"), .product(name: "NIOPosix", package: "swift-nio"),
                           .product(name: "Hummingbird", package: "hummingbird")],
            path: "Sources/Host/Services"
        ),

        // The sender API: API keys, send-configs, batches, recipients, suppressions, health and metrics.
        .target(
            name: "SenderAPI",
            dependencies: roleDependencies + ["Templating", "Services",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
            ],
            path: "Sources/Host/Roles/API",
            resources: [.copy("openapi.json")]
        ),

        // The web dashboard: sessions over the sender API's routes, pages rendered with swift-mustache.
        .target(
            name: "WebDashboard",
            dependencies: roleDependencies + ["SenderAPI", "Services",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Mustache", package: "swift-mustache"),
            ],
            path: "Sources/Host/Roles/Dashboard",
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
        // The composition root: what a process builds once (pools, clients, plugin instances) and hands to its roles,
        // and what every command shares (its output and failures).
        .target(name: "App", dependencies: roleDependencies + ["Services", "Discoverer", "Processor", "Sender", "Background", "Receiver", "WebhookProcessor", "SenderAPI", "WebDashboard", .product(name: "Prometheus", package: "swift-prometheus")], path: "Sources/Host/App"),
        // `batchsender bench`: the end-to-end benchmarks, a module of their own that the command line links.
        .target(
            name: "EndToEndBench",
            dependencies: ["App", "HostCore", "ProviderModel", "ProviderCrypto", "ProviderSandbox", "SenderAPI", "Domain", "Persistence", "Messaging",
                           "Analytics",
                           .product(name: "ArgumentParser", package: "swift-argument-parser"), .product(name: "Logging", package: "swift-log"),
                           .product(name: "Hummingbird", package: "hummingbird"), .product(name: "NIOPosix", package: "swift-nio"),
                           .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")],
            path: "Benchmarks/EndToEnd"
        ),
        .executableTarget(
            name: "batchsender",
            dependencies: roleDependencies + ["App", "ProviderSandbox", "EndToEndBench", "SenderAPI", "WebDashboard", "Services", "Discoverer", "Processor", "Sender",
                           .product(name: "Prometheus", package: "swift-prometheus"),
                           "Background", "Receiver", "WebhookProcessor",
                           .product(name: "Hummingbird", package: "hummingbird"), .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Sources/Host/CLI",
            // jemalloc in place of glibc's malloc for the whole process, plugins included (they take
            // malloc from the process's global scope): glibc's malloc and free were a fifth of the
            // host's CPU under a Telnyx batch (docs/performance.md).
            linkerSettings: [.linkedLibrary("jemalloc", .when(platforms: [.linux]))]
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

        .testTarget(name: "HostTests", dependencies: ["EndToEndBench", "HostCore", "ProviderModel", "ProviderCrypto", "Domain", "Templating", "Persistence", "Messaging", "Analytics", "ProviderInstances", "App", "SenderAPI", "Processor",
                                                     "ProviderSandbox", "TestSupport",
                                                     .product(name: "Mustache", package: "swift-mustache")],
                    path: "Tests/HostTests"),
        // What every test harness shares: scratch databases, host configs, server processes, loopback HTTP and
        // sockets, waiting for a condition.
        .target(name: "TestSupport", dependencies: ["HostCore", "ProviderModel", "Persistence"], path: "Tests/Support",
                exclude: ["http_test_server.py"]),
        .testTarget(
            name: "APITests",
            dependencies: ["SenderAPI", "WebDashboard", "Services", "Domain", "Persistence", "HostCore", "ProviderCrypto", "TestSupport", .product(name: "Prometheus", package: "swift-prometheus"),
                           .product(name: "Hummingbird", package: "hummingbird"), .product(name: "NIOCore", package: "swift-nio"),
                           .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"), .product(name: "Logging", package: "swift-log")],
            path: "Tests/APITests"
        ),
        // The decision rules and the roles' logic against fakes and a held clock: no server, no process, no sleep.
        .testTarget(name: "RoleTests", dependencies: ["Domain", "Templating", "Sender", "Processor", "HostCore", "Persistence", "Messaging", "Discoverer", "Background", "ProviderModel", "Analytics",
                                                     .product(name: "Logging", package: "swift-log")],
                    path: "Tests/RoleTests"),
        .testTarget(name: "SDKTests", dependencies: ["ProviderKit", "ProviderCrypto", "HostCore", "ResendProvider"], path: "Tests/SDKTests"),
    ] + providers.flatMap(providerTargets)
)
