import HostCore
import Hummingbird
import Logging
import ServiceLifecycle

/// The provider sandbox: Resend, SES v2 (+SNS), Telnyx and a webhook
/// receiver on one loopback port, with its webhook dispatcher, under one
/// ServiceGroup that shuts down gracefully on SIGTERM or SIGINT.
public struct SandboxServer: Sendable {
    public let port: Int
    public let host: String
    private let state: SandboxState
    private let client: CurlHTTPClient

    public init(configuration: SandboxConfiguration, host: String = "127.0.0.1", port: Int = SandboxDefaults.port,
                webhookTarget: String?, webhookURLs: [String] = [], seed: UInt64?, logger: Logger) throws(SandboxStartError) {
        guard (1...65_535).contains(port) else { throw SandboxStartError(reason: "--port must be 1–65535, not \(port)") }
        func isURL(_ text: String) -> Bool { text.hasPrefix("http://") || text.hasPrefix("https://") }
        if let target = webhookTarget, !isURL(target) {
            throw SandboxStartError(reason: "--webhook-target must be an http:// or https:// URL, not \(target)")
        }
        var urls: [SandboxProvider: String] = [:]
        for entry in webhookURLs {
            let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, let provider = SandboxProvider(rawValue: parts[0]), provider != .receiver, isURL(parts[1]) else {
                throw SandboxStartError(reason: "--webhook-url takes PROVIDER=URL with PROVIDER resend, ses or telnyx and an http(s) URL, not \(entry)")
            }
            guard urls[provider] == nil else { throw SandboxStartError(reason: "--webhook-url names \(provider.rawValue) twice") }
            urls[provider] = parts[1]
        }
        self.port = port
        self.host = host
        client = CurlHTTPClient(settings: HTTPClientSettings(connectTimeoutMs: 2_000, timeoutMs: 15_000, maxConnectionsPerHost: 64))
        state = try SandboxState(configuration: configuration, port: port, webhookTarget: webhookTarget, webhookURLs: urls, seed: seed,
                                 client: client, logger: logger)
    }

    /// Serves until SIGTERM or SIGINT; webhooks in flight are finished before it returns.
    public func run(onReady: @escaping @Sendable () -> Void = {}) async throws {
        let router = Router(context: SandboxContext.self)
        let control = ControlAPI(state: state)
        let apis: [any ProviderAPI] = [ResendAPI(state: state), SESAPI(state: state), TelnyxAPI(state: state), ReceiverAPI(state: state)]
        for api in apis { api.register(on: router) }
        control.register(on: router)
        let app = Application(
            router: router,
            configuration: .init(address: .hostname(host, port: port), serverName: "batchsender-sandbox"),
            services: [state.dispatcher],
            onServerRunning: { _ in
                // SNS asks a new HTTP endpoint to confirm its subscription before it delivers anything.
                control.sendSubscriptionConfirmation()
                onReady()
            },
            logger: state.logger)
        defer { client.shutdown() }
        try await app.runService(gracefulShutdownSignals: [.sigterm, .sigint])
    }
}
