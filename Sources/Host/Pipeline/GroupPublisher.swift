import Foundation
import Storage

/// Publishes messages for many concurrent callers and tells each when
/// JetStream has acknowledged its own: callers queue, one thread of its own
/// publishes whatever is queued as one asynchronous window and waits for the
/// acks, so a thousand waiting requests cost one round of acks, not a
/// thousand. Bounded: past `limit` waiting callers, `publish` refuses at once.
public final class GroupPublisher: @unchecked Sendable {
    private struct Waiting {
        var message: OutgoingMessage
        var continuation: CheckedContinuation<Void, any Error>
    }

    private let jetStream: JetStream
    private let limit: Int
    private let timeoutMs: Int64
    private let condition = NSCondition()
    private var queue: [Waiting] = []
    private var stopping = false
    private var thread: Thread?
    private let stopped = DispatchSemaphore(value: 0)

    public init(jetStream: JetStream, limit: Int, timeoutMs: Int64) {
        self.jetStream = jetStream
        self.limit = limit
        self.timeoutMs = timeoutMs
        let thread = Thread { [unowned self] in self.loop() }
        thread.name = "webhook-publisher"
        self.thread = thread
        thread.start()
    }

    /// Returns once JetStream stored the message; throws when it did not, or when too many wait already.
    public func publish(_ message: OutgoingMessage) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            condition.lock()
            guard !stopping, queue.count < limit else {
                let reason = stopping ? "the receiver is shutting down" : "\(limit) webhooks already wait to be stored"
                condition.unlock()
                continuation.resume(throwing: PublishRefused(reason: reason))
                return
            }
            queue.append(Waiting(message: message, continuation: continuation))
            condition.signal()
            condition.unlock()
        }
    }

    /// Callers waiting now (a gauge for metrics and tests).
    public var waiting: Int {
        condition.lock()
        defer { condition.unlock() }
        return queue.count
    }

    /// Publishes what is queued, then ends the thread.
    public func stop() {
        condition.lock()
        stopping = true
        condition.signal()
        condition.unlock()
        stopped.wait()
    }

    private func loop() {
        while true {
            condition.lock()
            while queue.isEmpty && !stopping { condition.wait() }
            if queue.isEmpty && stopping {
                condition.unlock()
                stopped.signal()
                return
            }
            let taken = queue.prefix(2_000)
            queue.removeFirst(taken.count)
            condition.unlock()
            let result: Result<Void, any Error>
            do {
                try jetStream.publish(taken.map(\.message), timeoutMs: timeoutMs)
                result = .success(())
            } catch {
                result = .failure(error)
            }
            for waiting in taken { waiting.continuation.resume(with: result) }
        }
    }
}

public struct PublishRefused: Error, Sendable, CustomStringConvertible {
    public var reason: String
    public var description: String { "not stored: \(reason)" }
}
