import TestSupport
import Testing

/// The helper every test that runs a command relies on: read one pipe to its end before the other, and a child
/// that fills the other first would never end, nor would the test that waits on it.
@Suite("A child process run to its end")
struct FinishedProcessTests {
    @Test("a child that writes 256 KiB to stderr before its stdout ends, and both are read whole")
    func stderrFirst() async throws {
        let run = try await onOwnThread {
            // Under `timeout`: a helper that read stdout first would wait for a child stuck on its full stderr pipe,
            // which `timeout` ends (exit 124, 64 KiB of stderr read), rather than hang the test run.
            try FinishedProcess.run("/usr/bin/timeout", ["20", "/bin/sh", "-c", "head -c 262144 /dev/zero >&2; echo done; exit 3"])
        }
        #expect(run.status == 3, "exit \(run.status) with \(run.stderr.utf8.count) bytes of stderr")
        #expect(run.stdout == "done\n")
        #expect(run.stderr.utf8.count == 262_144 && run.stderr.allSatisfy { $0 == "\0" })
    }

    @Test("merged, stderr and stdout arrive in one text, in the order written")
    func merged() async throws {
        let run = try await onOwnThread { try FinishedProcess.run("/bin/sh", ["-c", "echo one >&2; echo two"], mergingStderr: true) }
        #expect(run.status == 0 && run.stdout == "one\ntwo\n" && run.stderr.isEmpty)
    }
}
