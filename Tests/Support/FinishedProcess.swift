import Foundation
import Synchronization

/// A child process run to its end: its exit status and everything it wrote.
public struct FinishedProcess: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String

    /// Runs `executable` and waits for it on the calling thread (from async code, inside `onOwnThread` unless it
    /// ends at once: a cooperative thread is held until it ends). Both pipes are read at once, stderr on a thread
    /// of its own: read one after the other, a child that fills the second pipe's 64 KiB before closing the first
    /// would wait on the test forever. `mergingStderr` sends both to stdout.
    public static func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil,
                           mergingStderr: Bool = false) throws -> FinishedProcess {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        let out = Pipe(), err = mergingStderr ? out : Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stderrData = Mutex(Data())
        let stderrRead = DispatchSemaphore(value: 0)
        if mergingStderr {
            stderrRead.signal()
        } else {
            Thread.detachNewThread {
                let data = err.fileHandleForReading.readDataToEndOfFile()
                stderrData.withLock { $0 = data }
                stderrRead.signal()
            }
        }
        let stdoutData = out.fileHandleForReading.readDataToEndOfFile()
        stderrRead.wait()
        process.waitUntilExit()
        return FinishedProcess(status: process.terminationStatus, stdout: String(decoding: stdoutData, as: UTF8.self),
                               stderr: String(decoding: stderrData.withLock { $0 }, as: UTF8.self))
    }
}
