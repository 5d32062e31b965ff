import App
import Foundation

/// `scripts/stack` run to break and mend the stack's servers (restart, lose): by the fault matrix and the fault tests. Spawned and awaited with
/// posix_spawn and waitpid, on a thread of its own: Foundation's Process learns of an exit through a
/// descriptor the child inherits, which a restarted server (a grandchild) keeps open for good.
package struct StackScript: Sendable {
    let path: String
    let logPath: String

    package init(path: String, logPath: String) throws {
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw CommandFailure("\(path) is not there: run from the repository's root, or name it with --stack")
        }
        self.path = path
        self.logPath = logPath
    }

    package func run(_ words: [String]) async throws {
        let path = self.path, log = logPath
        let status: Int32 = await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                var actions = posix_spawn_file_actions_t()
                posix_spawn_file_actions_init(&actions)
                defer { posix_spawn_file_actions_destroy(&actions) }
                // The server the script starts must take SIGTERM later: no signal blocked or ignored from here.
                var attributes = posix_spawnattr_t()
                posix_spawnattr_init(&attributes)
                defer { posix_spawnattr_destroy(&attributes) }
                var none = sigset_t(), all = sigset_t()
                sigemptyset(&none)
                sigfillset(&all)
                posix_spawnattr_setsigmask(&attributes, &none)
                posix_spawnattr_setsigdefault(&attributes, &all)
                posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
                posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
                posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0o644)
                posix_spawn_file_actions_adddup2(&actions, 1, 2)
                let arguments: [UnsafeMutablePointer<CChar>?] = [strdup(path)] + words.map { strdup($0) } + [nil]
                defer { arguments.forEach { free($0) } }
                var pid: pid_t = 0
                guard posix_spawn(&pid, path, &actions, &attributes, arguments, environ) == 0 else {
                    continuation.resume(returning: -1)
                    return
                }
                var status: Int32 = 0
                while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
                continuation.resume(returning: status)
            }
        }
        guard status == 0 else { throw CommandFailure("\(path) \(words.joined(separator: " ")) failed (\(status)); its output is in \(log)") }
    }
}
