import Foundation
import HostCore
import ProviderModel

/// `bench e2e --tenants N`: the same recipients sent by one tenant, then split over N tenants (each
/// with a key, a send-config and a batch of its own) sent at once. Throughput of each pass comes from
/// the server's clocks (first send to last outcome); the N tenants' finishing times show how evenly
/// the senders served them.
struct TenantsRun {
    let run: DeliveryRun
    let provider: DeliveryRun.Provider
    let tenants: Int
    let makeKey: () throws -> String

    struct Pass {
        var tenants: Int
        var messages: Int
        var seconds: Double
        /// Seconds from the first send to each tenant's last outcome, sorted.
        var finishing: [Double]
        var completed: Bool
        var perSecond: Double { seconds > 0 ? Double(messages) / seconds : 0 }
    }

    /// One tenant alone and `tenants` at once, in either order (the database grows with every pass, so
    /// repeated runs alternate which goes first); each pass with addresses of its own from `offset` on.
    func measure(offset: Int, manyFirst: Bool, progress: (String) -> Void) async throws -> (one: Pass, many: Pass) {
        if manyFirst {
            let many = try await pass(tenants: tenants, offset: offset, progress: progress)
            return (try await pass(tenants: 1, offset: offset + run.recipients, progress: progress), many)
        }
        let one = try await pass(tenants: 1, offset: offset, progress: progress)
        return (one, try await pass(tenants: tenants, offset: offset + run.recipients, progress: progress))
    }

    /// Every tenant's batch uploaded first, then all sent at once, then watched until every one is done.
    func pass(tenants count: Int, offset: Int, progress: (String) -> Void) async throws -> Pass {
        let share = run.recipients / count
        var batches: [(api: APIClient, batchID: String)] = []
        for tenant in 0..<count {
            let api = APIClient(base: run.api.base, key: try makeKey(), http: run.api.http)
            let tenantRun = DeliveryRun(api: api, sandboxURL: run.sandboxURL, recipients: share)
            let config = try await tenantRun.createConfig(provider)
            batches.append((api, try await tenantRun.upload(provider, configID: config, count: share, offset: offset + tenant * share)))
        }
        await withTaskGroup(of: Void.self) { group in
            for (api, batchID) in batches { group.addTask { _ = try? await api.call("POST", "/api/batches/\(batchID)/send") } }
        }
        var details: [JSONValue] = []
        var lastLine = Date.distantPast
        while true {
            details = []
            for (api, batchID) in batches { details.append(try await api.call("GET", "/api/batches/\(batchID)")) }
            let done = details.filter { ["completed", "failed", "cancelled"].contains($0["status"]?.stringValue ?? "") }.count
            let sent = details.reduce(0) { $0 + ($1["counts"]?["sent"]?.int ?? 0) }
            if Date().timeIntervalSince(lastLine) >= 1 || done == batches.count {
                progress("\(count) tenant\(count == 1 ? "" : "s"): \(sent)/\(share * count) sent, \(done)/\(count) batches done")
                lastLine = Date()
            }
            if done == batches.count { break }
            try await Task.sleep(for: .milliseconds(500))
        }
        let queued = details.compactMap { $0["queuedAt"]?.stringValue.flatMap(ISO8601.milliseconds) }
        let finished = details.compactMap { $0["progress"]?["lastOutcomeAt"]?.stringValue.flatMap(ISO8601.milliseconds) }
        let start = queued.min() ?? 0
        let messages = details.reduce(0) { $0 + ($1["counts"]?["sent"]?.int ?? 0) + ($1["counts"]?["failed"]?.int ?? 0) }
        return Pass(tenants: count, messages: messages, seconds: Double((finished.max() ?? start) - start) / 1000,
                    finishing: finished.map { Double($0 - start) / 1000 }.sorted(),
                    completed: details.allSatisfy { $0["status"]?.stringValue == "completed" })
    }
}
