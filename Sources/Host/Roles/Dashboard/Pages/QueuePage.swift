import Domain
import Hummingbird
import ProviderModel

/// The sender's work queue (`GET /api/queue`): batches on their way with what each still owes, those in retry,
/// paused ones and when handed-back chunks are due; single messages waiting; their queue's backlog.
struct QueuePage {
    let renderer: PageRenderer
    let api: SignedInAPI

    func register(on router: Router<WebContext>) {
        router.get("queue") { _, context in try await self.page(context: context) }
    }

    private func page(context: WebContext) async throws -> Response {
        _ = try context.user()
        let queue = try await api.call(.get, "/api/queue", context: context)
        guard queue.ok else { throw WebRefusal.refused(queue.status, queue.problem) }
        let batches = queue.json["batches"]?.arrayValue ?? []
        var values: [String: Any] = [
            "title": "Queue", "section": "queue",
            "rows": batches.map { batch -> [String: Any] in
                ["id": batch["id"]?.display ?? "", "name": batch["name"]?.display ?? "", "status": batch["status"]?.display ?? "",
                 RecipientStatus.pending.rawValue: batch[RecipientStatus.pending.rawValue]?.display ?? "", "inRetry": batch["inRetry"]?.display ?? "",
                 "paused": batch["pausedAt"]?.display ?? "", "due": batch["nextDueAt"]?.display ?? ""]
            },
            "waiting": queue.json["messages"]?["waiting"]?.display ?? "0",
        ]
        if let consumer = queue.json["consumers"]?.arrayValue?.first {
            values["chunks"] = ["backlog": consumer["backlog"]?.display ?? "0", "inFlight": consumer["inFlight"]?.display ?? "0"]
        }
        return renderer.page("queue", values, context: context)
    }
}
