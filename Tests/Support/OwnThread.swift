import Foundation

/// `body` on a thread of its own. A call that blocks (a child process run to its end, a statement waiting for a
/// lock, a database dropped) must not hold a thread of the cooperative pool: it has as many as the machine has
/// cores, so on two cores two such calls stop every other test of the run, and a test that waits on a timer
/// then fails for want of a thread, not for anything it tests.
public func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { (done: CheckedContinuation<T, any Error>) in
        Thread.detachNewThread { done.resume(with: Result { try body() }) }
    }
}

/// `onOwnThread` for a body that cannot fail: a socket driven byte by byte, a semaphore waited on.
public func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { (done: CheckedContinuation<T, Never>) in
        Thread.detachNewThread { done.resume(returning: body()) }
    }
}
