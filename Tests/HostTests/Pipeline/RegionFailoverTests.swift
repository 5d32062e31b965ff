import Foundation
import HostCore
import TestSupport
import Testing

/// Two regions on one machine (two deployments, each with its own API process), and scripts/region-failover
/// keeping one active: the region whose API stops answering is replaced by the other within a few checks, and
/// a region that comes back does not take traffic back by itself. The API is frozen (SIGSTOP) rather than
/// killed: a killed one frees its port, which another test's server may take and answer on.
@Suite("Two regions: the active one switched when it dies")
struct RegionFailoverTests {
    @Test("the active region's API hangs: the other is active within 3 checks of 200 ms, and stays so when the first answers again")
    func switchesWhenActiveDies() async throws {
        let eu = try PipelineHarness(deployment: "region_eu_\(getpid())")
        let us = try PipelineHarness(deployment: "region_us_\(getpid())")
        defer {
            eu.finish()
            us.finish()
        }
        try eu.start("api", roles: "api")
        try us.start("api", roles: "api")
        let file = TestPaths.scratch.appendingPathComponent("active-region-\(getpid())").path
        try? FileManager.default.removeItem(atPath: file)
        // The switch's hook (a DNS update, in a deployment) is told the new region's name and URL.
        let hook = TestPaths.scratch.appendingPathComponent("on-switch-\(getpid()).sh").path, told = hook + ".out"
        try "#!/bin/sh\necho \"$1 $2\" > '\(told)'\n".write(toFile: hook, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: hook)
        let failover = try ServerProcess(
            executable: TestPaths.packageRoot.appendingPathComponent("scripts/region-failover").path,
            arguments: ["--region", "eu=http://127.0.0.1:\(eu.apiPort)", "--region", "us=http://127.0.0.1:\(us.apiPort)", "--active-file", file,
                        "--interval-ms", "200", "--failures", "3", "--timeout-ms", "300", "--on-switch", hook],
            ready: { $0.contains("is active") })
        defer { failover.kill9() }
        #expect(try Self.active(file) == "eu", "the first region that answers is active")

        eu.signal("api", SIGSTOP)
        let stopped = Date()
        // Timed by the file's own write, not by this test's polling: beside the whole suite on two cores, a test's
        // tasks may wait their turn for long, and the poll would time the wait.
        try await eventually("us active", timeout: .seconds(120), interval: .milliseconds(50)) { try Self.active(file) == "us" }
        let switched = try #require(try FileManager.default.attributesOfItem(atPath: file)[.modificationDate] as? Date)
        let took = switched.timeIntervalSince(stopped)
        // Three failed checks 200 ms apart, each timing out after 300 ms: about 1.5 s.
        #expect(took < 5, "the switch took \(took) s")
        print("region failover: us active \(took) s after eu's API stopped answering")
        try await eventually("the hook told", timeout: .seconds(120)) { (try? String(contentsOfFile: told, encoding: .utf8)) == "us http://127.0.0.1:\(us.apiPort)\n" }

        eu.signal("api", SIGCONT)
        try await eventually("eu answers again", timeout: .seconds(120)) { LoopbackPort.accepts(eu.apiPort) }
        try await Task.sleep(for: .seconds(2))
        #expect(try Self.active(file) == "us", "a region that comes back waits until the active one fails")
    }

    static func active(_ file: String) throws -> String {
        String(try String(contentsOfFile: file, encoding: .utf8).split(separator: " ").first ?? "")
    }
}
