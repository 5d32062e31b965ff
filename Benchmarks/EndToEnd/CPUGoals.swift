/// The CPU each process may spend per message in `bench e2e --check`: the performance goals of the platform,
/// set in CPU per message because that travels between machines where rates do not (the same run on two
/// shared cores differs up to 3× from one day to the next). A batching provider (Resend: up to 100 emails a
/// request) is held to the whole pipeline's budget; a provider of one message per request to the host's.
struct CPUGoals {
    /// µs of CPU per message, per watched process (names as `bench e2e` prints them), and for all together (the
    /// sandbox included, as the goals were set: it stands for the providers' side of a request).
    var perProcess: [String: Double]
    var total: Double?

    static func goals(for provider: DeliveryRun.Provider) -> CPUGoals {
        switch provider {
        case .resend:
            CPUGoals(perProcess: [host: 12, "postgres": 5, "clickhouse": 3, "redis": 4], total: 36)
        case .ses, .telnyx, .webhook:
            CPUGoals(perProcess: [host: 30], total: nil)
        }
    }

    /// The name `bench e2e` gives the host's line.
    static let host = "host (all roles)"

    /// What is over its goal in a run: one line each, empty when the run meets every goal.
    func misses(_ perMessage: [String: Double]) -> [String] {
        var misses: [String] = []
        for (name, goal) in perProcess.sorted(by: { $0.key < $1.key }) {
            guard let spent = perMessage[name] else {
                misses.append("\(name) not measured (no such process watched), goal ≤ \(Int(goal))")
                continue
            }
            if spent > goal { misses.append(String(format: "%@ %.1f µs/msg, goal ≤ %.0f", name, spent, goal)) }
        }
        let all = perMessage.values.reduce(0, +)
        if let total, all > total { misses.append(String(format: "all processes %.1f µs/msg, goal ≤ %.0f", all, total)) }
        return misses
    }
}
