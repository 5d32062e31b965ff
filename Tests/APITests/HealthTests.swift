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
            let ready = try await api.call(.get, "/ready")
            #expect(ready.status == 200, "\(ready.text)")
            #expect(ready["checks"] == .object(["postgres": .string("ok"), "redis": .string("ok"), "nats": .string("ok")]))
        }
    }

    @Test("ready is 503 naming what is unreachable")
    func unready() async throws {
        let harness = try APIHarness()
        let broken = try APIServer(configuration: harness.server.configuration, environment: HostEnvironment([
            "DATABASE_URL": harness.databaseURL, "REDIS_URL": "redis://127.0.0.1:1", "NATS_URL": "nats://127.0.0.1:1",
            "BATCHSENDER_MASTER_KEY": String(repeating: "ab", count: 32),
        ]), logger: .init(label: "test"))
        _ = try await broken.migrate()
        try await broken.application().test(.router) { client in
            let answer = try await APIClient(client: client).call(.get, "/ready")
            #expect(answer.status == 503)
            #expect(answer["checks"]?["postgres"] == .string("ok"))
            #expect(answer["checks"]?["redis"] != .string("ok"))
            #expect(answer["error"]?["message"]?.stringValue?.contains("nats, redis") == true)
        }
        try await broken.shutdown()
        try await harness.finish()
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
    func environment() {
        #expect(throws: HostEnvironmentError.self) { try HostEnvironment([:]) }
        do {
            _ = try HostEnvironment(["DATABASE_URL": "mysql://x", "REDIS_URL": "redis://127.0.0.1:6379", "BATCHSENDER_MASTER_KEY": "abc"])
        } catch {
            #expect(error.problems.count == 3)
            #expect(error.problems.contains { $0.hasPrefix("DATABASE_URL must be a postgres://") })
            #expect(error.problems.contains { $0.hasPrefix("NATS_URL is missing") })
            #expect(error.problems.contains { $0.hasPrefix("BATCHSENDER_MASTER_KEY must be 64 hex digits") })
        }
    }
}
