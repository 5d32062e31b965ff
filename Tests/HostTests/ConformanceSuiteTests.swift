import Foundation
import TestSupport
import Testing

/// The conformance suite is proven to fail: each deliberately broken plugin
/// (Tests/Fixtures/plugins/broken_echo.c) fails on the check that names its
/// defect, and the suite survives to print its verdict.
@Suite("Conformance suite", .serialized)
struct ConformanceSuiteTests {
    static let fixtures = TestPaths.packageRoot.appendingPathComponent("Sources/Providers/Echo/Fixtures").path

    static func broken(_ defect: Int) throws -> String {
        let versionScript = TestPaths.packageRoot.appendingPathComponent("Sources/ProviderSDK/plugin-exports.map").path
        return try TestEnvironment.fixturePlugin("broken_echo", variant: "\(defect)",
                                                 flags: ["-DBREAK=\(defect)", "-Wl,--version-script=\(versionScript)", "-lcrypto"])
    }

    static func suite(_ plugin: String, _ extra: [String] = []) async throws -> TestEnvironment.RunResult {
        try await TestEnvironment.run(TestEnvironment.conformance, [plugin, "--fixtures", fixtures, "--fuzz-iterations", "200"] + extra)
    }

    struct Defect: Sendable, CustomTestStringConvertible {
        var number: Int
        var name: String
        var options: [String] = []
        /// Lines the summary must contain: the failing check, and what it saw.
        var expected: [String]
        var testDescription: String { name }
    }

    static let defects: [Defect] = [
        Defect(number: 1, name: "accepts any signature",
               expected: ["FAIL  webhooks: verify other-secret.json", "FAIL  webhooks: delivered.json: tampered body"]),
        Defect(number: 2, name: "crashes on an empty body",
               expected: ["FAIL  webhooks: parse refuses an empty body", "crashed (signal 11"]),
        Defect(number: 3, name: "serves another ABI major",
               expected: ["FAIL  handshake: loads with RTLD_NOW | RTLD_LOCAL", "returned NULL for major 1"]),
        Defect(number: 4, name: "one outcome for a two-message batch",
               expected: ["FAIL  sender: response fixture accepted.json", "interpret gave message 1 no outcome"]),
        Defect(number: 5, name: "reads 429 as permanent",
               expected: ["FAIL  sender: response fixture rate-limited.json", "FAIL  sender: status classes: 429 → throttled"]),
        Defect(number: 6, name: "leaks on every call", options: ["--only", "memory"],
               expected: ["FAIL  memory: prepare 1, called in 3 windows: the heap stops growing", "bytes per call"]),
        Defect(number: 7, name: "takes 30 s in verify", options: ["--only", "webhooks", "--timeout", "4"],
               expected: ["FAIL  webhooks: verify bounces.json", "the plugin hangs"]),
        // Issue 30: one request with this header took the whole host down; the failure names the header and the value.
        Defect(number: 8, name: "traps on a timestamp of INT64_MIN", options: ["--only", "hostile"],
               expected: ["FAIL  hostile: hostile values: header x-echo-timestamp", "crashed (signal 6",
                          "on input: verify with header x-echo-timestamp = INT64_MIN (replaced)"]),
        Defect(number: 9, name: "sends a message without its files", options: ["--only", "sender"],
               expected: ["FAIL  sender: attachments reach every request intact, or are refused with attachments_unsupported",
                          "does not carry the file's bytes and name"]),
    ]

    /// Under valgrind the groups run in two lanes, alternate groups in each, one process a lane.
    static let valgrindDefects: [Defect] = [
        // Here webhooks and fuzz in one lane, hostile in the other.
        Defect(number: 2, name: "under valgrind, crashes on an empty body: the check fails, and its lane's later group is not run",
               options: ["--valgrind", "--only", "webhooks", "--only", "hostile", "--only", "fuzz"],
               expected: ["FAIL  webhooks: parse refuses an empty body", "crashed (signal 11",
                          "FAIL  fuzz: run the group", "not run: its process (webhooks+fuzz) ended in group webhooks",
                          // The repeat names the plugin as given, not valgrind's stripped copy of it.
                          "libbroken_echo2.so --valgrind --only webhooks --seed"]),
        // Here handshake and webhooks in one lane, config in the other: the crash in webhooks followed handshake.
        Defect(number: 2, name: "under valgrind, a crash in a lane's second group: its repeat names the group that went before",
               options: ["--valgrind", "--only", "handshake", "--only", "config", "--only", "webhooks"],
               expected: ["FAIL  webhooks: parse refuses an empty body", "crashed (signal 11",
                          "--valgrind --only webhooks --seed 1 --fuzz-iterations 200 (in this run it followed handshake in one process)"]),
        // A leak is found when the lane's process exits, so it is reported under the lane's groups (config and memory).
        Defect(number: 6, name: "under valgrind, leaks on every call: named by the lane's groups and the plugin function",
               options: ["--valgrind", "--only", "config", "--only", "requests", "--only", "memory"],
               expected: ["FAIL  config+memory: valgrind: no leaks or invalid accesses", "definitely lost", "libbroken_echo"]),
    ]

    @Test("every broken plugin fails on the check that names its defect, and the suite survives", arguments: defects)
    func brokenPluginFails(_ defect: Defect) async throws {
        let result = try await Self.suite(try Self.broken(defect.number), defect.options)
        #expect(result.status == 1, "\(result.stderr)")
        for line in defect.expected {
            #expect(result.stdout.contains(line), "missing \"\(line)\" in:\n\(result.stdout.suffix(3000))")
        }
        #expect(result.stdout.contains("DOES NOT CONFORM"))
    }

    @Test("under valgrind, a broken plugin's failure is pinned to its check and its lane's groups, and nothing is skipped silently",
          .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/valgrind"), "valgrind is not installed"),
          arguments: valgrindDefects)
    func brokenPluginFailsUnderValgrind(_ defect: Defect) async throws {
        try await brokenPluginFails(defect)
    }

    @Test("the C example and the Swift echo plugin conform, and the reports are written",
          arguments: [TestEnvironment.cEcho, TestEnvironment.swiftEcho])
    func examplesConform(_ plugin: String) async throws {
        let report = TestPaths.scratch.appendingPathComponent("report-\(URL(fileURLWithPath: plugin).lastPathComponent).xml").path
        let result = try await Self.suite(plugin, ["--report", "junit", "--report-file", report])
        #expect(result.status == 0, "\(result.stdout.split(separator: "\n").filter { $0.hasPrefix("FAIL") || $0.hasPrefix("      ") })")
        #expect(!result.stdout.contains("FAIL"))
        let xml = try String(contentsOfFile: report, encoding: .utf8)
        #expect(xml.contains("<testsuite name=\"webhooks\""))
        #expect(!xml.contains("<failure"))
    }

    @Test("a run stopped with its children for longer than the check timeout (SIGSTOP to its process group, as scripts/test does to the valgrind run while the timing tests go) takes the stop for no hang and conforms")
    func stoppedRunIsNoHang() async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: TestEnvironment.conformance)
        process.arguments = [TestEnvironment.cEcho, "--fixtures", Self.fixtures, "--fuzz-iterations", "200", "--timeout", "8"]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = out
        try process.run()
        let reading = Task { await onOwnThread { out.fileHandleForReading.readDataToEndOfFile() } }
        // The whole group, the runner and the group's child it waits on: what `kill -STOP -PGID` stops.
        let group = getpgid(process.processIdentifier)
        try #require(group == process.processIdentifier, "the runner leads a process group of its own")
        try await Task.sleep(for: .milliseconds(500))
        try #require(process.isRunning, "the run was still going when stopped")
        try #require(kill(-group, SIGSTOP) == 0)
        defer { kill(-group, SIGCONT) }
        // Past the 8 s timeout (which a loaded machine's slowest check stays well within), and short of the three
        // timeouts by the wall clock that stop a child whatever it is.
        try await Task.sleep(for: .seconds(12))
        try #require(kill(-group, SIGCONT) == 0)
        let text = String(decoding: await reading.value, as: UTF8.self)
        await onOwnThread { process.waitUntilExit() }
        #expect(process.terminationStatus == 0, "\(text.split(separator: "\n").filter { !$0.hasPrefix("PASS") }.joined(separator: "\n"))")
        #expect(text.contains("CONFORMS") && !text.contains("FAIL"))
    }

    @Test("bad usage exits 2 with one line", arguments: [
        (["/nonexistent.so"], "no such file"),
        (["@C@", "--only", "nosuchgroup"], "no such group"),
        (["@C@", "--fixtures", "/tmp"], "no fixtures.json"),
        (["@C@", "--report", "yaml"], "yaml"),
    ])
    func badUsage(_ arguments: [String], _ expected: String) async throws {
        try await expectBadUsage(arguments, expected)
    }

    @Test("fixtures that cannot be read are bad usage, naming the file and the field")
    func unreadableFixtures() async throws {
        let folder = TestPaths.scratch.appendingPathComponent("bad-fixtures")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try Data(#"{"plugins": ["echo-c"], "config": {}}"#.utf8).write(to: folder.appendingPathComponent("fixtures.json"))
        try await expectBadUsage(["@C@", "--fixtures", folder.path], "fixtures.json: missing now_ms")
    }

    private func expectBadUsage(_ arguments: [String], _ expected: String) async throws {
        let result = try await TestEnvironment.run(TestEnvironment.conformance,
                                             arguments.map { $0 == "@C@" ? TestEnvironment.cEcho : $0 })
        #expect(result.status == 2)
        #expect(result.stderr.contains(expected), "\(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
    }
}
