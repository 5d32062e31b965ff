import Hummingbird
import Services

/// `GET /api/queue` (the caller's batches on their way, single messages waiting and their own consumer's backlog)
/// and `GET /admin/queue` (the same for every tenant, with every consumer of the work stream).
struct QueueRoutes {
    let queue: QueueService

    func register(on group: RouterGroup<APIContext>) {
        group.get("queue") { _, context in
            JSONResponse.make(.ok, text: try await queue.view(userID: try context.caller().userID))
        }
    }

    func registerAdmin(on group: RouterGroup<APIContext>) {
        group.get("queue") { _, _ in JSONResponse.make(.ok, text: try await queue.view(userID: nil)) }
    }
}
