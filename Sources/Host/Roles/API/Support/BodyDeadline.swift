import Hummingbird
import NIOCore
import Services

/// Reading a request body within the API's time budget (`[api] body_timeout_ms`): a client that sends
/// too slowly is answered 408 and holds nothing longer. Nothing read is used once the budget is spent:
/// the reader is cancelled, and a cancelled reader's end of body is not taken for the body's end.
enum BodyDeadline {
    static func within<T: Sendable>(_ budget: Duration, _ read: @escaping @Sendable () async throws -> T) async throws(APIError) -> T {
        do {
            return try await withThrowingTaskGroup(of: T?.self) { group in
                group.addTask {
                    let value = try await read()
                    try Task.checkCancellation()
                    return value
                }
                group.addTask {
                    try? await Task.sleep(for: budget)
                    return nil
                }
                defer { group.cancelAll() }
                guard let first = try await group.next(), let value = first else {
                    let seconds = budget.components.seconds
                    throw APIError.timeout("the request body did not arrive within \(seconds) s; send it faster or in smaller parts")
                }
                return value
            }
        } catch let error as APIError {
            throw error
        } catch is NIOTooManyBytesError {
            throw APIError.tooLarge("the body is too large", field: "body")
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw APIError.tooLarge("the body is too large", field: "body")
        } catch {
            throw APIError.badRequest("the body could not be read: \(error)", field: "body")
        }
    }
}
