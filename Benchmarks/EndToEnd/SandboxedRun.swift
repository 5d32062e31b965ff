import App
import HostCore

/// The configs of a host and a sandbox run side by side on loopback (the benchmarks, the fault matrix).
enum SandboxedRun {
    /// Every bundled plugin, the run's Redis prefix, the API's per-client limits out of the way (a run polls
    /// its batches), the receiver on `apiPort + 1`, the sandbox's SNS certificates trusted, plain http to
    /// loopback, the deployment's limits lifted (a send-config's own limit still acts), then `pipeline`'s
    /// `[pipeline]` lines.
    /// `deployment`: the run's own `[deployment]` and `[nats]` lines, if any.
    static func hostConfig(redisPrefix: String, apiPort: Int, sandboxPort: Int, pipeline: [String], deployment: [String] = []) -> String {
        BundledPlugins.paths().map { "[[plugin]]\npath = \"\($0)\"\n" }.joined() + deployment.map { $0 + "\n" }.joined() + """
            [api]
            redis_key_prefix = "\(redisPrefix)"
            # The SES configs trust the sandbox's SNS certificates, a test-only option.
            allow_test_options = true
            rate_limit_per_key = 1000000
            rate_limit_per_address = 1000000
            [webhooks]
            port = \(apiPort + 1)
            public_url = "http://127.0.0.1:\(apiPort + 1)"
            [fetch]
            allow = ["http://127.0.0.1:\(sandboxPort)/sns/*"]
            # The sandbox is on loopback, over plain http: allowed here, refused by default.
            [outbound]
            allow = ["127.0.0.0/8"]
            allow_http = true
            \(SendRateLimits.unlimitedTOML)
            [pipeline]

            """ + pipeline.joined(separator: "\n") + "\n"
    }

    /// The providers' own limits out of the way: what is measured is the host's pace, or its own limits.
    static let sandboxConfig = """
        [resend]
        rate_limit_per_second = 1000000
        [ses]
        max_send_rate_per_second = 10000000
        require_confirmation = false
        [telnyx]
        rate_limit_per_second = 1000000

        """
}
