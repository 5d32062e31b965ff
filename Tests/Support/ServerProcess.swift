import Foundation

/// A server the tests start as a child process (`batchsender serve`, `batchsender sandbox`, the Python test
/// server), which says on its first line of standard output that it is ready. Killed (SIGKILL) when released.
public final class ServerProcess: @unchecked Sendable {
    public let process = Process()
    /// What it printed first (the sandbox and serve: a "listening" line; the Python server: its port).
    public let firstLine: String

    /// Starts `executable` and waits for its first line; throws, having killed it, when `ready` says that line is
    /// not a start. `log`: a file its standard error is appended to (else it goes nowhere: a server outliving a
    /// crashed test must not hold the test runner's own stderr open).
    public init(executable: String, arguments: [String], environment: [String: String]? = nil, log: String? = nil,
                ready: (String) -> Bool = { $0.contains("listening") }) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        let out = Pipe()
        process.standardOutput = out
        if let log {
            if !FileManager.default.fileExists(atPath: log) { _ = FileManager.default.createFile(atPath: log, contents: nil) }
            let handle = FileHandle(forWritingAtPath: log)
            handle?.seekToEndOfFile()
            process.standardError = handle
        } else {
            process.standardError = FileHandle.nullDevice
        }
        try process.run()
        firstLine = try Self.firstLine(of: out)
        guard ready(firstLine) else {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            throw TestSupportError("\(URL(fileURLWithPath: executable).lastPathComponent) \(arguments.prefix(3).joined(separator: " ")) did not start: "
                                   + (firstLine.isEmpty ? "it exited without a word (is it built? run scripts/build)" : firstLine))
        }
    }

    public var pid: Int32 { process.processIdentifier }

    /// `kill -9`: no draining, no goodbye.
    public func kill9() {
        guard process.isRunning else { return }
        // SIGKILL, not terminate(): a child spawned from a dispatch worker thread inherits its blocked SIGTERM.
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// SIGTERM, and waits until it drained and exited; its exit status.
    public func terminate() -> Int32 {
        if process.isRunning { kill(process.processIdentifier, SIGTERM) }
        process.waitUntilExit()
        return process.terminationStatus
    }

    deinit { kill9() }

    /// The first line a child process writes to `pipe`; empty when it closed the pipe first.
    static func firstLine(of pipe: Pipe) throws -> String {
        var line = Data()
        while let byte = try pipe.fileHandleForReading.read(upToCount: 1), !byte.isEmpty, byte != Data("\n".utf8) {
            line.append(byte)
        }
        return String(decoding: line, as: UTF8.self)
    }
}
