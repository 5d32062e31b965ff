import Foundation
import HostCore
import Logging
import ProviderModel

/// Where the package, its build products and the test fixtures are, and the
/// C fixture plugins compiled once per test run.
enum TestEnvironment {
    static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The build products `scripts/build` made (BATCHSENDER_BIN overrides).
    static let binDirectory: URL = {
        if let bin = ProcessInfo.processInfo.environment["BATCHSENDER_BIN"] { return URL(fileURLWithPath: bin) }
        return packageRoot.appendingPathComponent(".build/debug")
    }()

    static var swiftEcho: String { binDirectory.appendingPathComponent("libEchoProvider.so").path }
    static var cEcho: String { binDirectory.appendingPathComponent("libEchoCProvider.so").path }
    static var cli: String { binDirectory.appendingPathComponent("batchsender").path }
    static var conformance: String { binDirectory.appendingPathComponent("batchsender-conformance").path }

    static let scratch: URL = {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("batchsender-tests-\(getpid())")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }()

    /// Compiles Tests/Fixtures/plugins/NAME.c into a shared object, once per
    /// variant; `flags` are extra cc arguments (defines, libraries).
    static func fixturePlugin(_ name: String, variant: String = "", flags: [String] = []) throws -> String {
        try fixtureLock.withLock {
            let output = scratch.appendingPathComponent("lib\(name)\(variant).so").path
            if FileManager.default.fileExists(atPath: output) { return output }
            let source = packageRoot.appendingPathComponent("Tests/Fixtures/plugins/\(name).c").path
            let include = packageRoot.appendingPathComponent("Sources/ProviderSDK/ABI/include").path
            let result = try run("/usr/bin/cc", ["-std=c11", "-Wall", "-Werror", "-shared", "-fPIC", "-I", include, source]
                                 + flags + ["-o", output])
            guard result.status == 0 else { throw FixtureError(message: "cc failed for \(name): \(result.stderr)") }
            return output
        }
    }

    private static let fixtureLock = NSLock()

    struct FixtureError: Error { var message: String }

    struct RunResult {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static func run(_ executable: String, _ arguments: [String], stdin: Data? = nil) throws -> RunResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdoutData = out.fileHandleForReading.readDataToEndOfFile()
        let stderrData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return RunResult(status: process.terminationStatus, stdout: String(decoding: stdoutData, as: UTF8.self),
                         stderr: String(decoding: stderrData, as: UTF8.self))
    }

    /// The first line a child process writes to `pipe` (servers announce themselves so).
    static func firstLine(of pipe: Pipe) throws -> String {
        var line = Data()
        while let byte = try pipe.fileHandleForReading.read(upToCount: 1), !byte.isEmpty, byte != Data("\n".utf8) {
            line.append(byte)
        }
        return String(decoding: line, as: UTF8.self)
    }

    static func write(_ text: String, name: String) throws -> String {
        let url = scratch.appendingPathComponent("\(UUID().uuidString)-\(name)")
        try Data(text.utf8).write(to: url)
        return url.path
    }

    static func services(now: Int64? = 1_700_000_000_000, fetcher: DocumentFetcher? = nil) -> HostServices {
        HostServices(logger: Logger(label: "test"), nowMilliseconds: now, fetcher: fetcher)
    }
}

/// The loopback server of Tests/Support/http_test_server.py, for one test.
final class TestHTTPServer {
    let process = Process()
    let port: Int

    /// `files`: a folder served under `/files/`.
    init(files: String? = nil) throws {
        if let files { process.environment = ProcessInfo.processInfo.environment.merging(["TEST_SERVER_FILES": files]) { $1 } }
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", TestEnvironment.packageRoot.appendingPathComponent("Tests/Support/http_test_server.py").path]
        let out = Pipe()
        process.standardOutput = out
        // Not the test runner's own stderr: a server outliving a crashed test would hold that pipe open.
        process.standardError = FileHandle.nullDevice
        try process.run()
        guard let port = Int(try TestEnvironment.firstLine(of: out)) else {
            kill(process.processIdentifier, SIGKILL)
            throw TestEnvironment.FixtureError(message: "the test server did not print its port")
        }
        self.port = port
    }

    func url(_ path: String) -> String { "http://127.0.0.1:\(port)\(path)" }

    deinit {
        // SIGKILL, not terminate(): a child spawned from a dispatch worker thread
        // inherits its blocked SIGTERM and would never stop.
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}
