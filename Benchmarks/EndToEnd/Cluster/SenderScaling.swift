import App
import Foundation
import HostCore

/// One sender process against three, same machine, same run, no limit: a Resend batch each, and the messages per
/// second and CPU per message of the senders and of every process of the run. On two cores three senders cannot
/// send much faster; the CPU per message shows whether coordination costs anything.
struct SenderScaling {
    let processes: RoleProcesses
    let delivery: DeliveryRun
    let api: APIClient
    let progress: SandboxProgress

    func measure(count: Int, offset: Int) async throws {
        let config = try await delivery.createConfig(.resend)
        var lines: [String] = []
        for senders in [1, 3] {
            for index in 1...3 {
                let running = processes.running.keys.contains("sender-\(index)")
                if index > senders, running { processes.kill9("sender-\(index)") }
                if index <= senders, !running { try processes.start("sender", index) }
            }
            let batch = try await delivery.upload(.resend, configID: config, count: count, offset: offset + (senders == 1 ? 0 : count))
            let all = Array(processes.running.values)
            let sendersNow = processes.processes(of: "sender")
            let cpuAllBefore = all.reduce(0) { $0 + $1.cpuSeconds }, cpuSendersBefore = sendersNow.reduce(0) { $0 + $1.cpuSeconds }
            let started = Date()
            _ = try await api.call("POST", "/api/batches/\(batch)/send")
            let detail = try await FaultMatrix.settle(batch, api: api, seconds: 600)
            let seconds = Date().timeIntervalSince(started)
            let sent = detail["counts"]?["sent"]?.int ?? 0
            let cpuAll = all.reduce(0) { $0 + $1.cpuSeconds } - cpuAllBefore
            let cpuSenders = sendersNow.reduce(0) { $0 + $1.cpuSeconds } - cpuSendersBefore
            let perMessage = { (cpu: Double) in sent > 0 ? cpu / Double(sent) * 1_000_000 : 0 }
            lines.append(String(format: "%d sender%@: %d sent in %.1f s, %.0f msg/s; CPU µs per message: senders %.1f, every process of the run %.1f",
                                senders, senders == 1 ? " " : "s", sent, seconds, Double(sent) / max(seconds, 0.001),
                                perMessage(cpuSenders), perMessage(cpuAll)))
        }
        Output.line("one sender against three (no limit, Resend, \(count) each; the time includes the ~1 s counter sync):")
        for line in lines { Output.line("  " + line) }
    }
}
