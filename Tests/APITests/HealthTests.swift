import Synchronization
import TestSupport
import Testing
import ProviderModel
@testable import SenderAPI

@Suite("Health, readiness, metrics and the environment")
struct HealthTests {
    @Test("health and ready answer without a key; ready checks PostgreSQL, Redis and NATS")
    func ready() async throws {
        let harness = try APIHarness()
        try await harness.run { api in
            #expect(try await api.call(.get, "/health").status == 200)
            // Each server's probe has a 2 s timeout (HealthRoutes.probeTimeoutMs): on two cores busy with every other test one may miss it once,
            // and the answer is then a 503 naming it, as a probe's should be. It must be ready again.
            var last = ""
            let ready = try await eventuallyValue("ready (last: \(last))", timeout: .seconds(30)) {
                let answer = try await api.call(.get, "/ready")
                last = answer.text
                return answer.status == 200 ? answer : nil
            }
            #expect(ready["checks"] == .object(["postgres": .string("ok"), "redis": .string("ok"), "nats": .string("ok")]))
        }
    }

    @Test("ready is 503 naming what is unreachable, and nothing more: no URL, no password, no server message")
    func unready() async throws {
        let harness = try APIHarness()
        let broken = try APIServer(configuration: harness.server.configuration, environment: HostEnvironment([
            "DATABASE_URL": harness.databaseURL, "REDIS_URL": "redis://app:hunter2redis@127.0.0.1:1",
            "NATS_URL": "nats://app:hunter2nats@127.0.0.1:1",
            "BATCHSENDER_MASTER_KEY": String(repeating: "ab", count: 32),
        ]), logger: .init(label: "test"))
        _ = try await broken.migrate()
        try await ServedApplication.serve(broken.application()) { client in
            // Redis and NATS are unreachable in every answer; PostgreSQL's probe has the same 2 s timeout as in `ready`
            // and may miss it once on two busy cores (a CI run did), so the test asks until PostgreSQL answers in time.
            var last = ""
            let answer = try await eventuallyValue("ready with PostgreSQL answering (last: \(last))", timeout: .seconds(30)) {
                let answer = try await APIClient(client: client).call(.get, "/ready")
                last = answer.text
                #expect(answer.status == 503 && answer["checks"]?["redis"] == .string("unavailable")
                        && answer["checks"]?["nats"] == .string("unavailable"), "\(answer.status) \(answer.text)")
                return answer["checks"]?["postgres"] == .string("ok") ? answer : nil
            }
            #expect(answer.status == 503)
            #expect(answer["checks"] == .object(["postgres": .string("ok"), "redis": .string("unavailable"), "nats": .string("unavailable")]))
            #expect(answer["error"]?["message"]?.stringValue == "not reachable: nats, redis")
            for leak in ["hunter2", "127.0.0.1", "app:", "refused", "cannot"] { #expect(!answer.text.contains(leak), "\(leak) in \(answer.text)") }
            // Without Redis the rate limiter cannot count: requests are refused, not let through unlimited.
            let limited = try await APIClient(client: client).call(.get, "/api/batches", key: "bsk_" + String(repeating: "A", count: 43))
            #expect(limited.status == 503 && limited.headers[.retryAfter] == "2" && !limited.text.contains("hunter2"), "\(limited.status) \(limited.text)")
        }
        try await broken.shutdown()
        try await harness.finish()
    }

    @Test("a request that finds every pooled connection held gets 503 busy with Retry-After once the pool's wait is over, and is served once one is free")
    func poolBusy() async throws {
        let harness = try APIHarness { $0.databaseConnections = 1; $0.poolWaitMs = 200 }
        let key = try harness.key(for: "busy@example.com")
        let pool = harness.server.database.pool
        try await harness.run { api in
            // The only connection is held, as a slow client's upload would hold it, until the refused request is
            // answered, or for ten seconds at most: without the pool's wait limit the request would wait for it and be
            // served, so a 503 is the limit acting. The holder says when it has the connection, so a loaded machine cannot
            // reorder the two.
            let held = AsyncStream<Void>.makeStream()
            let release = ReleaseFlag()
            let holder = Task {
                try await pool.withConnection { db in
                    held.continuation.yield()
                    let deadline = ContinuousClock.now + .seconds(10)
                    while !release.isSet && ContinuousClock.now < deadline { _ = try db.query("SELECT pg_sleep(0.02)") }
                }
            }
            var acquired = held.stream.makeAsyncIterator()
            _ = await acquired.next()
            let started = ContinuousClock.now
            let refused = try await api.call(.get, "/api/batches", key: key)
            let waited = ContinuousClock.now - started
            release.set()
            try await holder.value
            #expect(refused.status == 503 && refused.errorCode == "busy" && refused.headers[.retryAfter] == "1", "\(refused.status) \(refused.text)")
            #expect(waited >= .milliseconds(150), "waited \(waited)")
            #expect(try await api.call(.get, "/api/batches", key: key).status == 200)
        }
    }

    @Test("metrics count requests by route pattern, method and status")
    func metrics() async throws {
        let harness = try APIHarness()
        try await harness.run { api in
            _ = try await api.call(.get, "/api/batches/00000000-0000-0000-0000-000000000000")
            _ = try await api.call(.get, "/health")
            let text = try await api.call(.get, "/metrics").text
            #expect(text.contains(#"http_requests_total{route="/api/batches/{id}",method="GET",status="401"} 1"#), "\(text.prefix(600))")
            #expect(text.contains(#"http_request_duration_seconds_count{route="/health",method="GET",status="200"} 1"#))
        }
    }

    @Test("the environment check names every missing or malformed variable at once")
    func environment() throws {
        #expect(throws: HostEnvironmentError.self) { try HostEnvironment([:]) }
        // Checked outside any catch: an environment that wrongly passed fails here.
        let error = try #require(throws: HostEnvironmentError.self) {
            try HostEnvironment(["DATABASE_URL": "mysql://x", "REDIS_URL": "redis://127.0.0.1:6379", "BATCHSENDER_MASTER_KEY": "abc"])
        }
        #expect(error.problems.count == 3)
        #expect(error.problems.contains { $0.hasPrefix("DATABASE_URL must be a postgres://") })
        #expect(error.problems.contains { $0.hasPrefix("NATS_URL is missing") })
        #expect(error.problems.contains { $0.hasPrefix("BATCHSENDER_MASTER_KEY must be 64 hex digits") })
    }
}

/// Set once by the test, read by a thread that holds a resource until it is.
private final class ReleaseFlag: Sendable {
    private let value = Mutex(false)
    var isSet: Bool { value.withLock { $0 } }
    func set() { value.withLock { $0 = true } }
}
