#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Runs a command with its stdout and stderr captured, stopping it when it
/// has written nothing to stdout for `timeout` seconds of the runner's own
/// running (see `collect`), or for three times that by the wall clock: a child that reports
/// each step it takes is stopped when one step hangs, however many it has. Spawned
/// with posix_spawn and an empty signal mask: a child inherits blocked
/// signals, and one started from a thread that blocks SIGTERM could not be
/// stopped gently on a timeout.
struct ChildProcess {
    private static let spawnLock = NSLock()

    enum Ending: Equatable {
        case exited(Int32)
        case signalled(Int32)
        case timedOut(seconds: Double)
    }

    struct Output {
        var ending: Ending
        var stdout: [UInt8]
        var stderr: [UInt8]
    }

    enum SpawnError: Error, CustomStringConvertible {
        case failed(String, Int32)
        var description: String {
            switch self {
            case .failed(let path, let code): "could not start \(path): \(String(cString: strerror(code)))"
            }
        }
    }

    static func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:],
                    timeout: Double) throws(SpawnError) -> Output {
        let (pid, stdout, stderr) = try spawn(executable, arguments, environment: environment)
        return collect(pid: pid, stdout: stdout, stderr: stderr, timeout: timeout)
    }

    /// Starts the child; gives its pid and the read ends of its stdout and stderr. Groups are
    /// spawned from two threads at once, and a child that inherited the other group's pipe would
    /// hold its write end open: a group that finished would then wait on one that hangs. So the
    /// pipes are close-on-exec, made and handed over under one lock (Glibc's module lacks pipe2).
    private static func spawn(_ executable: String, _ arguments: [String],
                              environment: [String: String]) throws(SpawnError) -> (pid_t, Int32, Int32) {
        spawnLock.lock()
        defer { spawnLock.unlock() }
        var outPipe: [Int32] = [0, 0], errPipe: [Int32] = [0, 0]
        guard pipe(&outPipe) == 0, pipe(&errPipe) == 0 else { throw .failed(executable, errno) }
        for fd in outPipe + errPipe { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var defaults = sigset_t()
        sigfillset(&defaults)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let merged = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = merged.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }

        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        close(outPipe[1])
        close(errPipe[1])
        guard spawned == 0 else {
            close(outPipe[0])
            close(errPipe[0])
            throw .failed(executable, spawned)
        }
        return (pid, outPipe[0], errPipe[0])
    }

    private static func collect(pid: pid_t, stdout: Int32, stderr: Int32, timeout: Double) -> Output {
        var output = Output(ending: .exited(0), stdout: [], stderr: [])
        let start = ContinuousClock.now
        var lastProgress = start
        // When the child last wrote a line by the wall clock, and when the last turn of this loop ended.
        var lastProgressWall = start, turnEnded = start
        var open = [stdout, stderr]
        var timedOut = false, killed = false
        var buffer = [UInt8](repeating: 0, count: 65536)
        while !open.isEmpty {
            let elapsed = ContinuousClock.now - lastProgress
            var left = timeout - Double(elapsed.components.seconds) - Double(elapsed.components.attoseconds) / 1e18
            // The time excused below is bounded: a child silent for three timeouts by the wall clock is stopped
            // however little the runner ran (a child that starves its own runner is hung too).
            let wall = ContinuousClock.now - lastProgressWall
            if !timedOut && wall > .seconds(3 * timeout) { left = 0 }
            // SIGTERM first, so the child can name the input it was on; SIGKILL if it is still there 2 s later.
            if left <= 0 && !timedOut {
                timedOut = true
                kill(pid, SIGTERM)
            } else if left <= -2 && !killed {
                killed = true
                kill(pid, SIGKILL)
            }
            var fds = open.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            let asked = timedOut ? 1000 : Int32(max(1, min(left * 1000, 1000)))
            let ready = poll(&fds, nfds_t(fds.count), asked)
            if ready < 0 && errno != EINTR { break }
            // A turn that ended long after its poll was asked to return means this process did not run meanwhile:
            // stopped (SIGSTOP to its process group, as scripts/test does while the timing tests run) or starved
            // of CPU at a low priority, which its child in the same process group was too. Such a stretch over a
            // second is not counted as the child's silence, nor toward the 2 s between SIGTERM and SIGKILL.
            let late = ContinuousClock.now - turnEnded - .milliseconds(Int(asked))
            if late > .seconds(1) { lastProgress += late }
            for fd in fds where fd.revents != 0 {
                let count = buffer.withUnsafeMutableBytes { read(fd.fd, $0.baseAddress, $0.count) }
                if count > 0 {
                    if fd.fd == stdout {
                        output.stdout += buffer[0..<count]
                        if !timedOut {
                            lastProgress = ContinuousClock.now
                            lastProgressWall = lastProgress
                        }
                    } else {
                        output.stderr += buffer[0..<count]
                    }
                } else {
                    close(fd.fd)
                    open.removeAll { $0 == fd.fd }
                }
            }
            turnEnded = ContinuousClock.now
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        if timedOut {
            output.ending = .timedOut(seconds: timeout)
        } else if status & 0x7f == 0 {
            output.ending = .exited((status >> 8) & 0xff)
        } else {
            output.ending = .signalled(status & 0x7f)
        }
        return output
    }
}
