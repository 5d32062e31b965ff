import Analytics
import Domain
import Foundation
import HTTPTypes
import HostCore
import Hummingbird
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
import TestSupport
@testable import SenderAPI

/// One API server per test, on a scratch PostgreSQL database of its own and
/// the real Redis of `scripts/stack` (under a key prefix of its own), with
/// the project's built provider plugins loaded.
final class APIHarness: @unchecked Sendable {
    let server: APIServer
    private let database: ScratchDatabase
    var databaseURL: String { database.url }

    static let masterKey = [UInt8](repeating: 7, count: 32)

    /// The providers the build produced (BATCHSENDER_BIN, else .build/debug).
    static let providers: [String: PluginDescriptor] = plugins.mapValues(\.descriptor)

    /// The provider plugins the build produced, loaded once.
    static let plugins: [String: LoadedPlugin] = {
        let entries = ["Resend", "SES", "Telnyx", "CustomWebhook", "Echo"].map { PluginEntry(path: TestPaths.providerPlugin($0), required: true) }
        do {
            return try PluginRegistry(loading: entries, logger: Logger(label: "test")).plugins
        } catch {
            fatalError("the provider plugins must be built first (scripts/build): \(error)")
        }
    }()

    init(configure: (inout APIConfiguration) -> Void = { _ in }) throws {
        database = try ScratchDatabase(purpose: "api")
        var configuration = APIConfiguration()
        configuration.port = 0
        configuration.providers = Self.providers
        configuration.plugins = Self.plugins
        configuration.databaseConnections = 2
        configuration.redisConnections = 2
        configuration.redisKeyPrefix = "test:\(database.name):"
        configuration.rateLimit = RateLimitSettings(perKey: 10_000, perAddress: 10_000, windowMilliseconds: 60_000)
        // As the local stack's configs: the sandbox is on loopback, over http.
        configuration.outbound = OutboundPolicy(allow: [IPNetwork("127.0.0.0/8")!], allowHTTP: true)
        configure(&configuration)
        let environment = try HostEnvironment([
            "DATABASE_URL": database.url, "REDIS_URL": try StackEnvironment.value("REDIS_URL"),
            "NATS_URL": try StackEnvironment.value("NATS_URL"),
            "BATCHSENDER_MASTER_KEY": Encoding.hex(Self.masterKey),
        ])
        var logger = Logger(label: "api-test")
        logger.logLevel = .error
        // A registry of its own: the counts a test reads are its server's alone.
        server = try APIServer(configuration: configuration, environment: environment, logger: logger, registry: PrometheusCollectorRegistry())
    }

    /// Stops the server's threads and drops the scratch database (on a thread of its own: see `onOwnThread`).
    func finish() async throws {
        try await server.shutdown()
        await database.dropOffThread()
    }

    /// A direct connection to this test's database, to look behind the API.
    func connection() throws -> PostgresConnection { try PostgresConnection(url: databaseURL) }

    /// A user with `email` and a key of theirs.
    func key(for email: String) throws -> String {
        let created = try APIKeyService.create(try connection(), email: email, name: "test")
        guard case .string(let key)? = JSONValue.parse(Array(created.utf8))?["key"] else { throw HarnessError("no key in \(created)") }
        return key
    }

    /// Runs `body` against the server on a loopback port of its own, then stops the threads.
    func run(_ body: @Sendable (APIClient) async throws -> Void) async throws {
        do {
            try await ServedApplication.serve(server.application()) { client in try await body(APIClient(client: client)) }
        } catch {
            try await finish()
            throw error
        }
        try await finish()
    }
}

/// The API tests' name for what a fixture could not do.
typealias HarnessError = TestSupportError

/// Requests as a user makes them, answers as status + JSON.
struct APIClient: Sendable {
    let client: TestHTTPClient

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
