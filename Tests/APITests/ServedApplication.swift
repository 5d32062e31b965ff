import HTTPTypes
import HostCore
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import ProviderModel
import ServiceLifecycle

/// An application under test, served on a free loopback port for the length of a test, and the client that
/// talks to it over a real socket with the host's own libcurl client. HummingbirdTesting does the same, but its
/// product brings AsyncHTTPClient, NIOSSL (BoringSSL) and NIOHTTP2 into the build: most of the tests' build
/// time, for a client these tests do not need.
struct ServedApplication<Base: ApplicationProtocol>: ApplicationProtocol, Service {
    typealias Responder = Base.Responder

    let base: Base
    /// The port the server bound, once it listens.
    let bound: AsyncStream<Int>.Continuation

    var responder: Responder { get async throws { try await base.responder } }
    var server: HTTPServerBuilder { base.server }
    var eventLoopGroup: any EventLoopGroup { base.eventLoopGroup }
    var configuration: ApplicationConfiguration { base.configuration.with(address: .hostname("127.0.0.1", port: 0)) }
    var logger: Logger { base.logger }
    var services: [any Service] { base.services }
    var processesRunBeforeServerStart: [@Sendable () async throws -> Void] { base.processesRunBeforeServerStart }

    @Sendable func onServerRunning(_ channel: any NIOCore.Channel) async {
        await base.onServerRunning(channel)
        bound.yield(channel.localAddress?.port ?? 0)
        bound.finish()
    }

    /// Serves `application` until `body` returns or throws, then shuts it down gracefully.
    static func serve<Value: Sendable>(_ application: Base, _ body: @Sendable (TestHTTPClient) async throws -> Value) async throws -> Value {
        let (ports, bound) = AsyncStream<Int>.makeStream()
        let served = ServedApplication(base: application, bound: bound)
        let group = ServiceGroup(configuration: .init(services: [served], logger: application.logger))
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask {
                // A run that ends before it listens (a bad configuration) ends the wait for its port too.
                defer { bound.finish() }
                try await group.run()
            }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next(), port > 0 else {
                await group.triggerGracefulShutdown()
                throw HarnessError("the application under test did not start listening")
            }
            let client = TestHTTPClient(port: port)
            defer { client.shutdown() }
            do {
                let value = try await body(client)
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
                return value
            } catch {
                await group.triggerGracefulShutdown()
                try? await tasks.waitForAll()
                throw error
            }
        }
    }
}

/// Requests to the served application as a user's HTTP client makes them; nothing is retried or followed.
struct TestHTTPClient: Sendable {
    let port: Int
    private let curl = CurlHTTPClient(settings: HTTPClientSettings(connectTimeoutMs: 5_000, timeoutMs: 120_000, maxConnectionsPerHost: 256,
                                                                   maxResponseBytes: 256 << 20))

    init(port: Int) { self.port = port }

    struct Response: Sendable {
        var status: HTTPResponse.Status
        var headers: HTTPFields
        var body: ByteBuffer
    }

    func execute<Value>(uri: String, method: HTTPRequest.Method, headers: HTTPFields = [:], body: ByteBuffer? = nil,
                        _ read: (Response) throws -> Value) async throws -> Value {
        let request = PreparedRequest(method: method.rawValue, url: "http://127.0.0.1:\(port)\(uri)",
                                      headers: headers.map { KeyValue($0.name.rawName, $0.value) },
                                      body: body.map { Array($0.readableBytesView) } ?? [], messageIndices: [])
        let result = await curl.execute(request, timeoutMs: nil)
        guard result.transportFailure == nil else {
            throw HarnessError("\(method) \(uri): no answer: \(result.transportMessage)")
        }
        var fields = HTTPFields()
        for header in result.headers {
            guard let name = HTTPField.Name(header.name) else { continue }
            fields.append(HTTPField(name: name, value: header.value))
        }
        return try read(Response(status: HTTPResponse.Status(code: result.status), headers: fields, body: ByteBuffer(bytes: result.body)))
    }

    func shutdown() { curl.shutdown() }
}
