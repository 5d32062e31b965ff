import Hummingbird
import NIOCore
import NIOPosix
import ProviderModel
import Prometheus
import Storage

/// `GET /health` (the process answers), `GET /ready` (PostgreSQL, Redis and
/// NATS answer now) and `GET /metrics` (Prometheus text). No key needed.
struct HealthRoutes {
    let database: Database
    let redis: ConnectionPool<RedisConnection>
    let natsURL: String
    let threads: NIOThreadPool
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

    @Sendable func ready(_ request: Request, context: APIContext) async throws -> Response {
        let natsURL = self.natsURL
        async let postgres = check { try await database.pool.withConnection { db in _ = try db.query("SELECT 1") } }
        async let redis = check { _ = try await self.redis.withConnection { redis in try redis.command(["PING"]) } }
        async let nats = check { try await threads.runIfActive { try NATSConnection(url: natsURL, timeoutMs: 1_000).ping() } }
        let checks = await ["postgres": postgres, "redis": redis, "nats": nats]
        let failing = checks.filter { $0.value != nil }.keys.sorted()
        var object: [String: JSONValue] = [
            "status": .string(failing.isEmpty ? "ready" : "unready"),
            "checks": .object(checks.mapValues { .string($0 ?? "ok") }),
        ]
        guard failing.isEmpty else {
            object["error"] = .object(["code": .string("unavailable"), "field": .null,
                                       "message": .string("not reachable: " + failing.joined(separator: ", "))])
            return JSONResponse.make(.serviceUnavailable, .object(object))
        }
        return JSONResponse.make(.ok, .object(object))
    }

    /// nil when `probe` succeeds, else what went wrong.
    private func check(_ probe: @Sendable () async throws -> Void) async -> String? {
        do { try await probe(); return nil } catch { return "\(error)" }
    }
}
