import Analytics
import Domain
import Foundation
import HTTPTypes
import HostCore
import Hummingbird
import HummingbirdTesting
import Logging
import Messaging
import NIOCore
import Persistence
import Prometheus
import ProviderCrypto
import ProviderInstances
import ProviderModel
import Services
import Templating
@testable import SenderAPI

/// One API server per test, on a scratch PostgreSQL database of its own and
/// the real Redis of `scripts/stack` (under a key prefix of its own), with
/// the project's built provider plugins loaded.
final class APIHarness: @unchecked Sendable {
    let server: APIServer
    let databaseURL: String
    private let databaseName: String
    private let adminURL: String

    static let masterKey = [UInt8](repeating: 7, count: 32)

    static func environmentValue(_ name: String) throws -> String {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else {
            throw HarnessError("\(name) is not set: run scripts/test, which starts scripts/stack and loads .env.dev")
        }
        return value
    }

    /// The providers the build produced (BATCHSENDER_BIN, else .build/debug).
    static let providers: [String: PluginDescriptor] = plugins.mapValues(\.descriptor)

    /// The provider plugins the build produced (BATCHSENDER_BIN, else .build/debug), loaded once.
    static let plugins: [String: LoadedPlugin] = {
        let bin = ProcessInfo.processInfo.environment["BATCHSENDER_BIN"]
            ?? URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent(".build/debug").path
        let entries = ["Resend", "SES", "Telnyx", "CustomWebhook", "Echo"].map {
            PluginEntry(path: "\(bin)/lib\($0)Provider.so", required: true)
        }
        do {
            return try PluginRegistry(loading: entries, logger: Logger(label: "test")).plugins
        } catch {
            fatalError("the provider plugins must be built first (scripts/build): \(error)")
        }
    }()

    init(configure: (inout APIConfiguration) -> Void = { _ in }) throws {
        adminURL = try Self.environmentValue("DATABASE_URL")
        databaseName = "batchsender_api_\(getpid())_\(UInt32.random(in: 0...UInt32.max))"
        let admin = try PostgresConnection(url: adminURL)
        try admin.execute("CREATE DATABASE \(databaseName)")
        databaseURL = String(adminURL[..<adminURL.lastIndex(of: "/")!]) + "/" + databaseName
        try Migrator().migrate(PostgresConnection(url: databaseURL))
        var configuration = APIConfiguration()
        configuration.port = 0
        configuration.providers = Self.providers
        configuration.plugins = Self.plugins
        configuration.databaseConnections = 2
        configuration.redisConnections = 2
        configuration.redisKeyPrefix = "test:\(databaseName):"
        configuration.rateLimit = RateLimitSettings(perKey: 10_000, perAddress: 10_000, windowMilliseconds: 60_000)
        // As the local stack's configs: the sandbox is on loopback, over http.
        configuration.outbound = OutboundPolicy(allow: [IPNetwork("127.0.0.0/8")!], allowHTTP: true)
        configure(&configuration)
        let environment = try HostEnvironment([
            "DATABASE_URL": databaseURL, "REDIS_URL": try Self.environmentValue("REDIS_URL"),
            "NATS_URL": try Self.environmentValue("NATS_URL"),
            "BATCHSENDER_MASTER_KEY": Encoding.hex(Self.masterKey),
        ])
        var logger = Logger(label: "api-test")
        logger.logLevel = .error
        // A registry of its own: the counts a test reads are its server's alone.
        server = try APIServer(configuration: configuration, environment: environment, logger: logger, registry: PrometheusCollectorRegistry())
    }

    /// Stops the server's threads and drops the scratch database. The drop blocks, so it runs on a thread
    /// of its own: blocking the few cooperative threads here would starve other tests' requests.
    func finish() async throws {
        try await server.shutdown()
        let adminURL = self.adminURL, name = databaseName
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            Thread.detachNewThread {
                if let admin = try? PostgresConnection(url: adminURL) {
                    try? admin.execute("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
                }
                done.resume()
            }
        }
    }

    /// `body` on a thread of its own: a blocking call (a statement that waits for a lock) must not hold one of
    /// the few cooperative threads the server's requests need.
    static func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (done: CheckedContinuation<T, any Error>) in
            Thread.detachNewThread { done.resume(with: Result { try body() }) }
        }
    }

    /// A direct connection to this test's database, to look behind the API.
    func connection() throws -> PostgresConnection { try PostgresConnection(url: databaseURL) }

    /// A user with `email` and a key of theirs.
    func key(for email: String) throws -> String {
        let created = try APIKeyService.create(try connection(), email: email, name: "test")
        guard case .string(let key)? = JSONValue.parse(Array(created.utf8))?["key"] else { throw HarnessError("no key in \(created)") }
        return key
    }

    /// Runs `body` against the router in-process (or over a real socket with `live`), then stops the threads.
    func run(live: Bool = false, _ body: @Sendable (APIClient) async throws -> Void) async throws {
        do {
            try await server.application().test(live ? .live : .router) { client in try await body(APIClient(client: client)) }
        } catch {
            try await finish()
            throw error
        }
        try await finish()
    }
}

struct HarnessError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Requests as a user makes them, answers as status + JSON.
struct APIClient: Sendable {
    let client: any TestClientProtocol

    struct Answer: Sendable {
        var status: Int
        var headers: HTTPFields
        var text: String
        var json: JSONValue { JSONValue.parse(Array(text.utf8)) ?? .null }
        /// `error.field` of an error answer.
        var errorField: String? { json["error"]?["field"]?.stringValue }
        var errorCode: String? { json["error"]?["code"]?.stringValue }
        subscript(_ key: String) -> JSONValue? { json[key] }
    }

    @discardableResult
    func call(_ method: HTTPRequest.Method, _ uri: String, key: String? = nil, json: String? = nil, csv: String? = nil,
              contentType: String? = nil, body: String? = nil, authorization: String? = nil, headers extra: HTTPFields = [:]) async throws -> Answer {
        var headers = extra
        if let key { headers[.authorization] = "Bearer \(key)" }
        if let authorization { headers[.authorization] = authorization }
        var payload: String?
        if let json { headers[.contentType] = "application/json"; payload = json }
        if let csv { headers[.contentType] = "text/csv"; payload = csv }
        if let body { payload = body }
        if let contentType { headers[.contentType] = contentType }
        return try await client.execute(uri: uri, method: method, headers: headers,
                                        body: payload.map { ByteBuffer(string: $0) }) { response in
            Answer(status: Int(response.status.code), headers: response.headers, text: String(buffer: response.body))
        }
    }
}

extension JSONValue {
    var int: Int? { if case .number(let n) = self { Int(n) } else { nil } }
    var array: [JSONValue] { arrayValue ?? [] }
}
