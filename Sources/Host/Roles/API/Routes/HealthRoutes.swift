import HostCore
import Hummingbird
import NIOCore
import Prometheus
import ProviderModel
import Services

/// `GET /health` (the process answers), `GET /ready` (PostgreSQL, Redis and
/// NATS answer now) and `GET /metrics` (Prometheus text). No key needed.
struct HealthRoutes {
    let health: HealthService
    let registry: PrometheusCollectorRegistry

    func register(on router: Router<APIContext>) {
        router.get("health") { _, _ in JSONResponse.make(.ok, text: #"{"status":"ok"}"#) }
        router.get("ready", use: ready)
        // Also under /api, where the seeds' scrapers look; like /metrics it needs no key.
        for path in ["metrics", "api/metrics"] {
            router.get(RouterPath(path)) { _, _ in
                Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                         body: .init(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
            }
        }
    }

    /// Each dependency `ok` or `unavailable`, and nothing else: an anonymous caller learns no URL, no server
    /// message (the log has them). Every probe uses a long-lived connection (the pools', and one kept NATS
    /// connection) and answers within `probeTimeoutMs` whoever holds the pools.
    @Sendable func ready(_ request: Request, context: APIContext) async throws -> Response {
        let health = self.health
        async let postgres = check("postgres", context) { try await health.postgres() }
        async let redis = check("redis", context) { try await health.redisAnswers() }
        async let natsCheck = check("nats", context) { try await health.natsAnswers() }
        let checks = await ["postgres": postgres, "redis": redis, "nats": natsCheck]
        let failing = checks.filter { !$0.value }.keys.sorted()
        var object: [String: JSONValue] = [
            "status": .string(failing.isEmpty ? "ready" : "unready"),
            "checks": .object(checks.mapValues { .string($0 ? "ok" : "unavailable") }),
        ]
        guard failing.isEmpty else {
            object["error"] = .object(["code": .string("unavailable"), "field": .null,
                                       "message": .string("not reachable: " + failing.joined(separator: ", "))])
            return JSONResponse.make(.serviceUnavailable, .object(object))
        }
        return JSONResponse.make(.ok, .object(object))
    }

    static let probeTimeoutMs: Int64 = 2_000

    /// Whether `probe` succeeds within the time; why not goes to the log only.
    private func check(_ name: String, _ context: APIContext, _ probe: @escaping @Sendable () async throws -> Void) async -> Bool {
        let outcome: Result<Void, any Error>? = await withTaskGroup(of: Result<Void, any Error>?.self) { group in
            group.addTask { do { try await probe(); return .success(()) } catch { return .failure(error) } }
            group.addTask { try? await Task.sleep(for: .milliseconds(Self.probeTimeoutMs)); return nil }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
        switch outcome {
        case .success?: return true
        case .failure(let error)?:
            context.logger.warning("readiness: a dependency failed", metadata: ["dependency": "\(name)", "error": "\(error)"])
            return false
        case nil:
            context.logger.warning("readiness: a dependency did not answer in time", metadata: ["dependency": "\(name)"])
            return false
        }
    }
}
