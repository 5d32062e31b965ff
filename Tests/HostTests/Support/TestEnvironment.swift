import Foundation
import HostCore
import Logging
import ProviderModel
import TestSupport

/// The host tests' own fixtures: the built plugins they load, C fixture plugins compiled once per test run,
/// and commands run to their end. Paths and scratch files are TestSupport's (`TestPaths`).
enum TestEnvironment {
    static var swiftEcho: String { TestPaths.providerPlugin("Echo") }
    static var cEcho: String { TestPaths.providerPlugin("EchoC") }
    static var conformance: String { TestPaths.binDirectory.appendingPathComponent("batchsender-conformance").path }

    /// Compiles Tests/Fixtures/plugins/NAME.c into a shared object, once per
    /// variant; `flags` are extra cc arguments (defines, libraries).
    static func fixturePlugin(_ name: String, variant: String = "", flags: [String] = []) throws -> String {
        try fixtureLock.withLock {
            let output = TestPaths.scratch.appendingPathComponent("lib\(name)\(variant).so").path
            if FileManager.default.fileExists(atPath: output) { return output }
            let source = TestPaths.packageRoot.appendingPathComponent("Tests/Fixtures/plugins/\(name).c").path
            let include = TestPaths.packageRoot.appendingPathComponent("Sources/ProviderSDK/ABI/include").path
            let result = try FinishedProcess.run("/usr/bin/cc", ["-std=c11", "-Wall", "-Werror", "-shared", "-fPIC", "-I", include, source]
                                 + flags + ["-o", output])
            guard result.status == 0 else { throw TestSupportError("cc failed for \(name): \(result.stderr)") }
            return output
        }
    }

    private static let fixtureLock = NSLock()

    typealias RunResult = FinishedProcess

    /// `executable` run to its end, waited for on a thread of its own (`onOwnThread`): a conformance run under
    /// valgrind takes a minute, and a cooperative thread held that long stops the run's other tests.
    static func run(_ executable: String, _ arguments: [String]) async throws -> RunResult {
        try await onOwnThread { try FinishedProcess.run(executable, arguments) }
    }

    static func services(now: Int64? = 1_700_000_000_000, fetcher: DocumentFetcher? = nil) -> HostServices {
        HostServices(logger: Logger(label: "test"), nowMilliseconds: now, fetcher: fetcher)
    }
}

/// The loopback server of Tests/Support/http_test_server.py, for one test; it prints its port first.
final class TestHTTPServer {
    let server: ServerProcess
    let port: Int

    /// `files`: a folder served under `/files/`.
    init(files: String? = nil) throws {
        let environment = files.map { ProcessInfo.processInfo.environment.merging(["TEST_SERVER_FILES": $0]) { $1 } }
        server = try ServerProcess(executable: "/usr/bin/env",
                                   arguments: ["python3", TestPaths.packageRoot.appendingPathComponent("Tests/Support/http_test_server.py").path],
                                   environment: environment, ready: { Int($0) != nil })
        port = Int(server.firstLine) ?? 0
    }

    func url(_ path: String) -> String { "http://127.0.0.1:\(port)\(path)" }
}
