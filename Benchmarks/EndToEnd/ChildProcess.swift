import App
import Foundation

/// A BatchSender process the benchmark starts (sandbox, serve) or watches (the
/// stack's servers): its CPU seconds and peak memory, read from /proc.
final class ChildProcess: @unchecked Sendable {
    let name: String
    let pid: Int32
    private let process: Process?
    let logPath: String?

    /// Starts `executable arguments…`, its output in `logPath`, and waits until the log has `readyText`.
    /// `appending`: the log is kept and added to (a process started again), and only what it writes now is
    /// looked at for `readyText`.
    init(name: String, executable: String, arguments: [String], environment: [String: String]? = nil, logPath: String,
         readyText: String, timeoutSeconds: Double = 30, appending: Bool = false) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        if !appending || !FileManager.default.fileExists(atPath: logPath) { _ = FileManager.default.createFile(atPath: logPath, contents: nil) }
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        let start = try log.seekToEnd()
        process.standardOutput = log
        process.standardError = log
        try process.run()
        self.name = name
        self.process = process
        self.logPath = logPath
        pid = process.processIdentifier
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while Date() < deadline {
            if let text = try? String(contentsOfFile: logPath, encoding: .utf8),
               String(decoding: Array(text.utf8.dropFirst(Int(start))), as: UTF8.self).contains(readyText) { return }
            guard process.isRunning else { break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        process.terminate()
        throw CommandFailure("\(name) did not start (log \(logPath)): \(text.suffix(600))")
    }

    /// A process already running (a stack server).
    init(name: String, pid: Int32) {
        self.name = name
        self.pid = pid
        process = nil
        logPath = nil
    }

    /// User + system CPU seconds so far.
    var cpuSeconds: Double { statSeconds(fields: 2) }

    /// User + system CPU seconds so far, with those of its children that ended and were waited for: a server that
    /// forks (PostgreSQL's backends and workers, Redis's snapshot child) keeps what they spent after they are gone.
    var cpuSecondsWithChildren: Double { statSeconds(fields: 4) }

    /// The sum of `fields` CPU times of /proc/<pid>/stat, in seconds, from utime on: utime, stime, cutime, cstime
    /// (fields 14 to 17, 1-based over the whole line); 0 for a process that is gone.
    private func statSeconds(fields count: Int) -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return 0 }
        // After the command: state is field 3, utime field 14.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count >= 11 + count else { return 0 }
        let ticks = fields[11..<11 + count].compactMap { Double($0) }
        guard ticks.count == count else { return 0 }
        return ticks.reduce(0, +) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// Peak resident memory (VmHWM) in MiB.
    var peakMiB: Double {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
              let kb = Double(line.split(separator: " ").dropFirst().first ?? "") else { return 0 }
        return kb / 1024
    }

    var isRunning: Bool { kill(pid, 0) == 0 }

    /// SIGKILL: gone at once, nothing drained (a crash, a node lost).
    func kill9() {
        guard let process, process.isRunning else { return }
        kill(pid, SIGKILL)
        process.waitUntilExit()
    }

    /// SIGTERM, then waits for it to drain and exit.
    func stop() {
        guard let process, process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }

    /// The stack's servers by their command names (every postgres process counts: the server forks per connection).
    static func stackServers() -> [(group: String, processes: [ChildProcess])] {
        let names = ["nats-server": "nats", "redis-server": "redis", "postgres": "postgres", "clickhouse-serv": "clickhouse",
                     "clickhouse": "clickhouse"]
        var groups: [String: [ChildProcess]] = [:]
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        for entry in entries {
            guard let pid = Int32(entry), let comm = try? String(contentsOfFile: "/proc/\(entry)/comm", encoding: .utf8) else { continue }
            let command = comm.trimmingCharacters(in: .whitespacesAndNewlines)
            guard let group = names[command] else { continue }
            groups[group, default: []].append(ChildProcess(name: group, pid: pid))
        }
        return groups.keys.sorted().map { ($0, groups[$0]!) }
    }
}
