import App
import Foundation

/// The roles of one deployment run apart, several processes of each, as `serve --roles …` against the same
/// servers: what `batchsender cluster-demo` starts, kills and starts again.
final class RoleProcesses: @unchecked Sendable {
    /// One kind of process: its roles, how many, and how each one starts.
    struct Kind {
        let name: String
        let roles: String
        let count: Int
        /// The host config the `index`th process reads (the receivers each have their own port), and its API port.
        let config: (Int) -> String
        let apiPort: (Int) -> Int?
    }

    let executable: String
    let environment: [String: String]
    let work: String
    private(set) var running: [String: ChildProcess] = [:]
    private var kinds: [String: Kind] = [:]

    init(executable: String, environment: [String: String], work: String) {
        self.executable = executable
        self.environment = environment
        self.work = work
    }

    /// Starts every process of `kind` (`name-1`, `name-2`, …).
    func start(_ kind: Kind) throws {
        kinds[kind.name] = kind
        for index in 1...kind.count { try start(kind.name, index) }
    }

    /// Starts one process again (or for the first time) and waits until it runs its roles.
    func start(_ kindName: String, _ index: Int) throws {
        guard let kind = kinds[kindName] else { throw CommandFailure("no process kind \(kindName)") }
        let name = "\(kindName)-\(index)"
        var arguments = ["serve", "--roles", kind.roles, "--config", kind.config(index), "--log-level", "warning", "--web-port", "0"]
        if let port = kind.apiPort(index) { arguments += ["--port", String(port)] }
        running[name] = try ChildProcess(name: name, executable: executable, arguments: arguments, environment: environment,
                                         logPath: work + "/\(name).log", readyText: kind.roles.contains("api") ? "api listening" : "roles running",
                                         timeoutSeconds: 60, appending: true)
    }

    /// kill -9 of one process: a node's process gone with no goodbye.
    func kill9(_ name: String) {
        running.removeValue(forKey: name)?.kill9()
    }

    /// Every process of a kind, by name.
    func processes(of kindName: String) -> [ChildProcess] {
        running.filter { $0.key.hasPrefix(kindName + "-") }.sorted { $0.key < $1.key }.map(\.value)
    }

    /// The running process with this pid, if one of ours.
    func name(ofPID pid: Int32) -> String? { running.first { $0.value.pid == pid }?.key }

    func stopAll() {
        for name in running.keys.sorted() { running.removeValue(forKey: name)?.stop() }
    }
}
